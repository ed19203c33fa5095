/*
 * Configuration: a table of every section and key, parsed by type.
 * Unknown sections and keys are errors so that a typo never silently
 * falls back to a default.
 */
#include "firmware/core/config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firmware/core/addr.h"
#include "firmware/core/log.h"
#include "firmware/power/power.h"

enum config_type {
	CT_STR,
	CT_PATH,
	CT_BOOL,
	CT_INT,
	CT_U16,
	CT_U32,
	CT_HEX16,
	CT_LOGLEVEL,
	CT_GROUPS,
	CT_ID,
	CT_SIZE,
};

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	size_t offset;
	size_t size;   /* of the destination string */
	long min, max; /* for numbers */
};

#define OFF(f) offsetof(struct config, f)
#define SZ(f) sizeof(((struct config *)0)->f)
#define STR(s, k, f)                                                           \
	{                                                                      \
		s, k, CT_STR, OFF(f), SZ(f), 0, 0                              \
	}
#define PATH(s, k, f)                                                          \
	{                                                                      \
		s, k, CT_PATH, OFF(f), SZ(f), 0, 0                             \
	}
#define BOOL(s, k, f)                                                          \
	{                                                                      \
		s, k, CT_BOOL, OFF(f), 0, 0, 1                                 \
	}
#define INT(s, k, f, lo, hi)                                                   \
	{                                                                      \
		s, k, CT_INT, OFF(f), 0, lo, hi                                \
	}
#define U16(s, k, f, lo, hi)                                                   \
	{                                                                      \
		s, k, CT_U16, OFF(f), 0, lo, hi                                \
	}
#define SIZE(s, k, f, lo, hi)                                                  \
	{                                                                      \
		s, k, CT_SIZE, OFF(f), 0, lo, hi                               \
	}

