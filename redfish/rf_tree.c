/*
 * The resource tree the real clients need (sushy, redfishtool, Ansible):
 * a table of routes, each a method, a path whose "*" is a system id, and
 * a handler. A system the caller may not see is not there (404).
 */
#include <fnmatch.h>
#include <mbedtls/sha1.h>
#include <stdio.h>
#include <string.h>

#include "redfish/rf.h"

#define RF_V1 "/redfish/v1"

/* A fixed namespace: system UUIDs are name-based (version 5) on the id. */
static const unsigned char rf_tree_ns[16] = {0xee, 0x38, 0x9b, 0xf7, 0xd7, 0x9f,
					     0x4a, 0x58, 0x88, 0xc0, 0xbf, 0xcd,
					     0xe3, 0x8c, 0x69, 0xa1};

static void rf_tree_uuid(const char *kind, const char *id, char out[37])
{
	unsigned char in[16 + 16 + TOPICS_ID_MAX], h[20];
	size_t kl = strlen(kind), il = strlen(id);

	memcpy(in, rf_tree_ns, 16);
	memcpy(in + 16, kind, kl);
	memcpy(in + 16 + kl, id, il);
	mbedtls_sha1_ret(in, 16 + kl + il, h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x50);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9],
		 h[10], h[11], h[12], h[13], h[14], h[15]);
}

static cJSON *rf_tree_new(const char *id, const char *type)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "@odata.id", id);
	cJSON_AddStringToObject(o, "@odata.type", type);
	return o;
}

static void rf_tree_link(cJSON *parent, const char *name, const char *fmt,
			 const char *id)
{
	char buf[256];
	cJSON *l = cJSON_AddObjectToObject(parent, name);

	snprintf(buf, sizeof(buf), fmt, id);
	cJSON_AddStringToObject(l, "@odata.id", buf);
}

static void rf_tree_link_array(cJSON *parent, const char *name, const char *fmt,
			       const char *id)
{
	cJSON *a = cJSON_AddArrayToObject(parent, name), *l;
	char buf[256];

	l = cJSON_CreateObject();
	snprintf(buf, sizeof(buf), fmt, id);
	cJSON_AddStringToObject(l, "@odata.id", buf);
	cJSON_AddItemToArray(a, l);
}

static void rf_tree_status(cJSON *o, const struct rf_system *s)
{
	cJSON *st = cJSON_AddObjectToObject(o, "Status");

	cJSON_AddStringToObject(st, "State",
				s->online ? "Enabled" : "UnavailableOffline");
	cJSON_AddStringToObject(st, "Health", s->online ? "OK" : "Warning");
}

static bool rf_tree_redfish(struct rf_gw *g, struct rf_request *q,
			    struct rf_reply *r, struct rf_system *s)
{
	r->body = cJSON_CreateObject();
	cJSON_AddStringToObject(r->body, "v1", RF_V1 "/");
	return true;
}

static bool rf_tree_root(struct rf_gw *g, struct rf_request *q,
			 struct rf_reply *r, struct rf_system *s)
{
	cJSON *o = rf_tree_new(RF_V1, "#ServiceRoot.v1_11_0.ServiceRoot"), *l;
	char uuid[37];

	rf_tree_uuid("service:", g->cfg.net.agent.base_topic, uuid);
	cJSON_AddStringToObject(o, "Id", "RootService");
	cJSON_AddStringToObject(o, "Name", "zerobmc Redfish gateway");
	cJSON_AddStringToObject(o, "RedfishVersion", "1.11.0");
	cJSON_AddStringToObject(o, "UUID", uuid);
	cJSON_AddStringToObject(o, "Product", "zerobmc-redfish");
	cJSON_AddStringToObject(o, "Vendor", "zerobmc");
	rf_tree_link(o, "Systems", "%s", RF_V1 "/Systems");
	rf_tree_link(o, "Managers", "%s", RF_V1 "/Managers");
	rf_tree_link(o, "SessionService", "%s", RF_V1 "/SessionService");
	l = cJSON_AddObjectToObject(o, "Links");
	rf_tree_link(l, "Sessions", "%s", RF_V1 "/SessionService/Sessions");
	r->body = o;
	return true;
}

