/*
 * The SessionService: POST UserName/Password for a 128-bit token (sent
 * back as X-Auth-Token), valid until [redfish] session_timeout_s passes
 * without use or the session is DELETEd.
 */
#include <stdio.h>
#include <string.h>

#include "redfish/rf.h"

#define RF_SESSIONS "/redfish/v1/SessionService/Sessions"

static bool rf_session_expired(const struct rf_gw *g,
			       const struct rf_session *s, uint64_t now)
{
	return now - s->last_ms > (uint64_t)g->cfg.session_timeout_s * 1000;
}

static void rf_session_drop(struct rf_gw *g, int i)
{
	g->sessions[i] = g->sessions[--g->n_sessions];
}

static void rf_session_expire(struct rf_gw *g)
{
	uint64_t now = loop_now_ms();

	for (int i = 0; i < g->n_sessions;)
		if (rf_session_expired(g, &g->sessions[i], now))
			rf_session_drop(g, i);
		else
			i++;
}

int rf_session_lookup(struct rf_gw *g, const char *token)
{
	rf_session_expire(g);
	for (int i = 0; i < g->n_sessions; i++) {
		struct rf_session *s = &g->sessions[i];

		if (strlen(token) == 32 && !strcmp(s->token, token)) {
			s->last_ms = loop_now_ms();
			return s->user;
		}
	}
	return -1;
}

static cJSON *rf_session_doc(struct rf_gw *g, const struct rf_session *s)
{
	cJSON *o = cJSON_CreateObject();
	char id[128];

	snprintf(id, sizeof(id), RF_SESSIONS "/%s", s->id);
	cJSON_AddStringToObject(o, "@odata.id", id);
	cJSON_AddStringToObject(o, "@odata.type", "#Session.v1_3_0.Session");
	cJSON_AddStringToObject(o, "Id", s->id);
	cJSON_AddStringToObject(o, "Name", "User Session");
	cJSON_AddStringToObject(o, "UserName", g->users[s->user].name);
	return o;
}

static void rf_session_create(struct rf_gw *g, struct rf_request *q,
			      struct rf_reply *r)
{
	const char *name = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(q->body, "UserName"));
	const char *pw = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(q->body, "Password"));
	struct rf_session *s;
	int u;

	if (!name || !pw) {
		rf_error(r, 400, "PropertyMissing",
			 "UserName and Password (strings) are required");
		return;
	}
	u = rf_users_check(g->users, g->n_users, name, pw);
	if (u < 0) {
		rf_error(r, 401, "NoValidSession",
			 "wrong user name or password");
		return;
	}
	rf_session_expire(g);
	if (g->n_sessions == RF_SESSIONS_MAX) {
		rf_error(r, 503, "SessionLimitExceeded",
			 "%d sessions are open: delete one first",
			 RF_SESSIONS_MAX);
		return;
	}
	s = &g->sessions[g->n_sessions];
	if (rf_random_hex(s->token, 16) || rf_random_hex(s->id, 8)) {
		rf_error(r, 500, "InternalError", "no randomness for a token");
		return;
	}
	s->user = u;
	s->last_ms = loop_now_ms();
	g->n_sessions++;
	r->status = 201;
	r->body = rf_session_doc(g, s);
	snprintf(r->location, sizeof(r->location), RF_SESSIONS "/%s", s->id);
	snprintf(r->token, sizeof(r->token), "%s", s->token);
}

static void rf_session_service(struct rf_gw *g, struct rf_reply *r)
{
	cJSON *o = cJSON_CreateObject(), *l;

	cJSON_AddStringToObject(o, "@odata.id", "/redfish/v1/SessionService");
	cJSON_AddStringToObject(o, "@odata.type",
				"#SessionService.v1_1_8.SessionService");
	cJSON_AddStringToObject(o, "Id", "SessionService");
	cJSON_AddStringToObject(o, "Name", "Session Service");
	cJSON_AddBoolToObject(o, "ServiceEnabled", true);
	cJSON_AddNumberToObject(o, "SessionTimeout", g->cfg.session_timeout_s);
	l = cJSON_AddObjectToObject(o, "Sessions");
	cJSON_AddStringToObject(l, "@odata.id", RF_SESSIONS);
	r->status = 200;
	r->body = o;
}

static void rf_session_list(struct rf_gw *g, struct rf_request *q,
			    struct rf_reply *r)
{
	cJSON *o = cJSON_CreateObject(), *m, *one;
	char id[128];
	int n = 0;

	rf_session_expire(g);
	cJSON_AddStringToObject(o, "@odata.id", RF_SESSIONS);
	cJSON_AddStringToObject(o, "@odata.type",
				"#SessionCollection.SessionCollection");
	cJSON_AddStringToObject(o, "Name", "Sessions");
	m = cJSON_AddArrayToObject(o, "Members");
	for (int i = 0; i < g->n_sessions; i++) {
		if (g->sessions[i].user != q->user)
			continue;
		one = cJSON_CreateObject();
		snprintf(id, sizeof(id), RF_SESSIONS "/%s", g->sessions[i].id);
		cJSON_AddStringToObject(one, "@odata.id", id);
		cJSON_AddItemToArray(m, one);
		n++;
	}
	cJSON_AddNumberToObject(o, "Members@odata.count", n);
	r->status = 200;
	r->body = o;
}

/* One session of the caller's own; others are not there for them. */
static void rf_session_one(struct rf_gw *g, struct rf_request *q,
			   struct rf_reply *r, const char *id)
{
	rf_session_expire(g);
	for (int i = 0; i < g->n_sessions; i++) {
		if (strcmp(g->sessions[i].id, id) ||
		    g->sessions[i].user != q->user)
			continue;
		if (!strcmp(q->method, "DELETE")) {
			rf_session_drop(g, i);
			r->status = 204;
		} else {
			r->status = 200;
			r->body = rf_session_doc(g, &g->sessions[i]);
		}
		return;
	}
	rf_error(r, 404, "ResourceMissingAtURI", "no session %s", id);
}

bool rf_session_handle(struct rf_gw *g, struct rf_request *q,
		       struct rf_reply *r)
{
	const char *p = q->path;
	bool get = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD");

	if (strncmp(p, "/redfish/v1/SessionService", 26))
		return false;
	if (!strcmp(p, RF_SESSIONS) && !strcmp(q->method, "POST"))
		rf_session_create(g, q, r);
	else if (q->user < 0)
		rf_error(r, 401, "NoValidSession", "authentication needed");
	else if (!strcmp(p, "/redfish/v1/SessionService") && get)
		rf_session_service(g, r);
	else if (!strcmp(p, RF_SESSIONS) && get)
		rf_session_list(g, q, r);
	else if (!strncmp(p, RF_SESSIONS "/", sizeof(RF_SESSIONS)) &&
		 (get || !strcmp(q->method, "DELETE")))
		rf_session_one(g, q, r, p + sizeof(RF_SESSIONS));
	else if (!strcmp(p, "/redfish/v1/SessionService") ||
		 !strcmp(p, RF_SESSIONS))
		rf_error(r, 405, "ActionNotSupported",
			 "%s is not allowed on %s", q->method, p);
	else
		rf_error(r, 404, "ResourceMissingAtURI", "no resource at %s",
			 p);
	return true;
}
