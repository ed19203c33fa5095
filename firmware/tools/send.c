/*
 * `zerobmc send`: one command to one agent, or to a group, and its
 * result(s), with exit statuses a script can act on.
 *
 * Before sending, the tool learns what the broker holds (the retained
 * status, and for a group the members' retained states): it publishes a
 * probe to its own reply topic after subscribing, and the broker hands
 * back what it retained before the probe.
 */
#include "firmware/tools/send.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "firmware/tools/fleet_client.h"
#include "firmware/tools/fleet_print.h"

#define SEND_DEFAULT_TIMEOUT_MS 30000
#define SEND_MEMBERS_MAX 4096

enum send_answer {
	ANS_NONE,
	ANS_OK,
	ANS_FAILED, /* error, busy or cancelled */
};

struct send_member {
	char id[TOPICS_ID_MAX + 1];
	bool in_group; /* its retained state names the group */
	bool online;
	enum send_answer answer;
	uint64_t ms;
	cJSON *result;
};

struct send {
	struct fleet f;
	const char *agent; /* NULL for a group */
	const char *cmd;
	const char *payload;
	char id[64];
	char topic[TOPICS_MAX + 64];
	char *body; /* the payload sent, with our id */
	/* MQTT 5 response topic: under the agent's own topics, which an ACL
	 * lets it write (ha-integration/examples/mosquitto-acl). */
	char reply[TOPICS_MAX + 96];
	bool probed, sent, status_seen;
	uint64_t sent_us;
	struct send_member *members;
	size_t n_members;
};

static void send_usage(FILE *f)
{
	fprintf(f,
		"usage: zerobmc send [OPTIONS] ID CMD [PAYLOAD]\n"
		"       zerobmc send [OPTIONS] --group G CMD [JSON]\n"
		"\n"
		"Sends command CMD to agent ID (or to every agent of group G)\n"
		"and waits for the result. PAYLOAD is the command's plain "
		"text or\n"
		"a JSON object (topics/README.md); an \"id\" is added. "
		"Members of a\n"
		"group are the agents whose retained state lists it.\n"
		"\n"
		"  -g, --group G send to group G: a table of who answered "
		"what,\n"
		"                and who did not\n"
		"%s"
		"                (default 30 s)\n"
		"\n"
		"Exit status: 0 ok; 1 error or busy (or a failure here); 2 "
		"the\n"
		"agent is offline or unknown; 3 no result in time. For a "
		"group: 1 if\n"
		"any member failed, else 3 if any did not answer, else 2 if "
		"any is\n"
		"offline.\n",
		fleet_common_help);
}

static struct send_member *send_member(struct send *s, const char *id, bool add)
{
	struct send_member *m;

	for (size_t i = 0; i < s->n_members; i++)
		if (!strcmp(s->members[i].id, id))
			return &s->members[i];
	if (!add || s->n_members == SEND_MEMBERS_MAX)
		return NULL;
	m = realloc(s->members, (s->n_members + 1) * sizeof(*m));
	if (!m)
		return NULL;
	s->members = m;
	m = &s->members[s->n_members++];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	return m;
}

/* The payload with our id, as JSON; plain text stays as it is. */
static int send_body(struct send *s, char *err, size_t errlen)
{
	const char *p = s->payload ? s->payload : "{}";
	cJSON *o, *id;

	p += strspn(p, " \t\r\n");
	if (*p != '{') {
		s->body = strdup(s->payload);
		return s->body ? 0 : -ENOMEM;
	}
	o = cJSON_Parse(p);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen,
			 "the payload starts with { but is not a "
			 "JSON object");
		cJSON_Delete(o);
		return -EINVAL;
	}
	id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (cJSON_IsString(id) && id->valuestring[0])
		snprintf(s->id, sizeof(s->id), "%s", id->valuestring);
	else if (!id)
		cJSON_AddStringToObject(o, "id", s->id);
	else {
		snprintf(err, errlen, "the payload's \"id\" must be a string");
		cJSON_Delete(o);
		return -EINVAL;
	}
	s->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s->body ? 0 : -ENOMEM;
}