/* The systems the caller may see, as a collection of fmt % id. */
static void rf_tree_collection(struct rf_gw *g, struct rf_request *q,
			       struct rf_reply *r, const char *self,
			       const char *type, const char *name,
			       const char *fmt)
{
	cJSON *o = rf_tree_new(self, type), *m, *l;
	char buf[256];
	int n = 0;

	cJSON_AddStringToObject(o, "Name", name);
	m = cJSON_AddArrayToObject(o, "Members");
	for (int i = 0; i < g->n_systems; i++) {
		if (!rf_user_sees(&g->users[q->user], g->systems[i].id))
			continue;
		l = cJSON_CreateObject();
		snprintf(buf, sizeof(buf), fmt, g->systems[i].id);
		cJSON_AddStringToObject(l, "@odata.id", buf);
		cJSON_AddItemToArray(m, l);
		n++;
	}
	cJSON_AddNumberToObject(o, "Members@odata.count", n);
	r->body = o;
}

static bool rf_tree_systems(struct rf_gw *g, struct rf_request *q,
			    struct rf_reply *r, struct rf_system *s)
{
	rf_tree_collection(g, q, r, RF_V1 "/Systems",
			   "#ComputerSystemCollection.ComputerSystemCollection",
			   "Computer Systems", RF_V1 "/Systems/%s");
	return true;
}

static bool rf_tree_managers(struct rf_gw *g, struct rf_request *q,
			     struct rf_reply *r, struct rf_system *s)
{
	rf_tree_collection(g, q, r, RF_V1 "/Managers",
			   "#ManagerCollection.ManagerCollection", "Managers",
			   RF_V1 "/Managers/%s");
	return true;
}

static const char *const rf_tree_targets[] = {"None", "Pxe",	   "Cd", "Usb",
					      "Hdd",  "BiosSetup", NULL};

