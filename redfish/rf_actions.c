/*
 * What Redfish actions and PATCHes become on the agents' topics: Reset
 * types to cmd/power and cmd/reboot (or, with a pending boot override,
 * cmd/boot and cmd/macro), InsertMedia and EjectMedia to cmd/media.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware/core/log.h"
#include "firmware/net/mqtt.h"
#include "redfish/rf.h"

enum rf_need {
	RF_NEED_NONE, /* the keyboard: always there */
	RF_NEED_POWER,
	RF_NEED_RESET,
	RF_NEED_START, /* the power pin, Wake-on-LAN or USB wakeup */
};

struct rf_reset {
	const char *type;
	enum rf_need need;
	const char *cmd;
	const char *field, *value; /* "action" or "mode" and its value */
	bool force;
	bool starts; /* starts the server: a boot override applies */
};

static const struct rf_reset rf_resets[] = {
	{"On", RF_NEED_START, "power", "action", "on", false, true},
	{"ForceOn", RF_NEED_POWER, "power", "action", "on", true, true},
	{"ForceOff", RF_NEED_POWER, "power", "action", "force_off", false,
	 false},
	{"GracefulShutdown", RF_NEED_POWER, "power", "action", "off", false,
	 false},
	{"ForceRestart", RF_NEED_RESET, "reboot", "mode", "hard", false, true},
	{"GracefulRestart", RF_NEED_NONE, "reboot", "mode", "soft", false,
	 true},
	{"PowerCycle", RF_NEED_POWER, "power", "action", "cycle", false, true},
	{"PushPowerButton", RF_NEED_POWER, "power", "action", "on", true,
	 false},
	{"Nmi", RF_NEED_NONE, "reboot", "mode", "sysrq", false, false},
	{NULL, RF_NEED_NONE, NULL, NULL, NULL, false, false},
};

static bool rf_actions_flag(const struct rf_system *s, const char *obj,
			    const char *key)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(s->state, "power");

	if (obj)
		p = cJSON_GetObjectItemCaseSensitive(p, obj);
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, key));
}

static bool rf_actions_wired(const struct rf_system *s, enum rf_need need)
{
	switch (need) {
	case RF_NEED_POWER:
		return rf_actions_flag(s, "wired", "power");
	case RF_NEED_RESET:
		return rf_actions_flag(s, "wired", "reset");
	case RF_NEED_START:
		return rf_actions_flag(s, "wired", "power") ||
		       rf_actions_flag(s, NULL, "wol") ||
		       rf_actions_flag(s, NULL, "usb_wake");
	default:
		return true;
	}
}

cJSON *rf_actions_reset_allowed(const struct rf_system *s)
{
	cJSON *a = cJSON_CreateArray();

	for (const struct rf_reset *t = rf_resets; t->type; t++)
		if (rf_actions_wired(s, t->need))
			cJSON_AddItemToArray(a, cJSON_CreateString(t->type));
	return a;
}

/* 503 unless the system's agent and the broker are there. */
static bool rf_actions_reachable(struct rf_gw *g, struct rf_reply *r,
				 const struct rf_system *s)
{
	if (!g->mqtt_online) {
		rf_error(r, 503, "ServiceTemporarilyUnavailable",
			 "the gateway is not connected to the broker");
		r->retry_after_s = g->cfg.retry_after_s;
		return false;
	}
	if (!s->online) {
		rf_error(r, 503, "ServiceTemporarilyUnavailable",
			 "the agent of %s is offline", s->id);
		return false;
	}
	return true;
}

/* Sends, or fills the reply with why not. True: sent (reply later). */
static bool rf_actions_send(struct rf_gw *g, struct rf_request *q,
			    struct rf_reply *r, struct rf_system *s,
			    const char *cmd, cJSON *payload, rf_done_cb done,
			    const char *arg)
{
	int e;

	if (!rf_actions_reachable(g, r, s)) {
		cJSON_Delete(payload);
		return false;
	}
	e = rf_cmd_send(g, q->conn, s->id, cmd, payload, done, arg);
	cJSON_Delete(payload);
	if (!e)
		return true;
	rf_error(r, 503, "ServiceTemporarilyUnavailable",
		 "the command to %s could not be sent: %s", s->id,
		 e == -EPROTONOSUPPORT ? "the broker does not speak MQTT 5"
				       : strerror(-e));
	r->retry_after_s = g->cfg.retry_after_s;
	return false;
}

static void rf_actions_reset_done(struct rf_gw *g, struct rf_conn *c,
				  const char *system, const char *arg,
				  const cJSON *result)
{
	struct rf_system *s = rf_fleet_find(g, system);
	struct rf_reply *r = rf_conn_reply(c);

	if (rf_cmd_reply(g, r, result, system) && s &&
	    !strcmp(arg, "override") && !strcmp(s->boot_enabled, "Once")) {
		snprintf(s->boot_enabled, sizeof(s->boot_enabled), "Disabled");
		rf_fleet_cache(g, s);
	}
	if (!c && s && s->ipmi_busy)
		rf_ipmi_done(g, s, r);
	else if (!c && r->status >= 300)
		log_warn("%s, after 202 Accepted: %s", system,
			 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
				 cJSON_GetObjectItemCaseSensitive(r->body,
								  "error"),
				 "message")));
}

