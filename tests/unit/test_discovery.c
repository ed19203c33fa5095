/*
 * Home Assistant discovery payloads checked against Home Assistant's
 * rules: the keys each platform requires and accepts (written out here
 * from its MQTT platform documentation, abbreviated as its discovery
 * abbreviation table says), unique ids, entity id form, lengths, and
 * that every topic is one the agent publishes or subscribes to.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "firmware/agent/commands.h"
#include "gadget/udc.h"
#include "ha-integration/discovery.h"
#include "topics/topics.h"

#define ALL_FEATURES                                                           \
	(HA_F_CONSOLE | HA_F_MEDIA | HA_F_MACROS | HA_F_USB | HA_F_POWER_ON |  \
	 HA_F_POWER_OFF | HA_F_POWER_RESET | HA_F_POWER_WAKE)

static const char *const *list_macros;
static const char *const *list_images;

static const char *at(void *data, size_t i)
{
	const char *const *v = data;

	return v[i];
}

static const char *const macros_default[] = {
	"enter_setup", "boot_menu", "ctrl_alt_del",
	"my macro",    "boot-menu", "enter_setup", /* a duplicate: one button */
	NULL,
};

static const char *const images_default[] = {
	"debian-12.iso", "disk.img", "none", "débian.iso", NULL,
};

static struct topics tp;

static void input(struct ha_input *in, unsigned int features)
{
	memset(in, 0, sizeof(*in));
	assert_int_equal(topics_init(&tp, "zerobmc", "t1", NULL, 0), 0);
	in->id = "t1";
	in->base = tp.base;
	in->prefix = "homeassistant";
	in->sw_version = "9.9.9";
	in->origin_url = "https://example.org/zerobmc";
	in->features = features;
	in->macros = at;
	in->macros_data = (void *)(list_macros ? list_macros : macros_default);
	in->images = at;
	in->images_data = (void *)(list_images ? list_images : images_default);
}

/* ---- Home Assistant's rules, as data ---- */

/* Every key an entity of any platform may carry (abbreviated). */
static const char *const common_keys[] = {
	"p",	   "name",	"uniq_id",     "def_ent_id",	"ic",
	"ent_cat", "en",	"json_attr_t", "json_attr_tpl", "avty_t",
	"avty",	   "avty_mode", "avty_tpl",    "pl_avail",	"pl_not_avail",
	"qos",	   "e",		"ent_pic",     "dev",		"o",
	NULL,
};

static const struct platform_rule {
	const char *platform;
	const char *required[4];
	const char *allowed[16];
	const char *device_classes[16];
} rules[] = {
	{"button",
	 {"cmd_t", NULL},
	 {"cmd_t", "cmd_tpl", "pl_prs", "dev_cla", "ret", NULL},
	 {"identify", "restart", "update", NULL}},
	{"select",
	 {"cmd_t", "ops", NULL},
	 {"cmd_t", "cmd_tpl", "ops", "stat_t", "val_tpl", "ret", "opt", NULL},
	 {NULL}},
	{"text",
	 {"cmd_t", NULL},
	 {"cmd_t", "cmd_tpl", "stat_t", "val_tpl", "min", "max", "mode", "ptrn",
	  "ret", NULL},
	 {NULL}},
	{"sensor",
	 {"stat_t", NULL},
	 {"stat_t", "val_tpl", "dev_cla", "unit_of_meas", "stat_cla", "exp_aft",
	  "frc_upd", "ops", "sug_dsp_prc", NULL},
	 {"enum", "duration", "timestamp", NULL}},
	{"binary_sensor",
	 {"stat_t", NULL},
	 {"stat_t", "val_tpl", "dev_cla", "pl_on", "pl_off", "off_dly",
	  "exp_aft", "frc_upd", NULL},
	 {"running", "power", "plug", "connectivity", "problem", NULL}},
	{"event",
	 {"stat_t", "evt_typ", NULL},
	 {"stat_t", "val_tpl", "evt_typ", "dev_cla", NULL},
	 {"button", "doorbell", "motion", NULL}},
};

