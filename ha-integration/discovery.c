/*
 * Home Assistant discovery: the entity table and the payloads built from
 * it. Templates guard every member they read, so a state document
 * without a section (no console, no macros) never makes a template fail.
 */
#include "ha-integration/discovery_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "firmware/core/config.h"
#include "gadget/udc.h"
#include "topics/result.h"

/* Where an entity's state comes from. */

static const char *const ha_platform_names[HA_PLATFORM_COUNT] = {
	[HA_BUTTON] = "button",
	[HA_SELECT] = "select",
	[HA_TEXT] = "text",
	[HA_SENSOR] = "sensor",
	[HA_BINARY_SENSOR] = "binary_sensor",
	[HA_EVENT] = "event",
};

const char *ha_platform_name(enum ha_platform p)
{
	return p < HA_PLATFORM_COUNT ? ha_platform_names[p] : "sensor";
}

int ha_platform_parse(const char *name, enum ha_platform *p)
{
	for (int i = 0; i < HA_PLATFORM_COUNT; i++)
		if (!strcmp(ha_platform_names[i], name)) {
			*p = (enum ha_platform)i;
			return 0;
		}
	return -EINVAL;
}

enum ha_platform ha_entity_platform(const struct ha_entity *e)
{
	return e->platform;
}

uint64_t ha_hash(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- the entity set ---- */

static bool ha_id_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool ha_topic_ok(const char *s)
{
	if (!s || !s[0])
		return false;
	for (; *s; s++)
		if (*s == '+' || *s == '#' || (unsigned char)*s < 0x20)
			return false;
	return true;
}

static int ha_input_check(const struct ha_input *in)
{
	if (!ha_id_ok(in->id, 64) || !ha_topic_ok(in->base) ||
	    !ha_topic_ok(in->prefix))
		return -EINVAL;
	return 0;
}

/*
 * A macro's key: "macro_" and its name, with every byte outside
 * [A-Za-z0-9_] written as -xx (hex) so that two names never share a key
 * and the key stays a valid topic level and entity id part.
 */
static int ha_macro_key(const char *prefix, const char *name, char *key,
			size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = strlen(prefix);

	if (!name[0] || o >= len)
		return -EINVAL;
	memcpy(key, prefix, o);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') ||
			     (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '_';

		if (o + (plain ? 1 : 3) >= len)
			return -ENAMETOOLONG;
		if (plain) {
			key[o++] = (char)*p;
		} else {
			key[o++] = '-';
			key[o++] = hex[*p >> 4];
			key[o++] = hex[*p & 15];
		}
	}
	key[o] = '\0';
	return 0;
}

static bool ha_set_has(const struct ha_set *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].key, key))
			return true;
	return false;
}

static struct ha_entity *ha_set_push(struct ha_set *s)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 32;
		struct ha_entity *v = realloc(s->v, ncap * sizeof(*v));

		if (!v)
			return NULL;
		s->v = v;
		s->cap = ncap;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

static int ha_set_macros(const struct ha_input *in, int def, struct ha_set *s)
{
	const char *name;
	char key[HA_KEY_MAX];

	if (!in->macros)
		return 0;
	for (size_t i = 0; (name = in->macros(in->macros_data, i)); i++) {
		struct ha_entity *e;

		if (strlen(name) >= HA_ARG_MAX ||
		    ha_macro_key(ha_defs[def].key, name, key, sizeof(key)) ||
		    ha_set_has(s, key))
			continue;
		e = ha_set_push(s);
		if (!e)
			return -ENOMEM;
		e->def = def;
		e->platform = ha_defs[def].platform;
		snprintf(e->key, sizeof(e->key), "%s", key);
		snprintf(e->arg, sizeof(e->arg), "%s", name);
	}
	return 0;
}