static const struct config_key config_keys[] = {
	{"agent", "id", CT_ID, OFF(agent.id), SZ(agent.id), 0, 0},
	STR("agent", "base_topic", agent.base_topic),
	{"agent", "groups", CT_GROUPS, 0, 0, 0, 0},
	{"agent", "log_level", CT_LOGLEVEL, OFF(agent.log_level), 0, 0, 3},
	SIZE("agent", "max_payload", agent.max_payload, 256, 16 << 20),

	STR("mqtt", "uri", mqtt.uri),
	STR("mqtt", "client_id", mqtt.client_id),
	STR("mqtt", "username", mqtt.username),
	PATH("mqtt", "password_file", mqtt.password_file),
	PATH("mqtt", "ca_file", mqtt.ca_file),
	PATH("mqtt", "cert_file", mqtt.cert_file),
	PATH("mqtt", "key_file", mqtt.key_file),
	STR("mqtt", "tls_server_name", mqtt.tls_server_name),
	STR("mqtt", "psk_identity", mqtt.psk_identity),
	PATH("mqtt", "psk_file", mqtt.psk_file),
	INT("mqtt", "keepalive", mqtt.keepalive, 5, 3600),

	BOOL("gadget", "manage", gadget.manage),
	STR("gadget", "udc", gadget.udc),
	STR("gadget", "name", gadget.name),
	{"gadget", "vendor_id", CT_HEX16, OFF(gadget.vendor_id), 0, 0, 0},
	{"gadget", "product_id", CT_HEX16, OFF(gadget.product_id), 0, 0, 0},
	STR("gadget", "serial", gadget.serial),
	STR("gadget", "manufacturer", gadget.manufacturer),
	STR("gadget", "product", gadget.product),
	INT("gadget", "luns", gadget.luns, 1, 8),
	PATH("gadget", "udc_state", gadget.udc_state),

	PATH("keyboard", "device", keyboard.device),
	STR("keyboard", "layout", keyboard.layout),
	STR("keyboard", "profile", keyboard.profile),
	INT("keyboard", "write_timeout_ms", keyboard.write_timeout_ms, 10,
	    600000),
	INT("keyboard", "hold_timeout_ms", keyboard.hold_timeout_ms, 10,
	    3600000),

	PATH("console", "device", console.device),
	INT("console", "idle_flush_ms", console.idle_flush_ms, 0, 60000),
	SIZE("console", "ring_bytes", console.ring_bytes, 4096, 256 << 20),
	INT("console", "history_lines", console.history_lines, 0, 100000),
	INT("console", "write_timeout_ms", console.write_timeout_ms, 10,
	    600000),
	BOOL("console", "strip_ansi", console.strip_ansi),
	BOOL("console", "raw_topic", console.raw_topic),

	PATH("media", "dir", media.dir),
	PATH("media", "lun", media.lun),
	PATH("media", "state_file", media.state_file),
	BOOL("media", "allow_writable", media.allow_writable),

	PATH("macros", "dir", macros.dir),

	STR("power", "wol_mac", power.wol_mac),
	STR("power", "wol_broadcast", power.wol_broadcast),
	U16("power", "wol_port", power.wol_port, 1, 65535),
	PATH("power", "gpio_chip", power.gpio_chip),
	INT("power", "power_line", power.power_line, -1, 1023),
	INT("power", "reset_line", power.reset_line, -1, 1023),
	INT("power", "power_led_line", power.power_led_line, -1, 1023),
	BOOL("power", "active_low", power.active_low),
	BOOL("power", "led_active_low", power.led_active_low),
	INT("power", "short_press_ms", power.short_press_ms, 50, 10000),
	INT("power", "long_press_ms", power.long_press_ms, 1000, 30000),
	INT("power", "cycle_wait_ms", power.cycle_wait_ms, 0, 60000),

	INT("timeline", "reenum_min_ms", timeline.reenum_min_ms, 0, 600000),
	INT("timeline", "media_burst_gap_ms", timeline.media_burst_gap_ms, 100,
	    600000),
	INT("timeline", "console_quiet_ms", timeline.console_quiet_ms, 0,
	    3600000),
	INT("timeline", "events_per_s", timeline.events_per_s, 1, 1000),

	BOOL("homeassistant", "discovery", homeassistant.discovery),
	STR("homeassistant", "prefix", homeassistant.prefix),
	BOOL("homeassistant", "per_entity", homeassistant.per_entity),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->agent.base_topic, sizeof(c->agent.base_topic), "zerobmc");
	c->agent.log_level = LOG_LVL_INFO;
	c->agent.max_payload = 64 * 1024;
	snprintf(c->mqtt.uri, sizeof(c->mqtt.uri), "tcp://127.0.0.1:1883");
	c->mqtt.keepalive = 30;
	c->gadget.manage = false;
	snprintf(c->gadget.name, sizeof(c->gadget.name), "zerobmc");
	c->gadget.vendor_id = 0x1d6b;
	c->gadget.product_id = 0x0104;
	/* Empty: the gadget derives one from /etc/machine-id. */
	snprintf(c->gadget.manufacturer, sizeof(c->gadget.manufacturer),
		 "zerobmc");
	snprintf(c->gadget.product, sizeof(c->gadget.product),
		 "zerobmc keyboard, storage and console");
	c->gadget.luns = 1;
	snprintf(c->keyboard.device, sizeof(c->keyboard.device), "/dev/hidg0");
	snprintf(c->keyboard.layout, sizeof(c->keyboard.layout), "us");
	snprintf(c->keyboard.profile, sizeof(c->keyboard.profile), "fast");
	c->keyboard.write_timeout_ms = 2000;
	c->keyboard.hold_timeout_ms = 10000;
	snprintf(c->console.device, sizeof(c->console.device), "/dev/ttyGS0");
	c->console.idle_flush_ms = 200;
	c->console.ring_bytes = 1 << 20;
	c->console.history_lines = 500;
	c->console.write_timeout_ms = 2000;
	c->console.strip_ansi = true;
	c->console.raw_topic = true;
	snprintf(c->media.dir, sizeof(c->media.dir), "/var/lib/zerobmc/images");
	snprintf(c->media.state_file, sizeof(c->media.state_file),
		 "/var/lib/zerobmc/media.state");
	snprintf(c->macros.dir, sizeof(c->macros.dir), "/etc/zerobmc/macros");
	snprintf(c->power.wol_broadcast, sizeof(c->power.wol_broadcast),
		 "255.255.255.255");
	c->power.wol_port = 9;
	c->power.power_line = -1;
	c->power.reset_line = -1;
	c->power.power_led_line = -1;
	c->power.short_press_ms = 300;
	c->power.long_press_ms = 5000;
	c->power.cycle_wait_ms = 5000;
	c->timeline.reenum_min_ms = 5000;
	c->timeline.media_burst_gap_ms = 2000;
	c->timeline.console_quiet_ms = 10000;
	c->timeline.events_per_s = 20;
	c->homeassistant.discovery = true;
	snprintf(c->homeassistant.prefix, sizeof(c->homeassistant.prefix),
		 "homeassistant");
}

