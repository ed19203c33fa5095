/*
 * Reading the INI file: each value parsed by its row's type, errors
 * naming file:line: [section] key.
 */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firmware/core/config_priv.h"
#include "firmware/core/log.h"

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
	unsigned char seen[CONFIG_KEYS_MAX];
};

static bool config_section_known(const char *section)
{
	for (size_t i = 0; i < config_n_keys; i++)
		if (!strcmp(config_keys[i].section, section))
			return true;
	return false;
}

void config_err_set(struct config_error *e, int line, const char *section,
		    const char *key, const char *msg)
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
	for (size_t i = 0; i < config_n_keys; i++) {
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

/* One URI of the list: scheme, host and port. */
static int config_parse_one_uri(const char *uri, bool *tls, char *host,
				uint16_t *portp, struct config_error *err)
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

		if (!strncasecmp(uri, schemes[i].scheme, n)) {
			rest = uri + n;
			*tls = schemes[i].tls;
			*portp = schemes[i].port;
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
	if (hostlen == 0 || hostlen >= CONFIG_STR_MAX) {
		config_err_set(err, 0, "mqtt", "uri", "missing or long host");
		return -EINVAL;
	}
	memcpy(host, rest, hostlen);
	host[hostlen] = '\0';
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
		*portp = (uint16_t)port;
	}
	return 0;
}

/*
 * uri is a list: the agent tries each broker in turn. They share one
 * set of TLS settings, so they are all plain or all TLS.
 */
int config_parse_uri(struct config *c, struct config_error *err)
{
	const char *p = c->mqtt.uri;
	char one[CONFIG_PATH_MAX];
	int n = 0;

	for (;;) {
		size_t len;
		bool tls = false;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (!len)
			break;
		if (n == CONFIG_BROKERS_MAX) {
			config_err_set(err, 0, "mqtt", "uri",
				       "more than 4 URIs");
			return -EINVAL;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		if (config_parse_one_uri(one, &tls, c->mqtt.brokers[n].host,
					 &c->mqtt.brokers[n].port, err))
			return -EINVAL;
		if (n && tls != c->mqtt.tls) {
			config_err_set(err, 0, "mqtt", "uri",
				       "mixes tcp:// and mqtts:// URIs: they "
				       "share one set of TLS settings");
			return -EINVAL;
		}
		c->mqtt.tls = tls;
		n++;
		p += len;
	}
	if (!n) {
		config_err_set(err, 0, "mqtt", "uri",
			       "must start with tcp:// or mqtts://");
		return -EINVAL;
	}
	c->mqtt.n_brokers = n;
	snprintf(c->mqtt.host, sizeof(c->mqtt.host), "%s",
		 c->mqtt.brokers[0].host);
	c->mqtt.port = c->mqtt.brokers[0].port;
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