/* The root of a device-based payload (HA's shared options). */
static const char *const root_keys[] = {
	"dev",	     "o",	 "cmps",     "avty_t",	     "avty",
	"avty_mode", "avty_tpl", "pl_avail", "pl_not_avail", "stat_t",
	"cmd_t",     "qos",	 "e",	     NULL,
};
static const char *const device_keys[] = {
	"ids", "cns", "name", "mf", "mdl",	  "mdl_id", "sw",
	"hw",  "sn",  "sa",   "cu", "via_device", NULL,
};
static const char *const origin_keys[] = {"name", "sw", "url", NULL};

/* Top-level members of the agent's state document (agent_state_json and
 * the providers) that templates may read. */
static const char *const state_members[] = {
	"media",    "usb",	"console", "macro",
	"uptime_s", "keyboard", "phase",   NULL,
};

static bool in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (!strcmp(*l, s))
			return true;
	return false;
}

static const struct platform_rule *rule_for(const char *p)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].platform, p))
			return &rules[i];
	return NULL;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* MQTT filter matching, enough for "+" and "#". */
static bool filter_match(const char *f, const char *t)
{
	while (*f && *t) {
		if (*f == '#')
			return true;
		if (*f == '+') {
			while (*t && *t != '/')
				t++;
			f++;
			continue;
		}
		if (*f != *t)
			return false;
		f++, t++;
	}
	return !*f && !*t;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void check_template(const char *tpl)
{
	const char *p;
	int depth = 0;

	assert_non_null(strstr(tpl, "{{"));
	/* Balanced expression and statement markers. */
	for (p = tpl; *p; p++) {
		if ((p[0] == '{' && (p[1] == '{' || p[1] == '%')))
			depth++, p++;
		else if ((p[0] == '}' || p[0] == '%') && p[1] == '}' &&
			 depth > 0)
			depth--, p++;
	}
	assert_int_equal(depth, 0);
}

/* Every value_json.<member> of a state template is one the state has. */
static void check_state_members(const char *tpl)
{
	const char *p = tpl;

	while ((p = strstr(p, "value_json."))) {
		char m[32];
		size_t n = 0;

		p += strlen("value_json.");
		while ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_')
			n++;
		assert_true(n > 0 && n < sizeof(m));
		memcpy(m, p, n);
		m[n] = '\0';
		if (!in_list(state_members, m))
			fail_msg("template reads state member %s", m);
	}
}

static void check_topics(const char *platform, const cJSON *c)
{
	const char *cmd = str(c, "cmd_t");
	const char *st = str(c, "stat_t");

	if (cmd) {
		const char *name = strrchr(cmd, '/') + 1;

		/* The agent subscribes to it, and it is a command it has. */
		assert_true(filter_match(tp.cmd_filter, cmd));
		assert_non_null(commands_find(name, NULL));
		assert_true(cJSON_IsFalse(cJSON_GetObjectItem(c, "ret")));
	}
	if (st) {
		assert_true(!strcmp(st, tp.pub[TOPIC_STATE]) ||
			    !strcmp(st, tp.pub[TOPIC_RESULT]) ||
			    !strcmp(st, tp.pub[TOPIC_EVENT]));
		if (!strcmp(st, tp.pub[TOPIC_STATE]))
			check_state_members(str(c, "val_tpl"));
	}
	(void)platform;
}

/* One component (with its platform) against the rules. */
static void check_component(const char *key, const cJSON *c,
			    const char *platform)
{
	const struct platform_rule *r = rule_for(platform);
	const cJSON *item;
	const char *uid = str(c, "uniq_id"), *eid = str(c, "def_ent_id");
	const char *dc = str(c, "dev_cla");
	char want[512];

	assert_non_null(r);
	for (int i = 0; r->required[i]; i++)
		if (!cJSON_GetObjectItemCaseSensitive(c, r->required[i]))
			fail_msg("%s %s lacks %s", platform, key,
				 r->required[i]);
	cJSON_ArrayForEach(item, c)
	{
		if (!in_list(common_keys, item->string) &&
		    !in_list(r->allowed, item->string))
			fail_msg("%s %s: key %s is not valid there", platform,
				 key, item->string);
	}
	assert_non_null(str(c, "name"));
	snprintf(want, sizeof(want), "zerobmc_t1_%s", key);
	assert_non_null(uid);
	assert_string_equal(uid, want);
	/* default_entity_id: <platform>.<lower case object id>. */
	assert_non_null(eid);
	assert_true(strlen(eid) <= 255);
	assert_int_equal(strncmp(eid, platform, strlen(platform)), 0);
	assert_int_equal(eid[strlen(platform)], '.');
	for (const char *p = eid + strlen(platform) + 1; *p; p++)
		assert_true((*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '_');
	assert_null(cJSON_GetObjectItem(c, "obj_id"));
	assert_null(cJSON_GetObjectItem(c, "object_id"));
	if (dc && r->device_classes[0] && !in_list(r->device_classes, dc))
		fail_msg("%s %s: device class %s", platform, key, dc);
	if (str(c, "ent_cat"))
		assert_string_equal(str(c, "ent_cat"), "diagnostic");
	if (str(c, "val_tpl"))
		check_template(str(c, "val_tpl"));
	if (str(c, "cmd_tpl"))
		check_template(str(c, "cmd_tpl"));
	if ((item = cJSON_GetObjectItem(c, "max")))
		assert_true(item->valuedouble <= HA_STATE_MAX);
	if ((item = cJSON_GetObjectItem(c, "ops"))) {
		/* Options are states too: at most 255 characters, unique. */
		assert_true(cJSON_GetArraySize(item) > 0);
		for (int i = 0; i < cJSON_GetArraySize(item); i++) {
			const char *o =
				cJSON_GetArrayItem(item, i)->valuestring;

			assert_true(utf8_chars(o) <= HA_STATE_MAX);
			for (int j = 0; j < i; j++)
				assert_string_not_equal(
					o, cJSON_GetArrayItem(item, j)
						   ->valuestring);
		}
		if (!strcmp(platform, "sensor"))
			assert_string_equal(dc, "enum");
	}
	if (!strcmp(platform, "sensor") && dc && !strcmp(dc, "enum"))
		assert_non_null(cJSON_GetObjectItem(c, "ops"));
	check_topics(platform, c);
}

static void check_shared(const cJSON *o)
{
	const cJSON *dev = cJSON_GetObjectItem(o, "dev");
	const cJSON *orig = cJSON_GetObjectItem(o, "o");
	const cJSON *ids = cJSON_GetObjectItem(dev, "ids");
	const cJSON *item;

	assert_non_null(dev);
	assert_non_null(orig);
	cJSON_ArrayForEach(item, dev)
		assert_true(in_list(device_keys, item->string));
	cJSON_ArrayForEach(item, orig)
		assert_true(in_list(origin_keys, item->string));
	assert_true(cJSON_IsArray(ids));
	assert_string_equal(cJSON_GetArrayItem(ids, 0)->valuestring,
			    "zerobmc_t1");
	assert_string_equal(str(dev, "name"), "t1");
	assert_string_equal(str(dev, "mdl"), "zerobmc");
	assert_non_null(str(dev, "mf"));
	assert_string_equal(str(dev, "sw"), "9.9.9");
	assert_string_equal(str(orig, "name"), "zerobmc");
	assert_string_equal(str(orig, "sw"), "9.9.9");
	assert_string_equal(str(orig, "url"), "https://example.org/zerobmc");
	assert_string_equal(str(o, "avty_t"), tp.pub[TOPIC_STATUS]);
}

static cJSON *device_doc(const struct ha_input *in, const struct ha_set *s,
			 const struct ha_set *gone)
{
	char *text = ha_device_config(in, s, gone);
	cJSON *o;

	assert_non_null(text);
	o = cJSON_Parse(text);
	assert_non_null(o);
	free(text);
	return o;
}

/* ---- tests ---- */

static void test_device_payload_follows_rules(void **unused)
{
	struct ha_input in;
	struct ha_set s;
	char topic[256];
	cJSON *o, *cmps, *c, *item;
	int n = 0;

	input(&in, ALL_FEATURES);
	assert_int_equal(ha_set_build(&in, &s), 0);
	assert_int_equal(ha_device_topic(&in, topic, sizeof(topic)), 0);
	assert_string_equal(topic, "homeassistant/device/zerobmc_t1/config");
	o = device_doc(&in, &s, NULL);
	cJSON_ArrayForEach(item, o)
		assert_true(in_list(root_keys, item->string));
	check_shared(o);
	cmps = cJSON_GetObjectItem(o, "cmps");
	assert_non_null(cmps);
	cJSON_ArrayForEach(c, cmps)
	{
		const char *p = str(c, "p");

		assert_non_null(p);
		check_component(c->string, c, p);
		/* Unique ids are unique (the keys of cmps are, by JSON). */
		for (cJSON *d = c->next; d; d = d->next)
			assert_string_not_equal(str(c, "uniq_id"),
						str(d, "uniq_id"));
		n++;
	}
	assert_int_equal(n, (int)s.n);
	cJSON_Delete(o);
	ha_set_free(&s);
}

static void test_entities_present(void **unused)
{
	struct ha_input in;
	struct ha_set s;
	cJSON *o, *cmps, *ops;

	input(&in, ALL_FEATURES);
	assert_int_equal(ha_set_build(&in, &s), 0);
	o = device_doc(&in, &s, NULL);
	cmps = cJSON_GetObjectItem(o, "cmps");
	/* Buttons. */
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "ctrl_alt_del"), "dev_cla"),
		"restart");
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "ctrl_alt_del"), "pl_prs"),
		"soft");
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "ctrl_alt_del"), "cmd_t"),
		"zerobmc/t1/cmd/reboot");
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "sysrq_reboot"), "pl_prs"),
		"sysrq");
	for (const char *const *k =
		     (const char *const[]){
			     "power_on", "power_off", "power_reset",
			     "power_wake", "media", "type_text", "send_keys",
			     "console_input", "host_usb", "console", "macro",
			     "host_running", "command_result", "uptime",
			     "keyboard_leds", NULL};
	     *k; k++)
		if (!cJSON_GetObjectItem(cmps, *k))
			fail_msg("no %s", *k);
	/* One button per macro, its name as the payload. */
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "macro_enter_setup"), "pl_prs"),
		"enter_setup");
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "macro_my-20macro"), "pl_prs"),
		"my macro");
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "macro_boot-2dmenu"), "pl_prs"),
		"boot-menu");
	assert_string_equal(str(cJSON_GetObjectItem(cmps, "macro_boot-2dmenu"),
				"def_ent_id"),
			    "button.zerobmc_t1_macro_boot_2dmenu");
	assert_non_null(cJSON_GetObjectItem(cmps, "macro_boot_menu"));
	assert_non_null(cJSON_GetObjectItem(cmps, "macro_ctrl_alt_del"));
	/* The media select: "none" first, images, no second "none". */
	ops = cJSON_GetObjectItem(cJSON_GetObjectItem(cmps, "media"), "ops");
	assert_int_equal(cJSON_GetArraySize(ops), 4);
	assert_string_equal(cJSON_GetArrayItem(ops, 0)->valuestring, "none");
	assert_string_equal(cJSON_GetArrayItem(ops, 1)->valuestring,
			    "debian-12.iso");
	assert_string_equal(cJSON_GetArrayItem(ops, 3)->valuestring,
			    "débian.iso");
	assert_string_equal(str(cJSON_GetObjectItem(cmps, "media"), "cmd_t"),
			    "zerobmc/t1/cmd/media");
	/* Host USB: every UDC state name is an option. */
	ops = cJSON_GetObjectItem(cJSON_GetObjectItem(cmps, "host_usb"), "ops");
	assert_int_equal(cJSON_GetArraySize(ops), UDC_STATE_COUNT);
	assert_string_equal(
		cJSON_GetArrayItem(ops, UDC_STATE_CONFIGURED)->valuestring,
		"configured");
	/* Events: the result statuses. */
	ops = cJSON_GetObjectItem(cJSON_GetObjectItem(cmps, "command_result"),
				  "evt_typ");
	assert_int_equal(cJSON_GetArraySize(ops), 4);
	assert_string_equal(cJSON_GetArrayItem(ops, 0)->valuestring, "ok");
	assert_string_equal(cJSON_GetArrayItem(ops, 1)->valuestring, "error");
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "command_result"), "stat_t"),
		"zerobmc/t1/result");
	/* The console's last line is cut to a state's 255 characters. */
	assert_non_null(
		strstr(str(cJSON_GetObjectItem(cmps, "console"), "val_tpl"),
		       "[:255]"));
	assert_string_equal(str(cJSON_GetObjectItem(cmps, "uptime"), "ent_cat"),
			    "diagnostic");
	assert_string_equal(
		str(cJSON_GetObjectItem(cmps, "keyboard_leds"), "ent_cat"),
		"diagnostic");
	cJSON_Delete(o);
	ha_set_free(&s);
}

