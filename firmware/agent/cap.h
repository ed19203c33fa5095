/*
 * The capability interface: what the agent hands a capability when it
 * attaches it, and the row by which the agent knows a capability.
 *
 * A capability (keyboard, console, media, macro, power, host, Home
 * Assistant) uses core/, gadget/, topics/ and this interface. It never
 * calls the agent, and reaches another capability only through a handle
 * taken from struct cap_handles at attach: a capability sees the handles
 * of those attached before it in the agent's table, never later ones.
 *
 * Every function of the interface runs on the loop's thread.
 */
#ifndef ZB_CAP_H
#define ZB_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "firmware/core/config.h"
#include "firmware/core/loop.h"
#include "firmware/core/state.h"
#include "topics/payload.h"
#include "topics/result.h"
#include "topics/topics.h"

/* One command being executed; the capability answers it exactly once. */
struct cmd_req {
	char name[TOPICS_CMD_NAME_MAX];
	struct payload p;
	char *response_topic;
	void *correlation;
	size_t correlation_len;
	uint64_t t0_us;
};

/* Free a command that is not answered (a duplicate, or at teardown). */
void cmd_req_free(struct cmd_req *req);

/* What the agent does for its capabilities. */
struct cap_ops {
	/* Publish the result of req and free it; extra is consumed. */
	void (*reply)(void *agent, struct cmd_req *req, enum result_status st,
		      const char *error, cJSON *extra);
	/* Something in the state document changed: republish soon. */
	void (*state_dirty)(void *agent);
	/* Publish now: -ENOTCONN while offline, -EAGAIN while full. */
	int (*publish)(void *agent, const char *topic, const void *payload,
		       size_t len, int qos, bool retain);
	/* Queue a QoS 0 message that outlives a full queue (the outbox). */
	int (*publish_event)(void *agent, const char *topic,
			     const char *payload, size_t len);
	/* The broker session is up. */
	bool (*online)(void *agent);
	/* Subscribe to a filter now and after every reconnect. */
	int (*subscribe)(void *agent, const char *filter);
};

struct hostwatch;
struct power_cap;
struct keyboard_cap;
struct media_cap;
struct console;
struct timeline;
struct macros;
struct boot;
struct ha;

/* The capabilities attached so far; NULL when absent or not yet attached. */
struct cap_handles {
	struct hostwatch *host;
	struct power_cap *power;
	struct keyboard_cap *keyboard;
	struct media_cap *media;
	struct console *console;
	struct timeline *timeline;
	struct macros *macros;
	struct boot *boot;
	struct ha *ha;
};

/* Handed to every capability at attach; it outlives every capability. */
struct cap {
	void *agent;
	const struct cap_ops *ops;
	struct loop *loop;
	const struct config *cfg;
	const struct topics *topics;
	struct state *state;
	const struct cap_handles *h;
};

static inline void cap_reply(const struct cap *c, struct cmd_req *req,
			     enum result_status st, const char *error,
			     cJSON *extra)
{
	c->ops->reply(c->agent, req, st, error, extra);
}

static inline void cap_state_dirty(const struct cap *c)
{
	c->ops->state_dirty(c->agent);
}

static inline int cap_publish(const struct cap *c, const char *topic,
			      const void *payload, size_t len, int qos,
			      bool retain)
{
	return c->ops->publish(c->agent, topic, payload, len, qos, retain);
}

static inline int cap_publish_event(const struct cap *c, const char *topic,
				    const char *payload, size_t len)
{
	return c->ops->publish_event(c->agent, topic, payload, len);
}

static inline bool cap_online(const struct cap *c)
{
	return c->ops->online(c->agent);
}

static inline int cap_subscribe(const struct cap *c, const char *filter)
{
	return c->ops->subscribe(c->agent, filter);
}

/* A command a capability serves: self is what its attach returned. */
typedef void (*cap_command_fn)(void *self, struct cmd_req *req);

struct cap_command {
	const char *name;
	cap_command_fn run;
	const char *summary;
};

/*
 * One row of the agent's capability table. The agent attaches rows in
 * table order; at shutdown it stops every row in reverse order (each
 * cancels its jobs and answers their commands, freeing nothing), then
 * detaches them in reverse order.
 */
struct cap_def {
	const char *name;
	/*
	 * Build the capability: *self is its handle (NULL when it is not
	 * configured, which is not an error). msg says what to log: a
	 * warning when attach fails, else information ("" for nothing).
	 * A failure leaves the agent running without the capability.
	 */
	int (*attach)(const struct cap *c, void **self, char *msg, size_t len);
	/* Cancel every job and answer its command; may be NULL. */
	void (*stop)(void *self);
	void (*detach)(void *self);
	/* The session is up (optional). */
	void (*online)(void *self);
	/* A message that is not a command: true if it was taken (optional). */
	bool (*message)(void *self, const char *topic, const void *payload,
			size_t len, bool retained);
	/* Commands served; their names are unique across the table. */
	const struct cap_command *commands;
	/* The error of those commands while the capability is absent. */
	const char *absent;
	/* Without it the agent cannot run: a failed attach stops it. */
	bool required;
	/* Where the handle goes in struct cap_handles. */
	size_t handle_offset;
};

#endif