cJSON *rf_tree_system(struct rf_gw *g, struct rf_system *s)
{
	char self[128], uuid[37];
	const char *ps = rf_fleet_power(s);
	cJSON *o, *b, *a, *reset;

	snprintf(self, sizeof(self), RF_V1 "/Systems/%s", s->id);
	o = rf_tree_new(self, "#ComputerSystem.v1_13_0.ComputerSystem");
	rf_tree_uuid("system:", s->id, uuid);
	cJSON_AddStringToObject(o, "Id", s->id);
	cJSON_AddStringToObject(o, "Name", s->id);
	cJSON_AddStringToObject(o, "UUID", uuid);
	cJSON_AddStringToObject(o, "SystemType", "Physical");
	if (ps)
		cJSON_AddStringToObject(o, "PowerState", ps);
	else
		cJSON_AddNullToObject(o, "PowerState");
	rf_tree_status(o, s);
	b = cJSON_AddObjectToObject(o, "Boot");
	cJSON_AddStringToObject(b, "BootSourceOverrideEnabled",
				s->boot_enabled);
	cJSON_AddStringToObject(b, "BootSourceOverrideTarget", s->boot_target);
	a = cJSON_AddArrayToObject(
		b, "BootSourceOverrideTarget@Redfish.AllowableValues");
	for (int i = 0; rf_tree_targets[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(rf_tree_targets[i]));
	cJSON_AddStringToObject(b, "BootSourceOverrideMode", s->boot_mode);
	a = cJSON_AddObjectToObject(o, "Actions");
	reset = cJSON_AddObjectToObject(a, "#ComputerSystem.Reset");
	snprintf(self, sizeof(self),
		 RF_V1 "/Systems/%s/Actions/ComputerSystem.Reset", s->id);
	cJSON_AddStringToObject(reset, "target", self);
	cJSON_AddItemToObject(reset, "ResetType@Redfish.AllowableValues",
			      rf_actions_reset_allowed(s));
	a = cJSON_AddObjectToObject(o, "Links");
	rf_tree_link_array(a, "ManagedBy", RF_V1 "/Managers/%s", s->id);
	return o;
}

static bool rf_tree_system_get(struct rf_gw *g, struct rf_request *q,
			       struct rf_reply *r, struct rf_system *s)
{
	r->body = rf_tree_system(g, s);
	return true;
}

static bool rf_tree_manager(struct rf_gw *g, struct rf_request *q,
			    struct rf_reply *r, struct rf_system *s)
{
	char self[128], uuid[37];
	cJSON *o, *l;

	snprintf(self, sizeof(self), RF_V1 "/Managers/%s", s->id);
	o = rf_tree_new(self, "#Manager.v1_10_0.Manager");
	rf_tree_uuid("manager:", s->id, uuid);
	cJSON_AddStringToObject(o, "Id", s->id);
	cJSON_AddStringToObject(o, "Name", s->id);
	cJSON_AddStringToObject(o, "UUID", uuid);
	cJSON_AddStringToObject(o, "ManagerType", "BMC");
	cJSON_AddStringToObject(o, "Model", "zerobmc");
	rf_tree_status(o, s);
	rf_tree_link(o, "VirtualMedia", RF_V1 "/Managers/%s/VirtualMedia",
		     s->id);
	l = cJSON_AddObjectToObject(o, "Links");
	rf_tree_link_array(l, "ManagerForServers", RF_V1 "/Systems/%s", s->id);
	r->body = o;
	return true;
}

static bool rf_tree_vm_list(struct rf_gw *g, struct rf_request *q,
			    struct rf_reply *r, struct rf_system *s)
{
	char self[160];
	cJSON *o;

	snprintf(self, sizeof(self), RF_V1 "/Managers/%s/VirtualMedia", s->id);
	o = rf_tree_new(self, "#VirtualMediaCollection.VirtualMediaCollection");
	cJSON_AddStringToObject(o, "Name", "Virtual Media");
	rf_tree_link_array(o, "Members", RF_V1 "/Managers/%s/VirtualMedia/Cd",
			   s->id);
	cJSON_AddNumberToObject(o, "Members@odata.count", 1);
	r->body = o;
	return true;
}

static bool rf_tree_vm(struct rf_gw *g, struct rf_request *q,
		       struct rf_reply *r, struct rf_system *s)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(s->state, "media");
	const char *name = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(m, "image"));
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(m, "readonly");
	char self[160], act[220];
	cJSON *o, *a, *x;

	snprintf(self, sizeof(self), RF_V1 "/Managers/%s/VirtualMedia/Cd",
		 s->id);
	o = rf_tree_new(self, "#VirtualMedia.v1_3_0.VirtualMedia");
	cJSON_AddStringToObject(o, "Id", "Cd");
	cJSON_AddStringToObject(o, "Name", "Virtual CD");
	a = cJSON_AddArrayToObject(o, "MediaTypes");
	cJSON_AddItemToArray(a, cJSON_CreateString("CD"));
	cJSON_AddItemToArray(a, cJSON_CreateString("DVD"));
	/* The Image a client inserted is echoed exactly (a URL stays a
	 * URL) while the image it became is still in. */
	if (name && !strcmp(name, s->media_name) && s->media_image[0])
		cJSON_AddStringToObject(o, "Image", s->media_image);
	else if (name)
		cJSON_AddStringToObject(o, "Image", name);
	else
		cJSON_AddNullToObject(o, "Image");
	if (name)
		cJSON_AddStringToObject(o, "ImageName", name);
	else
		cJSON_AddNullToObject(o, "ImageName");
	cJSON_AddBoolToObject(o, "Inserted", name != NULL);
	cJSON_AddBoolToObject(o, "WriteProtected", !cJSON_IsFalse(ro));
	cJSON_AddStringToObject(o, "ConnectedVia",
				name ? "URI" : "NotConnected");
	a = cJSON_AddObjectToObject(o, "Actions");
	x = cJSON_AddObjectToObject(a, "#VirtualMedia.InsertMedia");
	snprintf(act, sizeof(act), "%s/Actions/VirtualMedia.InsertMedia", self);
	cJSON_AddStringToObject(x, "target", act);
	x = cJSON_AddObjectToObject(a, "#VirtualMedia.EjectMedia");
	snprintf(act, sizeof(act), "%s/Actions/VirtualMedia.EjectMedia", self);
	cJSON_AddStringToObject(x, "target", act);
	r->body = o;
	return true;
}

