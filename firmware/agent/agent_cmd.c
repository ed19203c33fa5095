/*
 * The command pipeline: a message on a command topic becomes a struct
 * cmd_req (checked, deduplicated), goes to the capability that serves
 * it, and comes back through agent_reply() as a result. Also the
 * interface handed to the capabilities (agent/cap.h).
 */
#include "firmware/agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/agent/commands.h"
#include "firmware/core/log.h"
#include "firmware/host/timeline.h"
#include "firmware/net/mqtt.h"
#include "firmware/net/outbox.h"
#include "ha-integration/ha.h"

/*
 * The audit trail: one line per command at the default level, whatever
 * its outcome. It names the command, never its payload: typed text and
 * console data stay out of the journal. log_msg escapes control
 * characters, so an id or topic cannot forge a line.
 */
static void agent_audit(const struct cmd_req *req, enum result_status status,
			const char *error)
{
	uint64_t ms = (loop_now_us() - req->t0_us) / 1000;

	log_info("command %s id \"%s\" topic %s response %s%s: %s%s%s "
		 "(%llu ms)",
		 req->name, req->p.id, req->topic ? req->topic : "-",
		 req->response_topic ? req->response_topic : "-",
		 req->response_refused ? " (refused)" : "",
		 result_status_name(status),
		 error && status != RESULT_OK ? ": " : "",
		 error && status != RESULT_OK ? error : "",
		 (unsigned long long)ms);
}

/*
 * A result goes to the response topic only outside the agents' own tree
 * and the discovery prefix: else whoever may command this agent could
 * make it publish (with its rights) over another agent's commands or
 * state, or over Home Assistant's entities.
 */
static const char *agent_response_refusal(const struct agent *a, const char *t)
{
	const char *bases[] = {a->cfg->agent.base_topic,
			       a->cfg->homeassistant.prefix};

	if (!t[0])
		return "response topic refused: empty";
	if (strpbrk(t, "+#"))
		return "response topic refused: it holds a wildcard (+ or #)";
	if (t[0] == '$')
		return "response topic refused: topics starting with $ belong "
		       "to the broker";
	for (const char *c = t; *c; c++)
		if ((unsigned char)*c < 0x20)
			return "response topic refused: control character";
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		size_t n = strlen(bases[i]);

		if (!strncmp(t, bases[i], n) && (t[n] == '/' || !t[n]))
			return i == 0 ? "response topic refused: it is under "
					"the agents' base topic; use one "
					"outside it, such as reply/<agent "
					"id>/<you>"
				      : "response topic refused: it is under "
					"the Home Assistant discovery prefix";
	}
	return NULL;
}

static void agent_reply(void *data, struct cmd_req *req,
			enum result_status status, const char *error,
			cJSON *extra)
{
	struct agent *a = data;
	char *doc = result_build(req->p.id, req->name, status, error, extra);

	if (status != RESULT_OK)
		a->errors++;
	timeline_command(a->h.timeline, req->name, result_status_name(status));
	agent_audit(req, status, error);
	if (doc) {
		outbox_publish(a->outbox, a->topics.pub[TOPIC_RESULT], doc,
			       strlen(doc), 1, false, NULL, 0);
		if (req->response_topic && !req->response_refused)
			outbox_publish(a->outbox, req->response_topic, doc,
				       strlen(doc), 1, false, req->correlation,
				       req->correlation_len);
		free(doc);
	}
	cmd_req_free(req);
	agent_state_with_result(a);
}

static void agent_state_dirty_op(void *data)
{
	struct agent *a = data;

	agent_state_dirty(a);
}

static int agent_publish_op(void *data, const char *topic, const void *payload,
			    size_t len, int qos, bool retain)
{
	struct agent *a = data;

	if (!a->mqtt) /* capabilities start before the session exists */
		return -ENOTCONN;
	return mqtt_publish(a->mqtt, topic, payload, len, qos, retain, NULL, 0);
}

static int agent_publish_event(void *data, const char *topic,
			       const char *payload, size_t len)
{
	struct agent *a = data;

	if (!a->outbox)
		return -ENOTCONN;
	return outbox_publish(a->outbox, topic, payload, len, 0, false, NULL,
			      0);
}

static int agent_publish_tracked(void *data, const char *topic,
				 const void *payload, size_t len,
				 void (*acked)(void *data, uint64_t tag,
					       bool ok),
				 void *acked_data, uint64_t tag)
{
	struct agent *a = data;

	if (!a->mqtt)
		return -ENOTCONN;
	return mqtt_publish_tracked(a->mqtt, topic, payload, len, false, NULL,
				    0, acked, acked_data, tag, false);
}

static bool agent_online(void *data)
{
	struct agent *a = data;

	return mqtt_is_online(a->mqtt);
}

static int agent_subscribe(void *data, const char *filter)
{
	struct agent *a = data;

	return mqtt_add_subscription(a->mqtt, filter);
}

const struct cap_ops agent_cap_ops = {
	.reply = agent_reply,
	.state_dirty = agent_state_dirty_op,
	.publish = agent_publish_op,
	.publish_event = agent_publish_event,
	.publish_tracked = agent_publish_tracked,
	.online = agent_online,
	.subscribe = agent_subscribe,
};