static void test_features_gate_entities(void **unused)
{
	static const char *const gated[] = {
		"power_on", "power_off",     "power_reset", "power_wake",
		"media",    "console_input", "host_usb",    "console",
		"macro",    "host_running",  NULL,
	};
	struct ha_input in;
	struct ha_set s;

	input(&in, 0);
	assert_int_equal(ha_set_build(&in, &s), 0);
	for (size_t i = 0; i < s.n; i++) {
		assert_false(in_list(gated, s.v[i].key));
		assert_int_not_equal(strncmp(s.v[i].key, "macro_", 6), 0);
	}
	/* The keyboard, results, the server phase and its events, and the
	 * diagnostics are always there. */
	assert_int_equal(s.n, 9);
	ha_set_free(&s);
}

static void test_removed_entities(void **unused)
{
	static const char *const fewer[] = {"enter_setup", NULL};
	struct ha_input in;
	struct ha_set before, after, gone;
	cJSON *o, *cmps, *marker;
	bool seen_macro = false, seen_media = false;

	input(&in, ALL_FEATURES);
	assert_int_equal(ha_set_build(&in, &before), 0);
	/* A macro went away, and the media capability too. */
	list_macros = fewer;
	input(&in, ALL_FEATURES & ~HA_F_MEDIA);
	assert_int_equal(ha_set_build(&in, &after), 0);
	assert_int_equal(ha_set_removed(&before, &after, &gone), 0);
	for (size_t i = 0; i < gone.n; i++) {
		seen_macro |= !strcmp(gone.v[i].key, "macro_boot_menu");
		seen_media |= !strcmp(gone.v[i].key, "media");
		assert_string_not_equal(gone.v[i].key, "macro_enter_setup");
	}
	assert_true(seen_macro && seen_media);
	assert_int_equal(gone.n, 5); /* 4 macros and the select */
	/* Device-based: a removal marker is the platform and nothing else. */
	o = device_doc(&in, &after, &gone);
	cmps = cJSON_GetObjectItem(o, "cmps");
	marker = cJSON_GetObjectItem(cmps, "macro_boot_menu");
	assert_non_null(marker);
	assert_int_equal(cJSON_GetArraySize(marker), 1);
	assert_string_equal(str(marker, "p"), "button");
	marker = cJSON_GetObjectItem(cmps, "media");
	assert_int_equal(cJSON_GetArraySize(marker), 1);
	assert_string_equal(str(marker, "p"), "select");
	assert_non_null(
		str(cJSON_GetObjectItem(cmps, "macro_enter_setup"), "uniq_id"));
	cJSON_Delete(o);
	/* And the final payload has them no more. */
	o = device_doc(&in, &after, NULL);
	cmps = cJSON_GetObjectItem(o, "cmps");
	assert_null(cJSON_GetObjectItem(cmps, "macro_boot_menu"));
	assert_null(cJSON_GetObjectItem(cmps, "media"));
	cJSON_Delete(o);
	list_macros = NULL;
	ha_set_free(&before);
	ha_set_free(&after);
	ha_set_free(&gone);
}