bool config_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n < 1 || n > TOPICS_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool config_topic_safe(const char *s)
{
	/* Topic levels must not carry wildcards or control bytes. */
	for (; *s; s++)
		if (*s == '+' || *s == '#' || (unsigned char)*s < 0x20)
			return false;
	return true;
}

static int config_parse_long(const char *v, long lo, long hi, int base,
			     long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, base);
	if (errno || end == v || *end != '\0')
		return -EINVAL;
	if (n < lo || n > hi)
		return -ERANGE;
	*out = n;
	return 0;
}

/* "64K", "1M", "512" */
static int config_parse_size(const char *v, long lo, long hi, long *out)
{
	char *end;
	long long n;
	long long mul = 1;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end != '\0')
		return -EINVAL;
	if (n > LONG_MAX / mul || n * mul < lo || n * mul > hi)
		return -ERANGE;
	*out = (long)(n * mul);
	return 0;
}

static int config_set(struct config *c, const struct config_key *k,
		      const char *v, char *msg, size_t msglen)
{
	char *base = (char *)c;
	long n;
	int r;

	switch (k->type) {
	case CT_STR:
	case CT_PATH:
	case CT_ID:
		if (strlen(v) >= k->size) {
			snprintf(msg, msglen, "value longer than %zu bytes",
				 k->size - 1);
			return -EINVAL;
		}
		if (k->type == CT_PATH && v[0] && v[0] != '/') {
			snprintf(msg, msglen, "'%s' is not an absolute path",
				 v);
			return -EINVAL;
		}
		if (k->type == CT_ID && !config_id_valid(v)) {
			snprintf(msg, msglen,
				 "'%s' must match [A-Za-z0-9_-]{1,64}", v);
			return -EINVAL;
		}
		snprintf(base + k->offset, k->size, "%s", v);
		return 0;
	case CT_BOOL:
		if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
		    !strcasecmp(v, "on") || !strcmp(v, "1"))
			*(bool *)(base + k->offset) = true;
		else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
			 !strcasecmp(v, "off") || !strcmp(v, "0"))
			*(bool *)(base + k->offset) = false;
		else {
			snprintf(msg, msglen,
				 "'%s' is not a boolean (true or false)", v);
			return -EINVAL;
		}
		return 0;
	case CT_INT:
	case CT_U16:
		r = config_parse_long(v, k->min, k->max, 10, &n);
		if (r) {
			snprintf(msg, msglen,
				 "'%s' is not a number from %ld to %ld", v,
				 k->min, k->max);
			return r;
		}
		if (k->type == CT_INT)
			*(int *)(base + k->offset) = (int)n;
		else
			*(uint16_t *)(base + k->offset) = (uint16_t)n;
		return 0;
	case CT_SIZE:
	case CT_U32:
		r = config_parse_size(v, k->min, k->max, &n);
		if (r) {
			snprintf(msg, msglen,
				 "'%s' is not a size from %ld to %ld bytes "
				 "(K and M suffixes allowed)",
				 v, k->min, k->max);
			return r;
		}
		*(uint32_t *)(base + k->offset) = (uint32_t)n;
		return 0;
	case CT_HEX16:
		r = config_parse_long(v, 0, 0xffff, 0, &n);
		if (r) {
			snprintf(msg, msglen,
				 "'%s' is not a 16-bit id (e.g. 0x1d6b)", v);
			return r;
		}
		*(uint16_t *)(base + k->offset) = (uint16_t)n;
		return 0;
	case CT_LOGLEVEL:
		r = log_level_parse(v);
		if (r < 0) {
			snprintf(msg, msglen,
				 "'%s' is not one of error, warn, info, debug",
				 v);
			return -EINVAL;
		}
		c->agent.log_level = r;
		return 0;
	case CT_GROUPS: {
		char tmp[CONFIG_GROUPS_MAX * 66];
		char *save = NULL;
		char *tok;

		if (strlen(v) >= sizeof(tmp)) {
			snprintf(msg, msglen, "too long");
			return -EINVAL;
		}
		snprintf(tmp, sizeof(tmp), "%s", v);
		c->agent.n_groups = 0;
		for (tok = strtok_r(tmp, ", \t", &save); tok;
		     tok = strtok_r(NULL, ", \t", &save)) {
			if (!config_id_valid(tok)) {
				snprintf(msg, msglen,
					 "group '%.64s' must match "
					 "[A-Za-z0-9_-]{1,64}",
					 tok);
				return -EINVAL;
			}
			if (c->agent.n_groups == CONFIG_GROUPS_MAX) {
				snprintf(msg, msglen, "more than %d groups",
					 CONFIG_GROUPS_MAX);
				return -EINVAL;
			}
			snprintf(c->agent.groups[c->agent.n_groups++],
				 sizeof(c->agent.groups[0]), "%s", tok);
		}
		return 0;
	}
	}
	return -EINVAL;
}