static bool send_is_json(const struct send *s)
{
	return s->body[strspn(s->body, " \t\r\n")] == '{';
}

static void send_publish(struct send *s)
{
	int r;

	if (s->sent)
		return;
	if (!send_is_json(s) && mqtt_version(s->f.mqtt) != 5) {
		fprintf(stderr,
			"zerobmc send: the broker speaks MQTT 3.1.1, so a "
			"plain payload's result cannot be told apart: give "
			"JSON, e.g. '{\"keys\":\"enter\"}'\n");
		fleet_finish(&s->f, FLEET_ERROR);
		return;
	}
	s->sent_us = loop_now_us();
	if (s->agent)
		r = mqtt_publish_request(s->f.mqtt, s->topic, s->body,
					 strlen(s->body), s->reply, s->id,
					 strlen(s->id));
	else
		r = mqtt_publish(s->f.mqtt, s->topic, s->body, strlen(s->body),
				 1, false, NULL, 0);
	if (r) {
		fprintf(stderr, "zerobmc send: publish: %s\n", strerror(-r));
		fleet_finish(&s->f, FLEET_ERROR);
		return;
	}
	s->sent = true;
}

static void send_on_online(struct fleet *f)
{
	struct send *s = f->data;

	/* After a reconnect the command is not sent twice (the same id
	 * would be refused anyway); the deadline still holds. */
	if (s->probed)
		return;
	fleet_probe(f);
}

static int send_group_exit(struct send *s, FILE *out)
{
	bool failed = false, silent = false, offline = false;
	for (size_t i = 0; i < s->n_members; i++) {
		struct send_member *m = &s->members[i];
		const char *what = m->answer == ANS_OK	     ? "ok"
				   : m->answer == ANS_FAILED ? "failed"
				   : !m->online		     ? "offline"
							     : "no answer";

		if (!m->in_group && m->answer == ANS_NONE)
			continue;
		failed |= m->answer == ANS_FAILED;
		silent |= m->answer == ANS_NONE && m->online;
		offline |= m->answer == ANS_NONE && !m->online;
		if (s->f.opts.json) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "answer", what);
			if (m->answer != ANS_NONE)
				cJSON_AddNumberToObject(o, "ms", (double)m->ms);
			if (m->result) {
				cJSON_AddItemToObject(o, "result", m->result);
				m->result = NULL;
			}
			fleet_print_json(out, m->id, "send", o);
		} else if (m->result) {
			fprintf(out, "%-24s %6llu ms  ", m->id,
				(unsigned long long)m->ms);
			fleet_print_result(out, "", m->result);
		} else {
			fprintf(out, "%-24s %9s  %s\n", m->id, "-", what);
		}
	}
	return failed	 ? FLEET_ERROR
	       : silent	 ? FLEET_TIMEOUT
	       : offline ? FLEET_OFFLINE
			 : FLEET_OK;
}

static void send_group_maybe_done(struct send *s)
{
	for (size_t i = 0; i < s->n_members; i++)
		if (s->members[i].in_group && s->members[i].online &&
		    s->members[i].answer == ANS_NONE)
			return;
	fleet_finish(&s->f, send_group_exit(s, stdout));
}

/* What the broker retained has arrived: send, or say why not. */
static void send_on_probe(struct send *s)
{
	size_t n = 0;

	s->probed = true;
	if (s->agent) {
		if (!s->status_seen) {
			fprintf(stderr,
				"zerobmc send: agent %s is unknown on this "
				"broker (no retained status)\n",
				s->agent);
			fleet_finish(&s->f, FLEET_OFFLINE);
		}
		return;
	}
	for (size_t i = 0; i < s->n_members; i++)
		n += s->members[i].in_group;
	if (!n) {
		fprintf(stderr,
			"zerobmc send: no agent on this broker is in group "
			"%s (none lists it in its retained state)\n",
			s->f.opts.group);
		fleet_finish(&s->f, FLEET_OFFLINE);
		return;
	}
	send_publish(s);
	send_group_maybe_done(s);
}