static void test_per_entity(void **unused)
{
	struct ha_input in;
	struct ha_set s;
	char topic[512], want[512];

	input(&in, ALL_FEATURES);
	in.prefix = "ha2";
	assert_int_equal(ha_set_build(&in, &s), 0);
	for (size_t i = 0; i < s.n; i++) {
		const char *platform =
			ha_platform_name(ha_entity_platform(&s.v[i]));
		char *text = ha_entity_config(&in, &s.v[i]);
		cJSON *o = cJSON_Parse(text);

		assert_non_null(o);
		assert_int_equal(
			ha_entity_topic(&in, &s.v[i], topic, sizeof(topic)), 0);
		snprintf(want, sizeof(want), "ha2/%s/zerobmc_t1/%s/config",
			 platform, s.v[i].key);
		assert_string_equal(topic, want);
		/* The topic names the platform: no "p" in the payload. */
		assert_null(cJSON_GetObjectItem(o, "p"));
		check_shared(o);
		check_component(s.v[i].key, o, platform);
		cJSON_Delete(o);
		free(text);
	}
	ha_set_free(&s);
}

static void test_bad_input_and_limits(void **unused)
{
	static char long_name[300];
	static const char *const odd[] = {long_name, "ok", "", NULL};
	struct ha_input in;
	struct ha_set s;
	char small[16];
	char id[65];

	input(&in, ALL_FEATURES);
	in.id = "bad id";
	assert_int_equal(ha_set_build(&in, &s), -EINVAL);
	assert_null(ha_device_config(&in, &s, NULL));
	input(&in, ALL_FEATURES);
	in.prefix = "home/#";
	assert_int_equal(ha_set_build(&in, &s), -EINVAL);
	input(&in, ALL_FEATURES);
	assert_int_equal(ha_device_topic(&in, small, sizeof(small)),
			 -ENAMETOOLONG);

	/* A macro whose key cannot fit is left out, an empty name too. */
	memset(long_name, 'a', sizeof(long_name) - 1);
	list_macros = odd;
	input(&in, HA_F_MACROS);
	assert_int_equal(ha_set_build(&in, &s), 0);
	for (size_t i = 0; i < s.n; i++)
		assert_true(strlen(s.v[i].key) < HA_KEY_MAX);
	assert_int_equal(s.n, 11);
	ha_set_free(&s);
	list_macros = NULL;

	/* The longest id and a 64-character macro name still give entity
	 * ids within Home Assistant's 255 characters. */
	memset(id, 'Z', 64);
	id[64] = '\0';
	memset(long_name, 'm', 64);
	long_name[64] = '\0';
	list_macros = odd;
	input(&in, ALL_FEATURES);
	in.id = id;
	assert_int_equal(ha_set_build(&in, &s), 0);
	for (size_t i = 0; i < s.n; i++) {
		char *text = ha_entity_config(&in, &s.v[i]);
		cJSON *o = cJSON_Parse(text);

		assert_true(strlen(str(o, "def_ent_id")) <= 255);
		cJSON_Delete(o);
		free(text);
	}
	ha_set_free(&s);
	list_macros = NULL;
}

