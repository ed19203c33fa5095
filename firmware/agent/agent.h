/*
 * The agent: the one owner of state. It wires the loop, the transport,
 * the MQTT session, the command pipeline and every capability together
 * (agent/cap.h), and is the only place (with main.c) that logs.
 */
#ifndef ZB_AGENT_H
#define ZB_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/agent/cap.h"
#include "firmware/core/config.h"
#include "firmware/core/loop.h"
#include "firmware/core/state.h"
#include "topics/topics.h"

struct transport;
struct mqtt;
struct outbox;

#define AGENT_DEDUP_MAX 1024
#define AGENT_DEDUP_MS (10 * 60 * 1000)
/* Rows in the capability table (agent/commands.c), at most. */
#define AGENT_CAPS_MAX 16

struct agent {
	struct config *cfg;
	struct loop *loop;
	struct topics topics;
	struct transport *transport;
	struct mqtt *mqtt;
	struct outbox *outbox; /* results, kept through a full Paho queue */
	struct state state;
	int state_timer;
	uint64_t state_sent_ms; /* when the state last went out */
	char *state_sent;	/* what went out, since the last connect */
	int heartbeat_timer;
	int signal_fd;
	bool quitting;
	uint64_t start_ms;
	uint64_t start_unix;
	char link_error[256];
	uint64_t link_error_at;
	uint64_t commands, errors;

	/* The capabilities: what each is handed, and what each gave. */
	struct cap cap;
	struct cap_handles h;
	void *self[AGENT_CAPS_MAX];
	bool attached[AGENT_CAPS_MAX];

	struct {
		char id[PAYLOAD_ID_MAX + 1];
		uint64_t at_ms;
	} dedup[AGENT_DEDUP_MAX];
	int dedup_next;
};

int agent_init(struct agent *a, struct config *cfg, struct loop *l);
int agent_run(struct agent *a);
void agent_fini(struct agent *a);

/* ---- inside the agent (agent.c, agent_cmd.c) ---- */

/* The interface handed to every capability. */
extern const struct cap_ops agent_cap_ops;
/* A message on a command topic, or on no command topic (m is taken). */
struct mqtt_msg;
void agent_on_message(void *data, struct mqtt_msg *m);
/* Something in the state document changed: republish soon. */
void agent_state_dirty(struct agent *a);
/* A result is going out: a pending state goes with it, unless one went
 * out within the coalescing window. */
void agent_state_with_result(struct agent *a);
/* Attach row i of the table unless it is already. */
int agent_cap_attach(struct agent *a, size_t i);

#endif