/* True if id was seen in the last AGENT_DEDUP_MS; remembers it if not. */
static bool agent_dedup(struct agent *a, const char *id)
{
	uint64_t now = loop_now_ms();

	if (!id[0])
		return false;
	for (int i = 0; i < AGENT_DEDUP_MAX; i++)
		if (a->dedup[i].at_ms &&
		    now - a->dedup[i].at_ms < AGENT_DEDUP_MS &&
		    !strcmp(a->dedup[i].id, id))
			return true;
	snprintf(a->dedup[a->dedup_next].id, sizeof(a->dedup[0].id), "%s", id);
	a->dedup[a->dedup_next].at_ms = now ? now : 1;
	a->dedup_next = (a->dedup_next + 1) % AGENT_DEDUP_MAX;
	return false;
}

/* The agent's own command: republish state and discovery. */
static void agent_refresh(struct agent *a, struct cmd_req *req)
{
	static const char *const fields[] = {"events", NULL};
	cJSON *extra = NULL;
	char msg[128];
	long n = 0;
	int r;

	if (payload_check_fields(&req->p, fields, msg, sizeof(msg))) {
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	r = payload_int(&req->p, "events", 0, TIMELINE_HISTORY, &n);
	if (r == -EINVAL) {
		snprintf(msg, sizeof(msg),
			 "\"events\" must be a number from 0 to %d",
			 TIMELINE_HISTORY);
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	agent_state_dirty(a);
	if (a->h.ha)
		ha_republish(a->h.ha);
	if (n > 0 && a->h.timeline) {
		extra = cJSON_CreateObject();
		cJSON_AddItemToObject(extra, "events",
				      timeline_history(a->h.timeline, (int)n));
	}
	agent_reply(a, req, RESULT_OK, NULL, extra);
}

static void agent_command(struct agent *a, struct mqtt_msg *m, const char *name)
{
	struct cmd_req *req = calloc(1, sizeof(*req));
	const struct cap_command *def;
	char err[256];
	int cap = -1;

	if (!req)
		return;
	a->commands++;
	snprintf(req->name, sizeof(req->name), "%s", name);
	req->t0_us = loop_now_us();
	req->response_topic = m->response_topic;
	req->correlation = m->correlation;
	req->correlation_len = m->correlation_len;
	req->topic = m->topic;
	m->response_topic = NULL;
	m->correlation = NULL;
	m->topic = NULL;
	if (m->refused) {
		snprintf(req->p.id, sizeof(req->p.id), "%s", m->refused_id);
		agent_reply(a, req, RESULT_BUSY,
			    "the agent's inbound queue was full: this "
			    "command was not read; send it again",
			    NULL);
		return;
	}
	if (payload_parse(m->payload, m->len, a->cfg->agent.max_payload,
			  &req->p, err, sizeof(err))) {
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	if (req->response_topic) {
		const char *why =
			agent_response_refusal(a, req->response_topic);

		if (why) {
			req->response_refused = true;
			agent_reply(a, req, RESULT_ERROR, why, NULL);
			return;
		}
	}
	if (m->retained) {
		agent_reply(a, req, RESULT_ERROR,
			    "retained command refused: commands must be "
			    "published with retain false, or they replay on "
			    "every reconnect; clear it with an empty retained "
			    "message",
			    NULL);
		return;
	}
	if (agent_dedup(a, req->p.id)) {
		log_info("command %s id %s seen before: not run again", name,
			 req->p.id);
		cmd_req_free(req);
		return;
	}
	def = commands_find(name, &cap);
	if (!def) {
		char names[160];

		commands_names(names, sizeof(names));
		snprintf(err, sizeof(err), "unknown command \"%s\" (%s)", name,
			 names);
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	if (cap < 0) {
		agent_refresh(a, req);
		return;
	}
	if (!a->self[cap]) {
		snprintf(err, sizeof(err), "%s",
			 commands_caps[cap]->absent
				 ? commands_caps[cap]->absent
				 : "not available on this agent");
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	def->run(a->self[cap], req);
}

void agent_on_message(void *data, struct mqtt_msg *m)
{
	struct agent *a = data;
	char name[TOPICS_CMD_NAME_MAX];
	int r = topics_match_cmd(&a->topics, m->topic, name);

	if (r == -EINVAL) {
		struct cmd_req *req = calloc(1, sizeof(*req));

		if (req) {
			snprintf(req->name, sizeof(req->name), "?");
			req->t0_us = loop_now_us();
			req->topic = m->topic;
			m->topic = NULL;
			agent_reply(a, req, RESULT_ERROR,
				    "bad command name in topic (a-z, 0-9, _)",
				    NULL);
		}
	} else if (r == 0) {
		agent_command(a, m, name);
	} else if (!m->refused) {
		/* A refused message has no payload to give (see mqtt.h). */
		for (size_t i = 0; i < commands_n_caps; i++)
			if (a->self[i] && commands_caps[i]->message &&
			    commands_caps[i]->message(a->self[i], m->topic,
						      m->payload, m->len,
						      m->retained))
				break;
	}
	mqtt_msg_free(m);
}