/*
 * A pending override to Cd or Usb turns a Reset that starts the server
 * into "boot once from virtual media"; BiosSetup into the enter_setup
 * macro. Others (Pxe, Hdd) are stored only (docs/REDFISH.md).
 */
static cJSON *rf_actions_override(const struct rf_system *s, const char **cmd)
{
	cJSON *p;

	if (!strcmp(s->boot_enabled, "Disabled"))
		return NULL;
	if (!strcmp(s->boot_target, "Cd") || !strcmp(s->boot_target, "Usb")) {
		*cmd = "boot";
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "target", "media");
		return p;
	}
	if (!strcmp(s->boot_target, "BiosSetup")) {
		*cmd = "macro";
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", "enter_setup");
		return p;
	}
	return NULL;
}

bool rf_actions_reset_type(struct rf_gw *g, struct rf_conn *conn,
			   struct rf_reply *r, struct rf_system *s,
			   const char *type)
{
	struct rf_request q = {.conn = conn};
	const struct rf_reset *t;
	const char *cmd;
	cJSON *p;

	for (t = rf_resets; t->type && strcmp(t->type, type); t++)
		;
	if (!t->type || !rf_actions_wired(s, t->need)) {
		rf_error(r, 400, "ActionParameterNotSupported",
			 "ResetType %s is not supported for %s%s", type, s->id,
			 t->type ? ": the pins it needs are not wired" : "");
		return true;
	}
	cmd = t->cmd;
	p = t->starts ? rf_actions_override(s, &cmd) : NULL;
	if (p)
		return !rf_actions_send(g, &q, r, s, cmd, p,
					rf_actions_reset_done, "override");
	p = cJSON_CreateObject();
	/* On without a power pin is a wake-up: Wake-on-LAN or USB. */
	if (t->need == RF_NEED_START && !rf_actions_flag(s, "wired", "power"))
		cJSON_AddStringToObject(p, t->field, "wake");
	else
		cJSON_AddStringToObject(p, t->field, t->value);
	if (t->force)
		cJSON_AddBoolToObject(p, "force", true);
	return !rf_actions_send(g, &q, r, s, cmd, p, rf_actions_reset_done, "");
}

bool rf_actions_reset(struct rf_gw *g, struct rf_request *q, struct rf_reply *r,
		      struct rf_system *s)
{
	const char *type = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(q->body, "ResetType"));

	if (!type) {
		rf_error(r, 400, "ActionParameterMissing",
			 "ResetType (a string) is required");
		return true;
	}
	return rf_actions_reset_type(g, q->conn, r, s, type);
}

static bool rf_actions_pick(const char *v, const char *const *allowed)
{
	for (int i = 0; allowed[i]; i++)
		if (!strcmp(v, allowed[i]))
			return true;
	return false;
}

/*
 * Boot settings are the gateway's: stored, shown, and acted on at the
 * next Reset that starts the server. No agent is asked.
 */
bool rf_actions_patch_system(struct rf_gw *g, struct rf_request *q,
			     struct rf_reply *r, struct rf_system *s)
{
	static const char *const enabled[] = {"Disabled", "Once", "Continuous",
					      NULL};
	static const char *const targets[] = {"None", "Pxe",	   "Cd", "Usb",
					      "Hdd",  "BiosSetup", NULL};
	static const char *const modes[] = {"UEFI", "Legacy", NULL};
	const cJSON *boot = cJSON_GetObjectItemCaseSensitive(q->body, "Boot");
	const struct {
		const char *key;
		const char *const *allowed;
		char *dst;
	} props[] = {
		{"BootSourceOverrideEnabled", enabled, s->boot_enabled},
		{"BootSourceOverrideTarget", targets, s->boot_target},
		{"BootSourceOverrideMode", modes, s->boot_mode},
	};
	cJSON *it;
	bool enabled_given = false;

