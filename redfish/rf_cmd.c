/*
 * Commands to agents: <base>/<id>/cmd/<name> with a JSON payload whose
 * "id" is unique to the request, an MQTT 5 response topic of the
 * gateway's own and that id as correlation data. Each waits with a
 * deadline ([redfish] timeout_s, or long_timeout_s for a download or a
 * boot). A boot or a macro runs for minutes, longer than HTTP clients
 * wait: if it has not ended after accept_s (an early refusal comes in
 * milliseconds), the client gets 202 Accepted and the gateway logs the
 * outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/net/mqtt.h"
#include "redfish/rf.h"

static void rf_cmd_finish(struct rf_gw *g, struct rf_pending *p,
			  const cJSON *result)
{
	struct rf_pending **pp;

	for (pp = &g->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->timer > 0)
		loop_timer_cancel(g->loop, p->timer);
	if (p->accept_timer > 0)
		loop_timer_cancel(g->loop, p->accept_timer);
	p->done(g, p->conn, p->system, p->arg, result);
	if (p->conn)
		rf_conn_finish(g, p->conn);
	free(p);
}

void rf_cmd_accepted(struct rf_reply *r)
{
	cJSON_Delete(r->body);
	r->body = NULL;
	r->status = 202;
}

static void rf_cmd_on_accept(void *data)
{
	struct rf_pending *p = data;

	p->accept_timer = 0;
	if (!p->conn)
		return;
	rf_cmd_accepted(rf_conn_reply(p->conn));
	rf_conn_finish(p->gw, p->conn);
	p->conn = NULL;
}

static bool rf_cmd_is_long(const char *cmd, const cJSON *payload)
{
	return !strcmp(cmd, "boot") || !strcmp(cmd, "macro") ||
	       (!strcmp(cmd, "media") && cJSON_HasObjectItem(payload, "url"));
}

static void rf_cmd_timeout(void *data)
{
	struct rf_pending *p = data;

	p->timer = 0;
	rf_cmd_finish(p->gw, p, NULL);
}

int rf_cmd_send(struct rf_gw *g, struct rf_conn *c, const char *system,
		const char *cmd, cJSON *payload, rf_done_cb done,
		const char *arg)
{
	char topic[CONFIG_STR_MAX + TOPICS_ID_MAX + 64];
	struct rf_pending *p;
	char *text;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	snprintf(p->cid, sizeof(p->cid), "rf-%s-%llu", g->boot_nonce,
		 (unsigned long long)++g->seq);
	snprintf(p->system, sizeof(p->system), "%s", system);
	snprintf(p->arg, sizeof(p->arg), "%s", arg ? arg : "");
	p->conn = c;
	p->done = done;
	p->gw = g;
	cJSON_DeleteItemFromObjectCaseSensitive(payload, "id");
	cJSON_AddStringToObject(payload, "id", p->cid);
	text = cJSON_PrintUnformatted(payload);
	if (!text) {
		free(p);
		return -ENOMEM;
	}
	snprintf(topic, sizeof(topic), "%s/%s/cmd/%s",
		 g->cfg.net.agent.base_topic, system, cmd);
	r = mqtt_publish_request(g->mqtt, topic, text, strlen(text),
				 g->reply_topic, p->cid, strlen(p->cid));
	free(text);
	if (r) {
		free(p);
		return r;
	}
	p->timeout_s = rf_cmd_is_long(cmd, payload) ? g->cfg.long_timeout_s
						    : g->cfg.timeout_s;
	r = loop_timer_add(g->loop, (uint64_t)p->timeout_s * 1000,
			   rf_cmd_timeout, p);
	if (r < 0) {
		free(p);
		return r;
	}
	p->timer = r;
	if (c && (!strcmp(cmd, "boot") || !strcmp(cmd, "macro"))) {
		r = loop_timer_add(g->loop, (uint64_t)g->cfg.accept_s * 1000,
				   rf_cmd_on_accept, p);
		p->accept_timer = r > 0 ? r : 0;
	}
	p->next = g->pending;
	g->pending = p;
	return 0;
}

void rf_cmd_result(struct rf_gw *g, const void *corr, size_t corr_len,
		   const char *payload)
{
	struct rf_pending *p;
	cJSON *j;

	for (p = g->pending; p; p = p->next)
		if (strlen(p->cid) == corr_len &&
		    !memcmp(p->cid, corr, corr_len))
			break;
	if (!p)
		return;
	j = cJSON_Parse(payload);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "status", "error");
		cJSON_AddStringToObject(j, "error",
					"the agent's result is not JSON");
	}
	rf_cmd_finish(g, p, j);
	cJSON_Delete(j);
}

/* At shutdown every waiting request gets its answer: unavailable. */
void rf_cmd_cancel_all(struct rf_gw *g)
{
	while (g->pending) {
		struct rf_pending *p = g->pending;
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "status", "cancelled");
		cJSON_AddStringToObject(j, "error",
					"the Redfish gateway is stopping");
		rf_cmd_finish(g, p, j);
		cJSON_Delete(j);
	}
}

bool rf_cmd_reply(struct rf_gw *g, struct rf_reply *r, const cJSON *result,
		  const char *system)
{
	const char *st, *msg;

	if (!result) {
		rf_error(r, 504, "GeneralError",
			 "no answer from the agent of %s before the deadline "
			 "([redfish] timeout_s, long_timeout_s)",
			 system);
		return false;
	}
	st = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(result, "status"));
	msg = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(result, "error"));
	if (st && !strcmp(st, "ok")) {
		r->status = 204;
		return true;
	}
	if (st && (!strcmp(st, "busy") || !strcmp(st, "cancelled"))) {
		rf_error(r, 503, "ServiceTemporarilyUnavailable",
			 "%s is %s: %s", system,
			 !strcmp(st, "busy") ? "busy" : "interrupted",
			 msg ? msg : st);
		r->retry_after_s = g->cfg.retry_after_s;
		return false;
	}
	rf_error(r, 400, "ActionParameterNotSupported",
		 "the agent of %s refused: %s", system,
		 msg ? msg : "(no reason given)");
	return false;
}
