/*
 * The gateway's INI file: [redfish] (HTTP side, users, allow-list),
 * [mqtt] (the same keys as the agent's) and [agent] base_topic.
 */
#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/log.h"
#include "redfish/rf.h"

struct rf_config_ctx {
	struct rf_config *c;
	char err[256];
};

static int rf_config_str(char *dst, size_t n, const char *v)
{
	if (strlen(v) >= n)
		return -ENAMETOOLONG;
	snprintf(dst, n, "%s", v);
	return 0;
}

static int rf_config_int(int *dst, const char *v, int lo, int hi)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (!*v || *end || x < lo || x > hi)
		return -EINVAL;
	*dst = (int)x;
	return 0;
}

static int rf_config_bool(bool *dst, const char *v)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
		*dst = true;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
		*dst = false;
	else
		return -EINVAL;
	return 0;
}

static int rf_config_allow(struct rf_config *c, const char *v)
{
	char buf[4096], *save = NULL, *tok;

	if (rf_config_str(buf, sizeof(buf), v))
		return -ENAMETOOLONG;
	c->n_allow = 0;
	for (tok = strtok_r(buf, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (c->n_allow == RF_PATTERNS_MAX)
			return -E2BIG;
		if (rf_config_str(c->allow[c->n_allow], sizeof(c->allow[0]),
				  tok))
			return -ENAMETOOLONG;
		c->n_allow++;
	}
	return 0;
}

static int rf_config_redfish(struct rf_config *c, const char *k, const char *v)
{
	int port;

	if (!strcmp(k, "listen"))
		return rf_config_str(c->listen, sizeof(c->listen), v);
	if (!strcmp(k, "port")) {
		if (rf_config_int(&port, v, 0, 65535))
			return -EINVAL;
		c->port = (uint16_t)port;
		return 0;
	}
	if (!strcmp(k, "tls"))
		return rf_config_bool(&c->tls, v);
	if (!strcmp(k, "cert_file"))
		return rf_config_str(c->cert_file, sizeof(c->cert_file), v);
	if (!strcmp(k, "key_file"))
		return rf_config_str(c->key_file, sizeof(c->key_file), v);
	if (!strcmp(k, "users_file"))
		return rf_config_str(c->users_file, sizeof(c->users_file), v);
	if (!strcmp(k, "systems"))
		return rf_config_allow(c, v);
	if (!strcmp(k, "timeout_s"))
		return rf_config_int(&c->timeout_s, v, 1, 3600);
	if (!strcmp(k, "long_timeout_s"))
		return rf_config_int(&c->long_timeout_s, v, 1, 86400);
	if (!strcmp(k, "accept_s"))
		return rf_config_int(&c->accept_s, v, 1, 3600);
	if (!strcmp(k, "session_timeout_s"))
		return rf_config_int(&c->session_timeout_s, v, 30, 86400);
	if (!strcmp(k, "retry_after_s"))
		return rf_config_int(&c->retry_after_s, v, 1, 3600);
	if (!strcmp(k, "state_dir"))
		return rf_config_str(c->state_dir, sizeof(c->state_dir), v);
	if (!strcmp(k, "log_level")) {
		c->log_level = log_level_parse(v);
		return c->log_level < 0 ? -EINVAL : 0;
	}
	return -ENOENT;
}

static int rf_config_mqtt(struct config *n, const char *k, const char *v)
{
	static const struct {
		const char *key;
		size_t off, len;
	} keys[] = {
#define RF_KEY(k, f)                                                           \
	{k, offsetof(struct config, f), sizeof(((struct config *)0)->f)}
		RF_KEY("uri", mqtt.uri),
		RF_KEY("client_id", mqtt.client_id),
		RF_KEY("username", mqtt.username),
		RF_KEY("password_file", mqtt.password_file),
		RF_KEY("ca_file", mqtt.ca_file),
		RF_KEY("cert_file", mqtt.cert_file),
		RF_KEY("key_file", mqtt.key_file),
		RF_KEY("tls_server_name", mqtt.tls_server_name),
#undef RF_KEY
	};

	if (!strcmp(k, "keepalive"))
		return rf_config_int(&n->mqtt.keepalive, v, 5, 3600);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i].key))
			return rf_config_str((char *)n + keys[i].off,
					     keys[i].len, v);
	return -ENOENT;
}

static int rf_config_handler(void *user, const char *section, const char *key,
			     const char *value)
{
	struct rf_config_ctx *x = user;
	int r = -ENOENT;

	if (!strcmp(section, "redfish"))
		r = rf_config_redfish(x->c, key, value);
	else if (!strcmp(section, "mqtt"))
		r = rf_config_mqtt(&x->c->net, key, value);
	else if (!strcmp(section, "agent") && !strcmp(key, "base_topic"))
		r = rf_config_str(x->c->net.agent.base_topic,
				  sizeof(x->c->net.agent.base_topic), value);
	if (r == 0)
		return 1;
	snprintf(x->err, sizeof(x->err), "[%s] %s: %s", section, key,
		 r == -ENOENT ? "unknown key" : "invalid value");
	return 0;
}

int rf_config_load(struct rf_config *c, const char *path, char *err,
		   size_t errlen)
{
	struct rf_config_ctx x = {.c = c};
	struct config_error ce;
	int line;

	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1");
	c->port = 8443;
	c->tls = true;
	c->timeout_s = 60;
	c->long_timeout_s = 3600;
	c->accept_s = 5;
	c->session_timeout_s = 1800;
	c->retry_after_s = 5;
	c->log_level = LOG_LVL_INFO;
	snprintf(c->cert_file, sizeof(c->cert_file),
		 "/etc/zerobmc/redfish.crt");
	snprintf(c->key_file, sizeof(c->key_file), "/etc/zerobmc/redfish.key");
	snprintf(c->users_file, sizeof(c->users_file),
		 "/etc/zerobmc/redfish.users");
	snprintf(c->state_dir, sizeof(c->state_dir), "/run/zerobmc-redfish");
	config_defaults(&c->net);
	line = ini_parse(path, rf_config_handler, &x);
	if (line < 0) {
		snprintf(err, errlen, "%s: cannot be read", path);
		return -ENOENT;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 x.err[0] ? x.err : "syntax error");
		return -EINVAL;
	}
	/* The library's checks of [mqtt] want an agent id: the gateway's. */
	snprintf(c->net.agent.id, sizeof(c->net.agent.id), "redfish");
	if (!c->net.mqtt.client_id[0])
		snprintf(c->net.mqtt.client_id, sizeof(c->net.mqtt.client_id),
			 "zerobmc-redfish");
	if (config_validate(&c->net, &ce)) {
		char msg[512];

		config_error_format(&ce, msg, sizeof(msg));
		snprintf(err, errlen, "%s: %s", path, msg);
		return -EINVAL;
	}
	if (c->tls && (!c->cert_file[0] || !c->key_file[0])) {
		snprintf(err, errlen,
			 "%s: [redfish] tls needs cert_file and key_file "
			 "(zerobmc-redfish --make-cert makes them)",
			 path);
		return -EINVAL;
	}
	return 0;
}

bool rf_config_allowed(const struct rf_config *c, const char *id)
{
	if (!c->n_allow)
		return true;
	for (int i = 0; i < c->n_allow; i++)
		if (!fnmatch(c->allow[i], id, 0))
			return true;
	return false;
}