struct config_parse_ctx {
	FILE *f;
	int line; /* lines read so far: the handler's line number */
	struct config *c;
	struct config_error *err;
	int failed;
	unsigned char seen[N_KEYS];
};

static bool config_section_known(const char *section)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcmp(config_keys[i].section, section))
			return true;
	return false;
}

static void config_err_set(struct config_error *e, int line,
			   const char *section, const char *key,
			   const char *msg)
{
	e->line = line;
	snprintf(e->section, sizeof(e->section), "%s", section ? section : "");
	snprintf(e->key, sizeof(e->key), "%s", key ? key : "");
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
}

/*
 * Debian's libinih passes no line numbers to handlers, so the reader
 * counts the lines it hands over.
 */
static char *config_reader(char *buf, int size, void *stream)
{
	struct config_parse_ctx *ctx = stream;
	char *r = fgets(buf, size, ctx->f);

	if (r)
		ctx->line++;
	return r;
}

static int config_ini_handler(void *user, const char *section, const char *key,
			      const char *value)
{
	struct config_parse_ctx *ctx = user;
	int lineno = ctx->line;
	char msg[200];

	if (ctx->failed)
		return 0;
	if (!config_section_known(section)) {
		snprintf(msg, sizeof(msg), "unknown section [%.64s]", section);
		config_err_set(ctx->err, lineno, section, NULL, msg);
		ctx->failed = 1;
		return 0;
	}
	if (!key) /* a section header on its own */
		return 1;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(k->section, section) || strcmp(k->key, key))
			continue;
		if (ctx->seen[i]) {
			config_err_set(ctx->err, lineno, section, key,
				       "key given twice");
			ctx->failed = 1;
			return 0;
		}
		ctx->seen[i] = 1;
		if (config_set(ctx->c, k, value, msg, sizeof(msg))) {
			config_err_set(ctx->err, lineno, section, key, msg);
			ctx->failed = 1;
			return 0;
		}
		return 1;
	}
	snprintf(msg, sizeof(msg), "unknown key '%.64s' in [%.64s]", key,
		 section);
	config_err_set(ctx->err, lineno, section, key, msg);
	ctx->failed = 1;
	return 0;
}