	if (q->if_match && strcmp(q->if_match, "*")) {
		cJSON *doc = rf_tree_system(g, s);
		char etag[40];

		rf_etag_of(doc, etag);
		cJSON_Delete(doc);
		if (strcmp(q->if_match, etag)) {
			rf_error(r, 412, "PreconditionFailed",
				 "the ETag %s does not match (now %s)",
				 q->if_match, etag);
			return true;
		}
	}
	cJSON_ArrayForEach(it, q->body)
	{
		if (strcmp(it->string, "Boot")) {
			rf_error(r, 400, "PropertyNotWritable",
				 "%s cannot be changed here: only Boot",
				 it->string);
			return true;
		}
	}
	if (!cJSON_IsObject(boot)) {
		rf_error(r, 400, "PropertyMissing",
			 "Boot (an object) is the property to PATCH");
		return true;
	}
	cJSON_ArrayForEach(it, boot)
	{
		size_t i;

		for (i = 0; i < sizeof(props) / sizeof(props[0]); i++)
			if (!strcmp(it->string, props[i].key))
				break;
		if (i == sizeof(props) / sizeof(props[0])) {
			rf_error(r, 400, "PropertyUnknown",
				 "Boot.%s is not supported", it->string);
			return true;
		}
		if (!cJSON_IsString(it) ||
		    !rf_actions_pick(it->valuestring, props[i].allowed)) {
			rf_error(r, 400, "PropertyValueNotInList",
				 "Boot.%s: value not allowed", it->string);
			return true;
		}
	}
	cJSON_ArrayForEach(it, boot)
	{
		for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
			if (!strcmp(it->string, props[i].key))
				snprintf(props[i].dst, 16, "%s",
					 it->valuestring);
		if (!strcmp(it->string, "BootSourceOverrideEnabled"))
			enabled_given = true;
	}
	/* A target alone means the next boot, as most BMCs take it. */
	if (!enabled_given && strcmp(s->boot_target, "None") &&
	    !strcmp(s->boot_enabled, "Disabled"))
		snprintf(s->boot_enabled, sizeof(s->boot_enabled), "Once");
	rf_fleet_cache(g, s);
	r->status = 204;
	return true;
}

/* The agent's result is news before its next state: a GET right after
 * the action shows it. */
static void rf_actions_media_state(struct rf_system *s, const cJSON *result)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(s->state, "media");
	const char *keys[] = {"image", "mode", "readonly", "size"};

	if (!cJSON_IsObject(m))
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(result, keys[i]);

		cJSON *copy = v ? cJSON_Duplicate(v, true) : NULL;

		if (copy &&
		    !cJSON_ReplaceItemInObjectCaseSensitive(m, keys[i], copy))
			cJSON_AddItemToObject(m, keys[i], copy);
	}
}

static void rf_actions_media_done(struct rf_gw *g, struct rf_conn *c,
				  const char *system, const char *arg,
				  const cJSON *result)
{
	struct rf_system *s = rf_fleet_find(g, system);
	const char *name = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(result, "image"));
	const char *slash;

	if (!rf_cmd_reply(g, rf_conn_reply(c), result, system) || !s)
		return;
	rf_actions_media_state(s, result);
	snprintf(s->media_image, sizeof(s->media_image), "%s", arg);
	if (!name && (slash = strrchr(arg, '/')))
		name = slash + 1;
	snprintf(s->media_name, sizeof(s->media_name), "%s", name ? name : arg);
}

bool rf_actions_insert(struct rf_gw *g, struct rf_request *q,
		       struct rf_reply *r, struct rf_system *s)
{
	const char *image = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(q->body, "Image"));
	const cJSON *wp =
		cJSON_GetObjectItemCaseSensitive(q->body, "WriteProtected");
	const cJSON *ins =
		cJSON_GetObjectItemCaseSensitive(q->body, "Inserted");
	cJSON *p;

	if (!image || !image[0]) {
		rf_error(r, 400, "ActionParameterMissing",
			 "Image (a URL or an image name) is required");
		return true;
	}
	if (strlen(image) >= sizeof(s->media_image)) {
		rf_error(r, 400, "ActionParameterValueFormatError",
			 "Image is longer than %zu bytes",
			 sizeof(s->media_image) - 1);
		return true;
	}
	if (cJSON_IsFalse(ins)) {
		rf_error(r, 400, "ActionParameterValueNotInList",
			 "Inserted false is not supported: the image is "
			 "inserted at once");
		return true;
	}
	p = cJSON_CreateObject();
	if (!strncmp(image, "http://", 7) || !strncmp(image, "https://", 8))
		cJSON_AddStringToObject(p, "url", image);
	else
		cJSON_AddStringToObject(p, "image", image);
	if (cJSON_IsFalse(wp)) {
		cJSON_AddStringToObject(p, "mode", "disk");
		cJSON_AddBoolToObject(p, "readonly", false);
	}
	return !rf_actions_send(g, q, r, s, "media", p, rf_actions_media_done,
				image);
}

static void rf_actions_eject_done(struct rf_gw *g, struct rf_conn *c,
				  const char *system, const char *arg,
				  const cJSON *result)
{
	struct rf_system *s = rf_fleet_find(g, system);

	if (rf_cmd_reply(g, rf_conn_reply(c), result, system) && s) {
		rf_actions_media_state(s, result);
		s->media_image[0] = '\0';
		s->media_name[0] = '\0';
	}
}

bool rf_actions_eject(struct rf_gw *g, struct rf_request *q, struct rf_reply *r,
		      struct rf_system *s)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "image", "eject");
	return !rf_actions_send(g, q, r, s, "media", p, rf_actions_eject_done,
				"");
}
