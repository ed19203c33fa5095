/*
 * The agent: the one owner of state. It wires the loop, the transport,
 * the MQTT session, the command pipeline and every capability together,
 * and is the only place (with main.c) that logs.
 */
#ifndef ZB_AGENT_H
#define ZB_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "firmware/core/config.h"
#include "firmware/core/loop.h"
#include "firmware/core/state.h"
#include "gadget/layout.h"
#include "gadget/typing.h"
#include "topics/payload.h"
#include "topics/result.h"
#include "topics/topics.h"

struct transport;
struct mqtt;
struct keyboard;
struct console;
struct media;
struct macros;
struct power;
struct hostwatch;
struct ha;
struct timeline;
struct outbox;

#define AGENT_DEDUP_MAX 1024
#define AGENT_DEDUP_MS (10 * 60 * 1000)

/* One command being executed; freed by agent_reply(). */
struct cmd_req {
	char name[TOPICS_CMD_NAME_MAX];
	struct payload p;
	char *response_topic;
	void *correlation;
	size_t correlation_len;
	uint64_t t0_us;
};

struct agent {
	struct config *cfg;
	struct loop *loop;
	struct topics topics;
	struct transport *transport;
	struct mqtt *mqtt;
	struct outbox *outbox; /* results, kept through a full Paho queue */
	struct state state;
	int state_timer;
	int heartbeat_timer;
	int signal_fd;
	bool quitting;
	uint64_t start_ms;
	uint64_t start_unix;
	char link_error[256];
	uint64_t link_error_at;
	uint64_t commands, errors;

	/* Keyboard. */
	struct keyboard *kb;
	const struct layout *layout;
	enum typing_profile profile;
	struct cmd_req *kb_req; /* the command whose keyboard job runs */

	/* Capabilities, NULL until built or when not configured. */
	struct hostwatch *host;
	struct console *console;
	struct media *media;
	struct macros *macros;
	struct power *power;
	struct ha *ha;
	struct timeline *timeline;

	struct {
		char id[PAYLOAD_ID_MAX + 1];
		uint64_t at_ms;
	} dedup[AGENT_DEDUP_MAX];
	int dedup_next;
};

int agent_init(struct agent *a, struct config *cfg, struct loop *l);
int agent_run(struct agent *a);
void agent_fini(struct agent *a);

/* Finish a command: publish its result and free it. extra is consumed. */
void agent_reply(struct agent *a, struct cmd_req *req,
		 enum result_status status, const char *error, cJSON *extra);
/* Something in the state document changed: republish soon. */
void agent_state_dirty(struct agent *a);
/* Publish on one of our topics (QoS 0 unless said). */
int agent_publish(struct agent *a, enum topics_pub which, const char *payload,
		  size_t len, int qos, bool retain);

#endif