static int config_parse_uri(struct config *c, struct config_error *err)
{
	static const struct {
		const char *scheme;
		bool tls;
		uint16_t port;
	} schemes[] = {
		{"tcp://", false, 1883},
		{"mqtt://", false, 1883},
		{"mqtts://", true, 8883},
		{"ssl://", true, 8883},
	};
	const char *rest = NULL;
	const char *colon;
	size_t hostlen;
	long port;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].scheme);

		if (!strncasecmp(c->mqtt.uri, schemes[i].scheme, n)) {
			rest = c->mqtt.uri + n;
			c->mqtt.tls = schemes[i].tls;
			c->mqtt.port = schemes[i].port;
			break;
		}
	}
	if (!rest) {
		config_err_set(err, 0, "mqtt", "uri",
			       "must start with tcp:// or mqtts://");
		return -EINVAL;
	}
	if (rest[0] == '[') { /* [ipv6]:port */
		const char *end = strchr(rest, ']');

		if (!end) {
			config_err_set(err, 0, "mqtt", "uri",
				       "unterminated [IPv6 address]");
			return -EINVAL;
		}
		hostlen = (size_t)(end - rest - 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		rest++;
		if (end[1] && end[1] != ':' && end[1] != '/') {
			config_err_set(err, 0, "mqtt", "uri",
				       "junk after the IPv6 address");
			return -EINVAL;
		}
	} else {
		colon = strchr(rest, ':');
		hostlen = colon ? (size_t)(colon - rest) : strcspn(rest, "/");
	}
	if (hostlen == 0 || hostlen >= sizeof(c->mqtt.host)) {
		config_err_set(err, 0, "mqtt", "uri", "missing or long host");
		return -EINVAL;
	}
	memcpy(c->mqtt.host, rest, hostlen);
	c->mqtt.host[hostlen] = '\0';
	if (colon) {
		char portbuf[8];
		size_t plen = strcspn(colon + 1, "/");

		if (plen == 0 || plen >= sizeof(portbuf)) {
			config_err_set(err, 0, "mqtt", "uri", "bad port");
			return -EINVAL;
		}
		memcpy(portbuf, colon + 1, plen);
		portbuf[plen] = '\0';
		if (config_parse_long(portbuf, 1, 65535, 10, &port)) {
			config_err_set(err, 0, "mqtt", "uri",
				       "port must be from 1 to 65535");
			return -EINVAL;
		}
		c->mqtt.port = (uint16_t)port;
	}
	return 0;
}

/* Pins without a chip, one line twice, a bad MAC or address. */
static int config_validate_power(const struct config *c,
				 struct config_error *err)
{
	const int *lines[] = {&c->power.power_line, &c->power.reset_line,
			      &c->power.power_led_line};
	struct sockaddr_in to;
	uint8_t mac[6];

	for (int i = 0; i < 3; i++)
		for (int k = i + 1; k < 3; k++)
			if (*lines[i] >= 0 && *lines[i] == *lines[k]) {
				config_err_set(err, 0, "power", "reset_line",
					       "power_line, reset_line and "
					       "power_led_line must differ");
				return -EINVAL;
			}
	if (!c->power.gpio_chip[0] &&
	    (c->power.power_line >= 0 || c->power.reset_line >= 0 ||
	     c->power.power_led_line >= 0)) {
		config_err_set(err, 0, "power", "gpio_chip",
			       "missing: the lines need their chip (e.g. "
			       "/dev/gpiochip0)");
		return -EINVAL;
	}
	if (c->power.wol_mac[0] && addr_mac_parse(c->power.wol_mac, mac)) {
		config_err_set(err, 0, "power", "wol_mac",
			       "not a MAC address (aa:bb:cc:dd:ee:ff)");
		return -EINVAL;
	}
	if (c->power.wol_mac[0] &&
	    addr_ipv4(c->power.wol_broadcast, c->power.wol_port, &to)) {
		config_err_set(err, 0, "power", "wol_broadcast",
			       "not a numeric IPv4 address (e.g. "
			       "192.168.1.255)");
		return -EINVAL;
	}
	return 0;
}