int ha_set_build(const struct ha_input *in, struct ha_set *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = ha_input_check(in);
	if (r)
		return r;
	for (int d = 0; d < ha_ndefs; d++) {
		const struct ha_def *def = &ha_defs[d];
		struct ha_entity *e;

		if ((in->features & def->needs) != def->needs)
			continue;
		if (def->per_macro) {
			r = ha_set_macros(in, d, out);
			if (r)
				goto fail;
			continue;
		}
		e = ha_set_push(out);
		if (!e) {
			r = -ENOMEM;
			goto fail;
		}
		e->def = d;
		e->platform = def->platform;
		snprintf(e->key, sizeof(e->key), "%s", def->key);
	}
	return 0;
fail:
	ha_set_free(out);
	return r;
}

void ha_set_free(struct ha_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
	s->cap = 0;
}

int ha_set_removed(const struct ha_set *old, const struct ha_set *now,
		   struct ha_set *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; old && i < old->n; i++) {
		struct ha_entity *e;

		if (ha_set_has(now, old->v[i].key))
			continue;
		e = ha_set_push(out);
		if (!e) {
			ha_set_free(out);
			return -ENOMEM;
		}
		*e = old->v[i];
	}
	return 0;
}

int ha_set_add(struct ha_set *s, const char *key, enum ha_platform p)
{
	struct ha_entity *e;

	if (strlen(key) >= HA_KEY_MAX)
		return -ENAMETOOLONG;
	if (ha_set_has(s, key))
		return 0;
	if (s->n >= HA_SET_MAX)
		return -ENOSPC;
	e = ha_set_push(s);
	if (!e)
		return -ENOMEM;
	e->def = -1;
	e->platform = p;
	snprintf(e->key, sizeof(e->key), "%s", key);
	return 0;
}

void ha_set_del(struct ha_set *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].key, key)) {
			memmove(&s->v[i], &s->v[i + 1],
				(s->n - i - 1) * sizeof(s->v[0]));
			s->n--;
			return;
		}
}

/*
 * The keys already in a set, hashed: open addressing over twice
 * HA_SET_MAX slots holding index + 1, so adding n keys takes linear time
 * where ha_set_has() would take quadratic.
 */
#define HA_INDEX_SLOTS (2 * HA_SET_MAX)

static bool ha_index_put(uint32_t *slots, const struct ha_set *s, size_t i)
{
	size_t h = (size_t)(ha_hash(0xcbf29ce484222325ull, s->v[i].key) %
			    HA_INDEX_SLOTS);

	for (; slots[h]; h = (h + 1) % HA_INDEX_SLOTS)
		if (!strcmp(s->v[slots[h] - 1].key, s->v[i].key))
			return false;
	slots[h] = (uint32_t)i + 1;
	return true;
}

static int ha_device_config_add(struct ha_set *into, uint32_t *slots,
				const char *key, enum ha_platform pf)
{
	struct ha_entity *e;

	if (into->n >= HA_SET_MAX)
		return -E2BIG;
	e = ha_set_push(into);
	if (!e)
		return -ENOMEM;
	e->def = -1;
	e->platform = pf;
	snprintf(e->key, sizeof(e->key), "%s", key);
	if (!ha_index_put(slots, into, into->n - 1))
		into->n--; /* already there */
	return 0;
}

int ha_device_config_parse(const char *payload, size_t len, struct ha_set *into)
{
	cJSON *o = NULL, *cmps, *c;
	uint32_t *slots = NULL;
	int r = 0;

	if (len > HA_DEVICE_CONFIG_MAX)
		return -E2BIG;
	o = cJSON_ParseWithLength(payload, len);
	cmps = cJSON_GetObjectItemCaseSensitive(o, "cmps");
	if (!cJSON_IsObject(cmps)) {
		r = -EINVAL;
		goto out;
	}
	slots = calloc(HA_INDEX_SLOTS, sizeof(*slots));
	if (!slots) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < into->n; i++)
		ha_index_put(slots, into, i);
	cJSON_ArrayForEach(c, cmps)
	{
		cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "p");
		enum ha_platform pf;

		if (!cJSON_IsString(p) || !c->child || !c->child->next ||
		    ha_platform_parse(p->valuestring, &pf) ||
		    !ha_id_ok(c->string, HA_KEY_MAX - 1))
			continue;
		r = ha_device_config_add(into, slots, c->string, pf);
		if (r)
			break;
	}