struct rf_route {
	const char *method;
	const char *pattern;
	bool (*fn)(struct rf_gw *g, struct rf_request *q, struct rf_reply *r,
		   struct rf_system *s);
};

static const struct rf_route rf_routes[] = {
	{"GET", "/redfish", rf_tree_redfish},
	{"GET", RF_V1, rf_tree_root},
	{"GET", RF_V1 "/Systems", rf_tree_systems},
	{"GET", RF_V1 "/Systems/*", rf_tree_system_get},
	{"PATCH", RF_V1 "/Systems/*", rf_actions_patch_system},
	{"POST", RF_V1 "/Systems/*/Actions/ComputerSystem.Reset",
	 rf_actions_reset},
	{"GET", RF_V1 "/Managers", rf_tree_managers},
	{"GET", RF_V1 "/Managers/*", rf_tree_manager},
	{"GET", RF_V1 "/Managers/*/VirtualMedia", rf_tree_vm_list},
	{"GET", RF_V1 "/Managers/*/VirtualMedia/Cd", rf_tree_vm},
	{"POST",
	 RF_V1 "/Managers/*/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia",
	 rf_actions_insert},
	{"POST",
	 RF_V1 "/Managers/*/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia",
	 rf_actions_eject},
	{NULL, NULL, NULL},
};

bool rf_tree_handle(struct rf_gw *g, struct rf_request *q, struct rf_reply *r)
{
	const char *method = strcmp(q->method, "HEAD") ? q->method : "GET";
	const struct rf_route *hit = NULL;
	char id[TOPICS_ID_MAX + 2] = "";
	struct rf_system *s = NULL;
	bool known = false;

	for (const struct rf_route *rt = rf_routes; rt->method; rt++) {
		char pat[256], *star;

		snprintf(pat, sizeof(pat), "%s", rt->pattern);
		star = strchr(pat, '*');
		if (star) {
			/* A system id has no '/': FNM_PATHNAME keeps "*"
			 * to one segment. */
			if (fnmatch(pat, q->path, FNM_PATHNAME))
				continue;
			size_t pre = (size_t)(star - pat);
			const char *end = strchr(q->path + pre, '/');
			size_t len = end ? (size_t)(end - q->path - pre)
					 : strlen(q->path + pre);

			if (len >= sizeof(id))
				continue;
			memcpy(id, q->path + pre, len);
			id[len] = '\0';
		} else if (strcmp(pat, q->path)) {
			continue;
		}
		known = true;
		if (!strcmp(rt->method, method)) {
			hit = rt;
			break;
		}
	}
	if (!known) {
		rf_error(r, 404, "ResourceMissingAtURI", "no resource at %s",
			 q->path);
		return true;
	}
	if (id[0]) {
		s = rf_fleet_find(g, id);
		if (!s || !rf_user_sees(&g->users[q->user], id)) {
			rf_error(r, 404, "ResourceMissingAtURI", "no system %s",
				 id);
			return true;
		}
	}
	if (!hit) {
		rf_error(r, 405, "ActionNotSupported",
			 "%s is not allowed on %s", q->method, q->path);
		return true;
	}
	r->status = 200;
	return hit->fn(g, q, r, s);
}