int config_validate(struct config *c, struct config_error *err)
{
	if (!c->agent.id[0]) {
		config_err_set(
			err, 0, "agent", "id",
			"missing: the managed server's name is required");
		return -EINVAL;
	}
	if (!c->agent.base_topic[0] ||
	    !config_topic_safe(c->agent.base_topic)) {
		config_err_set(err, 0, "agent", "base_topic",
			       "must be non-empty, without + # or control "
			       "characters");
		return -EINVAL;
	}
	if (!config_topic_safe(c->homeassistant.prefix) ||
	    !c->homeassistant.prefix[0]) {
		config_err_set(err, 0, "homeassistant", "prefix",
			       "must be non-empty, without + # or control "
			       "characters");
		return -EINVAL;
	}
	if (config_parse_uri(c, err))
		return -EINVAL;
	if (!c->mqtt.tls && (c->mqtt.ca_file[0] || c->mqtt.cert_file[0] ||
			     c->mqtt.psk_file[0])) {
		config_err_set(err, 0, "mqtt", "uri",
			       "TLS settings are given but the uri is not "
			       "mqtts://: refusing to connect in clear");
		return -EINVAL;
	}
	if (!!c->mqtt.cert_file[0] != !!c->mqtt.key_file[0]) {
		config_err_set(err, 0, "mqtt",
			       c->mqtt.cert_file[0] ? "key_file" : "cert_file",
			       "cert_file and key_file go together");
		return -EINVAL;
	}
	if (!!c->mqtt.psk_identity[0] != !!c->mqtt.psk_file[0]) {
		config_err_set(err, 0, "mqtt",
			       c->mqtt.psk_file[0] ? "psk_identity"
						   : "psk_file",
			       "psk_identity and psk_file go together");
		return -EINVAL;
	}
	if (c->mqtt.psk_file[0] &&
	    (c->mqtt.ca_file[0] || c->mqtt.cert_file[0])) {
		config_err_set(err, 0, "mqtt", "psk_file",
			       "TLS-PSK uses no certificates: give either "
			       "psk_identity + psk_file, or ca_file and "
			       "cert_file + key_file");
		return -EINVAL;
	}
	if (config_validate_power(c, err))
		return -EINVAL;
	if (!c->mqtt.client_id[0])
		snprintf(c->mqtt.client_id, sizeof(c->mqtt.client_id),
			 "zerobmc-%.64s", c->agent.id);
	return 0;
}

int config_load(struct config *c, const char *path, struct config_error *err)
{
	struct config_parse_ctx ctx = {.c = c, .err = err};
	FILE *f;
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);
	f = fopen(path, "r");
	if (!f) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "cannot open: %s",
			 strerror(errno));
		return r;
	}
	ctx.f = f;
	r = ini_parse_stream(config_reader, &ctx, config_ini_handler, &ctx);
	fclose(f);
	if (ctx.failed)
		return -EINVAL;
	if (r > 0) {
		config_err_set(err, r, NULL, NULL,
			       "syntax error (expected [section] or "
			       "key = value)");
		return -EINVAL;
	}
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot read");
		return -EIO;
	}
	return config_validate(c, err);
}

void config_error_format(const struct config_error *e, char *buf, size_t len)
{
	char where[300];

	if (e->line > 0)
		snprintf(where, sizeof(where), "%s:%d", e->file, e->line);
	else
		snprintf(where, sizeof(where), "%s", e->file);
	if (e->key[0])
		snprintf(buf, len, "%s: [%s] %s: %s", where, e->section, e->key,
			 e->msg);
	else if (e->section[0])
		snprintf(buf, len, "%s: [%s]: %s", where, e->section, e->msg);
	else
		snprintf(buf, len, "%s: %s", where, e->msg);
}