out:
	free(slots);
	cJSON_Delete(o);
	return r;
}

int ha_entity_topic_parse(const struct ha_input *in, const char *topic,
			  char *key, enum ha_platform *p)
{
	size_t n = strlen(in->prefix);
	const char *s = topic, *slash;
	char platform[32];
	char dev[96];

	if (strncmp(s, in->prefix, n) || s[n] != '/')
		return -ENOENT;
	s += n + 1;
	slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(platform))
		return -ENOENT;
	memcpy(platform, s, (size_t)(slash - s));
	platform[slash - s] = '\0';
	if (ha_platform_parse(platform, p))
		return -ENOENT;
	s = slash + 1;
	snprintf(dev, sizeof(dev), "zerobmc_%s/", in->id);
	if (strncmp(s, dev, strlen(dev)))
		return -ENOENT;
	s += strlen(dev);
	slash = strchr(s, '/');
	if (!slash || strcmp(slash, "/config") || slash == s ||
	    (size_t)(slash - s) >= HA_KEY_MAX)
		return -ENOENT;
	memcpy(key, s, (size_t)(slash - s));
	key[slash - s] = '\0';
	return ha_id_ok(key, HA_KEY_MAX - 1) ? 0 : -ENOENT;
}

/* ---- topics ---- */