static void test_hash(void **unused)
{
	assert_true(ha_hash(HA_HASH_INIT, "a") != ha_hash(HA_HASH_INIT, "b"));
	assert_true(ha_hash(HA_HASH_INIT, "ab") ==
		    ha_hash(ha_hash(HA_HASH_INIT, "a"), "b"));
	assert_true(ha_hash(HA_HASH_INIT, NULL) == HA_HASH_INIT);
}

/* A device payload of many components (e.g. 100,000 in 8 MiB retained on
 * our own topic) is refused by size and by count, not parsed at length;
 * within the limits, repeated keys count once. */
static char *components(size_t n, size_t distinct)
{
	size_t cap = 64 + n * 48, o = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	o += (size_t)snprintf(buf + o, cap - o, "{\"cmps\":{");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, cap - o,
				      "%s\"k%zu\":{\"p\":\"button\",\"n\":1}",
				      i ? "," : "", i % distinct);
	snprintf(buf + o, cap - o, "}}");
	return buf;
}

static void test_device_payload_limits(void **state)
{
	struct ha_set set = {0};
	char *big = components(100000, 100000);
	char *many = components(HA_SET_MAX + 1, HA_SET_MAX + 1);
	char *dups = components(HA_SET_MAX, 10);

	assert_true(strlen(big) > HA_DEVICE_CONFIG_MAX);
	assert_int_equal(ha_device_config_parse(big, strlen(big), &set),
			 -E2BIG);
	assert_int_equal(set.n, 0);
	assert_int_equal(ha_device_config_parse(many, strlen(many), &set),
			 -E2BIG);
	ha_set_free(&set);
	assert_int_equal(ha_device_config_parse(dups, strlen(dups), &set), 0);
	assert_int_equal(set.n, 10);
	ha_set_free(&set);
	free(big);
	free(many);
	free(dups);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_payload_follows_rules),
		cmocka_unit_test(test_entities_present),
		cmocka_unit_test(test_features_gate_entities),
		cmocka_unit_test(test_removed_entities),
		cmocka_unit_test(test_per_entity),
		cmocka_unit_test(test_bad_input_and_limits),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_device_payload_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