static void send_on_status(struct send *s, struct send_member *m,
			   const struct mqtt_msg *msg)
{
	bool online = msg->len == 6 && !memcmp(msg->payload, "online", 6);

	if (m)
		m->online = online;
	if (!s->agent) {
		if (s->probed && s->sent)
			send_group_maybe_done(s);
		return;
	}
	s->status_seen = true;
	if (online) {
		send_publish(s);
		return;
	}
	fprintf(stderr, "zerobmc send: agent %s is offline\n", s->agent);
	fleet_finish(&s->f, FLEET_OFFLINE);
}

static void send_on_state(struct send *s, struct send_member *m,
			  const struct mqtt_msg *msg)
{
	cJSON *st = cJSON_ParseWithLength(msg->payload, msg->len);
	const cJSON *g, *it;

	if (!m)
		goto out;
	g = cJSON_GetObjectItemCaseSensitive(st, "groups");
	m->in_group = false;
	cJSON_ArrayForEach(it, g)
	{
		if (cJSON_IsString(it) &&
		    !strcmp(it->valuestring, s->f.opts.group))
			m->in_group = true;
	}
out:
	cJSON_Delete(st);
}

static void send_on_result(struct send *s, const char *agent,
			   const struct mqtt_msg *msg, bool by_correlation)
{
	cJSON *res = cJSON_ParseWithLength(msg->payload, msg->len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(res, "id");
	struct send_member *m;

	if (!cJSON_IsObject(res))
		goto out;
	if (!by_correlation &&
	    !(cJSON_IsString(id) && !strcmp(id->valuestring, s->id)))
		goto out;
	if (s->agent) {
		int code = fleet_result_exit(res) ? FLEET_ERROR : FLEET_OK;

		if (s->f.opts.json) {
			fleet_print_json(stdout, s->agent, "result", res);
			res = NULL;
		} else {
			fleet_print_result(stdout, s->agent, res);
		}
		fleet_finish(&s->f, code);
		goto out;
	}
	m = send_member(s, agent, true);
	if (!m || m->answer != ANS_NONE)
		goto out;
	m->answer = fleet_result_exit(res) ? ANS_FAILED : ANS_OK;
	m->ms = (loop_now_us() - s->sent_us) / 1000;
	m->result = res;
	res = NULL;
	send_group_maybe_done(s);
out:
	cJSON_Delete(res);
}

static void send_on_message(struct fleet *f, const struct mqtt_msg *msg)
{
	struct send *s = f->data;
	char id[TOPICS_ID_MAX + 1];
	const char *name;
	struct send_member *m;

	if (fleet_is_probe(f, msg)) {
		if (!s->probed)
			send_on_probe(s);
		return;
	}
	if (s->agent && !strcmp(msg->topic, s->reply)) {
		if (msg->correlation && msg->correlation_len == strlen(s->id) &&
		    !memcmp(msg->correlation, s->id, msg->correlation_len))
			send_on_result(s, s->agent, msg, true);
		return;
	}
	if (!fleet_topic_id(f, msg->topic, id, sizeof(id), &name))
		return;
	m = s->agent ? NULL
		     : send_member(s, id,
				   !strcmp(name, "state") ||
					   !strcmp(name, "status"));
	if (!strcmp(name, "status"))
		send_on_status(s, m, msg);
	else if (!strcmp(name, "state"))
		send_on_state(s, m, msg);
	else if (!strcmp(name, "result") && s->sent)
		send_on_result(s, id, msg, false);
}

static void send_on_deadline(struct fleet *f)
{
	struct send *s = f->data;

	if (!s->agent && s->probed) {
		fleet_finish(f, send_group_exit(s, stdout));
		return;
	}
	if (!s->probed && !s->sent)
		fprintf(stderr,
			"zerobmc send: no status from the broker within %.1f "
			"s (does an ACL deny reading %s or %s?)\n",
			f->opts.timeout_ms / 1000.0,
			s->agent ? "status" : "state", f->probe_topic);
	else
		fprintf(stderr, "zerobmc send: no result within %.1f s\n",
			f->opts.timeout_ms / 1000.0);
	fleet_finish(f, FLEET_TIMEOUT);
}

static int send_subscribe(struct send *s)
{
	char t[TOPICS_MAX + 64];
	const char *who = s->agent ? s->agent : "+";
	int r = 0;

	fleet_topic(&s->f, t, sizeof(t), who, "status");
	r |= fleet_subscribe(&s->f, t);
	fleet_topic(&s->f, t, sizeof(t), who, "result");
	r |= fleet_subscribe(&s->f, t);
	if (!s->agent) {
		fleet_topic(&s->f, t, sizeof(t), who, "state");
		r |= fleet_subscribe(&s->f, t);
	} else {
		/* Outside the agents' tree: an agent refuses to answer
		 * under it (it would publish there with its rights). */
		snprintf(s->reply, sizeof(s->reply), "reply/%s/%s", s->agent,
			 s->f.cfg.mqtt.client_id);
		r |= fleet_subscribe(&s->f, s->reply);
	}
	return r ? -ENOMEM : 0;
}

int send_main(int argc, char **argv, const struct config *cfg)
{
	static const struct fleet_ops ops = {
		.online = send_on_online,
		.message = send_on_message,
		.deadline = send_on_deadline,
	};
	struct fleet_opts o = {.timeout_ms = SEND_DEFAULT_TIMEOUT_MS};
	struct send s = {0};
	char err[600] = "";
	int i, r, left;

	i = fleet_parse_opts("send", argc, argv, &o);
	if (i == -1) {
		send_usage(stdout);
		return FLEET_OK;
	}
	left = argc - i;
	if (i < 0 || o.watch || left < (o.group ? 1 : 2) ||
	    left > (o.group ? 2 : 3)) {
		send_usage(stderr);
		return FLEET_USAGE;
	}
	if (!o.group) {
		s.agent = argv[i++];
		if (!config_id_valid(s.agent)) {
			fprintf(stderr,
				"zerobmc send: \"%s\" is not an agent id "
				"([A-Za-z0-9_-], 1 to 64)\n",
				s.agent);
			return FLEET_USAGE;
		}
	}
	s.cmd = argv[i++];
	s.payload = i < argc ? argv[i] : NULL;
	if (!config_id_valid(s.cmd)) {
		fprintf(stderr, "zerobmc send: \"%s\" is not a command name\n",
			s.cmd);
		return FLEET_USAGE;
	}
	snprintf(s.id, sizeof(s.id), "cli-%d-%llx", (int)getpid(),
		 (unsigned long long)loop_now_us());
	r = send_body(&s, err, sizeof(err));
	if (!r && o.group && !send_is_json(&s)) {
		snprintf(err, sizeof(err),
			 "--group needs a JSON payload (the results' \"id\" "
			 "tells the answers apart), e.g. "
			 "'{\"keys\":\"enter\"}'");
		r = -EINVAL;
	}
	if (r) {
		/* The command line is at fault, not the broker or agent. */
		fprintf(stderr, "zerobmc send: %s\n",
			err[0] ? err : strerror(-r));
		free(s.body);
		return FLEET_USAGE;
	}
	r = fleet_open(&s.f, "send", &o, &ops, &s, err, sizeof(err));
	if (!r) {
		if (o.group)
			snprintf(s.topic, sizeof(s.topic), "%s/group/%s/cmd/%s",
				 s.f.cfg.agent.base_topic, o.group, s.cmd);
		else
			snprintf(s.topic, sizeof(s.topic), "%s/%s/cmd/%s",
				 s.f.cfg.agent.base_topic, s.agent, s.cmd);
		r = send_subscribe(&s);
	}
	if (r) {
		fprintf(stderr, "zerobmc send: %s\n",
			err[0] ? err : strerror(-r));
		r = FLEET_ERROR;
	} else {
		r = fleet_run(&s.f);
	}
	if (s.f.loop)
		fleet_close(&s.f);
	for (size_t k = 0; k < s.n_members; k++)
		cJSON_Delete(s.members[k].result);
	free(s.members);
	free(s.body);
	(void)cfg;
	return r;
}