static int ha_fit(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ha_device_topic(const struct ha_input *in, char *buf, size_t len)
{
	return ha_fit(snprintf(buf, len, "%s/device/zerobmc_%s/config",
			       in->prefix, in->id),
		      len);
}

int ha_entity_topic(const struct ha_input *in, const struct ha_entity *e,
		    char *buf, size_t len)
{
	return ha_fit(snprintf(buf, len, "%s/%s/zerobmc_%s/%s/config",
			       in->prefix,
			       ha_platform_name(ha_entity_platform(e)), in->id,
			       e->key),
		      len);
}

/* ---- payloads ---- */

static bool ha_add_str(cJSON *o, const char *key, const char *val)
{
	return !val || cJSON_AddStringToObject(o, key, val);
}

static bool ha_add_topic(cJSON *o, const char *key, const char *base,
			 const char *suffix)
{
	char t[512];

	if (ha_fit(snprintf(t, sizeof(t), "%s/%s", base, suffix), sizeof(t)))
		return false;
	return cJSON_AddStringToObject(o, key, t) != NULL;
}

/* "zerobmc_<id>_<key>", lower case when lower is set. */
static void ha_object_id(const struct ha_input *in, const struct ha_entity *e,
			 bool lower, char *buf, size_t len)
{
	snprintf(buf, len, "zerobmc_%s_%s", in->id, e->key);
	for (char *p = buf; lower && *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (*p == '-')
			*p = '_';
	}
}

static bool ha_add_options(cJSON *o, const struct ha_input *in,
			   enum ha_options opts)
{
	cJSON *arr;
	const char *name;

	if (opts == HA_OPT_NONE)
		return true;
	arr = cJSON_AddArrayToObject(
		o, opts == HA_OPT_RESULT || opts == HA_OPT_EVENT ? "evt_typ"
								 : "ops");
	if (!arr)
		return false;
	switch (opts) {
	case HA_OPT_IMAGES:
		cJSON_AddItemToArray(arr, cJSON_CreateString(HA_NONE_OPTION));
		for (size_t i = 0;
		     in->images && (name = in->images(in->images_data, i));
		     i++) {
			/* An option is also the select's state. */
			if (!strcmp(name, HA_NONE_OPTION) || !name[0] ||
			    strlen(name) > HA_STATE_MAX)
				continue;
			cJSON_AddItemToArray(arr, cJSON_CreateString(name));
		}
		break;
	case HA_OPT_UDC:
		for (int s = 0; s < UDC_STATE_COUNT; s++)
			cJSON_AddItemToArray(arr,
					     cJSON_CreateString(udc_state_name(
						     (enum udc_state)s)));
		break;
	case HA_OPT_RESULT:
		for (int s = RESULT_OK; s <= RESULT_CANCELLED; s++)
			cJSON_AddItemToArray(
				arr, cJSON_CreateString(result_status_name(
					     (enum result_status)s)));
		break;
	case HA_OPT_PHASE:
		for (size_t i = 0; i < ha_n_phase_names; i++)
			cJSON_AddItemToArray(
				arr, cJSON_CreateString(ha_phase_names[i]));
		break;
	case HA_OPT_EVENT:
		for (size_t i = 0; i < ha_n_event_sources; i++)
			cJSON_AddItemToArray(
				arr, cJSON_CreateString(ha_event_sources[i]));
		break;
	case HA_OPT_NONE:
		break;
	}
	return true;
}

/* The component object of e; with_platform for device-based discovery. */
static cJSON *ha_component(const struct ha_input *in, const struct ha_entity *e,
			   bool with_platform)
{
	const struct ha_def *d;
	const char *platform;
	cJSON *o;
	char buf[HA_KEY_MAX + 128];
	char name[HA_ARG_MAX + 32];
	bool ok;

	if (e->def < 0 || e->def >= ha_ndefs)
		return NULL;
	d = &ha_defs[e->def];
	platform = ha_platform_name(d->platform);
	o = cJSON_CreateObject();
	ok = o != NULL;
	if (!ok)
		return NULL;
	if (with_platform)
		ok = ok && ha_add_str(o, "p", platform);
	if (d->per_macro)
		snprintf(name, sizeof(name), "%s%s", d->name, e->arg);
	else
		snprintf(name, sizeof(name), "%s", d->name);
	ok = ok && ha_add_str(o, "name", name);
	ha_object_id(in, e, false, buf, sizeof(buf));
	ok = ok && ha_add_str(o, "uniq_id", buf);
	{
		char oid[sizeof(buf)], eid[sizeof(buf) + 16];

		ha_object_id(in, e, true, oid, sizeof(oid));
		snprintf(eid, sizeof(eid), "%s.%s", platform, oid);
		ok = ok && ha_add_str(o, "def_ent_id", eid);
	}
	if (d->cmd) {
		char suffix[64];

		snprintf(suffix, sizeof(suffix), "cmd/%s", d->cmd);
		ok = ok && ha_add_topic(o, "cmd_t", in->base, suffix);
		/* A retained command would replay on every reconnect. */
		ok = ok && cJSON_AddBoolToObject(o, "ret", false);
	}
	if (d->platform == HA_BUTTON)
		ok = ok &&
		     ha_add_str(o, "pl_prs", d->per_macro ? e->arg : d->press);
	if (d->source == HA_SRC_STATE)
		ok = ok && ha_add_topic(o, "stat_t", in->base, "state");
	else if (d->source == HA_SRC_RESULT)
		ok = ok && ha_add_topic(o, "stat_t", in->base, "result");
	else if (d->source == HA_SRC_EVENT)
		ok = ok && ha_add_topic(o, "stat_t", in->base, "event");
	ok = ok && ha_add_str(o, "val_tpl", d->val_tpl);
	ok = ok && ha_add_str(o, "cmd_tpl", d->cmd_tpl);
	ok = ok && ha_add_str(o, "dev_cla", d->dev_cla);
	ok = ok && ha_add_str(o, "ent_cat", d->ent_cat);
	ok = ok && ha_add_str(o, "ic", d->icon);
	ok = ok && ha_add_str(o, "unit_of_meas", d->unit);
	if (d->max) {
		ok = ok && cJSON_AddNumberToObject(o, "min", 0);
		ok = ok && cJSON_AddNumberToObject(o, "max", d->max);
	}
	ok = ok && ha_add_options(o, in, d->options);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* "dev", "o", availability and QoS: shared by every entity. */
static bool ha_add_shared(cJSON *o, const struct ha_input *in)
{
	cJSON *dev = cJSON_AddObjectToObject(o, "dev");
	cJSON *orig, *ids;
	char buf[96];
	bool ok = dev != NULL;

	snprintf(buf, sizeof(buf), "zerobmc_%s", in->id);
	ids = cJSON_AddArrayToObject(dev, "ids");
	ok = ok && ids;
	if (ids)
		cJSON_AddItemToArray(ids, cJSON_CreateString(buf));
	ok = ok && ha_add_str(dev, "name", in->name ? in->name : in->id);
	ok = ok && ha_add_str(dev, "mf", "zerobmc");
	ok = ok && ha_add_str(dev, "mdl", "zerobmc");
	ok = ok && ha_add_str(dev, "sw", in->sw_version);
	ok = ok && ha_add_str(dev, "via_device", in->via_device);
	orig = cJSON_AddObjectToObject(o, "o");
	ok = ok && orig;
	ok = ok && ha_add_str(orig, "name", "zerobmc");
	ok = ok && ha_add_str(orig, "sw", in->sw_version);
	ok = ok && ha_add_str(orig, "url", in->origin_url);
	ok = ok && ha_add_topic(o, "avty_t", in->base, "status");
	/* Commands are subscribed at QoS 1. */
	ok = ok && cJSON_AddNumberToObject(o, "qos", 1);
	return ok;
}

static char *ha_print(cJSON *o, bool ok)
{
	char *out = ok ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return out;
}

char *ha_device_config(const struct ha_input *in, const struct ha_set *now,
		       const struct ha_set *removed)
{
	cJSON *o, *cmps;
	bool ok;

	if (ha_input_check(in))
		return NULL;
	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	ok = ha_add_shared(o, in);
	cmps = cJSON_AddObjectToObject(o, "cmps");
	ok = ok && cmps;
	for (size_t i = 0; ok && i < now->n; i++) {
		cJSON *c = ha_component(in, &now->v[i], true);

		ok = c && cJSON_AddItemToObject(cmps, now->v[i].key, c);
	}
	for (size_t i = 0; ok && removed && i < removed->n; i++) {
		cJSON *c = cJSON_CreateObject();

		ok = c && ha_add_str(c, "p",
				     ha_platform_name(ha_entity_platform(
					     &removed->v[i])));
		ok = ok && cJSON_AddItemToObject(cmps, removed->v[i].key, c);
	}
	return ha_print(o, ok);
}

char *ha_entity_config(const struct ha_input *in, const struct ha_entity *e)
{
	cJSON *o;

	if (ha_input_check(in))
		return NULL;
	o = ha_component(in, e, false);
	if (!o)
		return NULL;
	return ha_print(o, ha_add_shared(o, in));
}

unsigned int ha_features_of(const struct config *c, unsigned int caps,
			    bool power)
{
	unsigned int f = caps;

	if ((caps & HA_F_BOOT) &&
	    (c->reinstall.done_console[0] || c->reinstall.done_marker[0]) &&
	    (c->reinstall.os_console[0] || c->reinstall.os_usb))
		f |= HA_F_REINSTALL;
	if (!power)
		return f;
	if (c->power.gpio_chip[0] && c->power.power_line >= 0)
		f |= HA_F_POWER_ON | HA_F_POWER_OFF;
	if (c->power.gpio_chip[0] && c->power.reset_line >= 0)
		f |= HA_F_POWER_RESET;
	/* USB remote wakeup needs our own gadget, WoL a MAC. */
	if (c->power.wol_mac[0] || c->gadget.manage)
		f |= HA_F_POWER_WAKE;
	return f;
}
