/*
 * HTTP on libmicrohttpd, driven from the gateway's one poll loop: MHD
 * keeps its sockets in its own epoll set, whose fd the loop watches, and
 * a timer follows MHD_get_timeout(). A request that waits for an agent
 * is suspended and resumed when the answer (or the deadline) comes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "firmware/core/addr.h"
#include "redfish/rf.h"

#define RF_BODY_MAX (64 * 1024)
#define RF_PATH_MAX 512

struct rf_http {
	struct MHD_Daemon *d;
	int epfd;
	int timer;
	char *cert, *key;
};

struct rf_conn {
	struct MHD_Connection *mc;
	char *body;
	size_t len;
	bool too_big, suspended, ready;
	struct rf_reply reply;
};

static void rf_http_run(struct rf_gw *g);

static void rf_http_on_timer(void *data)
{
	struct rf_gw *g = data;

	g->http->timer = 0;
	rf_http_run(g);
}

static void rf_http_run(struct rf_gw *g)
{
	MHD_UNSIGNED_LONG_LONG to = 1000;

	MHD_run(g->http->d);
	if (MHD_get_timeout(g->http->d, &to) != MHD_YES || to > 1000)
		to = 1000;
	loop_timer_rearm(g->loop, &g->http->timer, to, rf_http_on_timer, g);
}

static void rf_http_on_fd(int fd, short revents, void *data)
{
	rf_http_run(data);
}

/* Without a connection (IPMI) the answer goes to a scratch reply. */
struct rf_reply *rf_conn_reply(struct rf_conn *c)
{
	static struct rf_reply scratch;

	if (c)
		return &c->reply;
	cJSON_Delete(scratch.body);
	memset(&scratch, 0, sizeof(scratch));
	return &scratch;
}

void rf_conn_finish(struct rf_gw *g, struct rf_conn *c)
{
	c->ready = true;
	if (!c->suspended)
		return;
	c->suspended = false;
	MHD_resume_connection(c->mc);
	/* MHD sends it on its next run: make that now. */
	loop_timer_rearm(g->loop, &g->http->timer, 0, rf_http_on_timer, g);
}

static uint64_t rf_http_fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void rf_etag_of(const cJSON *doc, char out[40])
{
	char *text = cJSON_PrintUnformatted(doc);

	snprintf(out, 40, "W/\"%016llx\"",
		 (unsigned long long)(text ? rf_http_fnv(text) : 0));
	free(text);
}

static enum MHD_Result rf_http_send(struct rf_gw *g, struct rf_conn *c,
				    const char *method)
{
	struct rf_reply *r = &c->reply;
	struct MHD_Response *resp;
	const char *inm;
	char *text = NULL;
	unsigned int status = r->status ? r->status : 500;
	enum MHD_Result ret;

	if (r->body) {
		text = cJSON_PrintUnformatted(r->body);
		if (!text)
			return MHD_NO;
	}
	if (text && status == 200 &&
	    (!strcmp(method, "GET") || !strcmp(method, "HEAD")) && !r->etag[0])
		snprintf(r->etag, sizeof(r->etag), "W/\"%016llx\"",
			 (unsigned long long)rf_http_fnv(text));
	inm = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
					  "If-None-Match");
	if (r->etag[0] && inm && !strcmp(inm, r->etag)) {
		free(text);
		text = NULL;
		status = 304;
	}
	resp = MHD_create_response_from_buffer(
		text ? strlen(text) : 0, text ? text : (char *)"",
		text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "OData-Version", "4.0");
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	if (text)
		MHD_add_response_header(resp, "Content-Type",
					"application/json; charset=utf-8");
	if (r->etag[0])
		MHD_add_response_header(resp, "ETag", r->etag);
	if (r->location[0])
		MHD_add_response_header(resp, "Location", r->location);
	if (r->token[0])
		MHD_add_response_header(resp, "X-Auth-Token", r->token);
	if (r->retry_after_s > 0) {
		char num[16];

		snprintf(num, sizeof(num), "%d", r->retry_after_s);
		MHD_add_response_header(resp, "Retry-After", num);
	}
	if (status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate",
					"Basic realm=\"zerobmc\"");
	ret = MHD_queue_response(c->mc, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int rf_http_b64(const char *in, char *out, size_t outlen)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(tab, *in);

		if (!p || !*in)
			return -EINVAL;
		acc = (acc << 6) | (unsigned int)(p - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= outlen)
				return -E2BIG;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return strlen(out) == n ? 0 : -EINVAL;
}

/* The user behind the request's credentials: index, -1 none, -2 bad. */
static int rf_http_user(struct rf_gw *g, struct rf_conn *c)
{
	const char *tok = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
						      "X-Auth-Token");
	const char *auth = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
						       "Authorization");
	char creds[512], *colon;
	int u;

	if (tok) {
		u = rf_session_lookup(g, tok);
		return u >= 0 ? u : -2;
	}
	if (!auth)
		return -1;
	if (strncasecmp(auth, "Basic ", 6) ||
	    rf_http_b64(auth + 6, creds, sizeof(creds)))
		return -2;
	colon = strchr(creds, ':');
	if (!colon)
		return -2;
	*colon = '\0';
	u = rf_users_check(g->users, g->n_users, creds, colon + 1);
	return u >= 0 ? u : -2;
}

static bool rf_http_public(const char *method, const char *path)
{
	static const char *const open[] = {"/redfish", "/redfish/v1",
					   "/redfish/v1/odata",
					   "/redfish/v1/$metadata", NULL};

	if (!strcmp(method, "POST"))
		return !strcmp(path, "/redfish/v1/SessionService/Sessions");
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return false;
	for (int i = 0; open[i]; i++)
		if (!strcmp(path, open[i]))
			return true;
	return false;
}

/* Fills the reply now (true) or starts a command (false). */
static bool rf_http_dispatch(struct rf_gw *g, struct rf_conn *c,
			     const char *url, const char *method)
{
	struct rf_reply *r = &c->reply;
	struct rf_request q = {.method = method, .conn = c, .user = -1};
	char path[RF_PATH_MAX];
	size_t n;
	bool now;

	n = strlen(url);
	if (n >= sizeof(path)) {
		rf_error(r, 414, "GeneralError", "the URI is too long");
		return true;
	}
	memcpy(path, url, n + 1);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	q.path = path;
	q.if_match =
		MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, "If-Match");
	if (c->too_big) {
		rf_error(r, 413, "GeneralError",
			 "the request body is larger than %d bytes",
			 RF_BODY_MAX);
		return true;
	}
	q.user = rf_http_user(g, c);
	if (q.user == -2 || (q.user < 0 && !rf_http_public(method, path))) {
		rf_error(r, 401, "NoValidSession",
			 "authentication needed: HTTP Basic or X-Auth-Token");
		return true;
	}
	if (c->len) {
		q.body = cJSON_ParseWithLength(c->body, c->len);
		if (!q.body) {
			rf_error(r, 400, "MalformedJSON",
				 "the request body is not valid JSON");
			return true;
		}
	}
	now = rf_session_handle(g, &q, r) || rf_tree_handle(g, &q, r);
	cJSON_Delete(q.body);
	return now;
}

static enum MHD_Result rf_http_access(void *cls, struct MHD_Connection *mc,
				      const char *url, const char *method,
				      const char *version,
				      const char *upload_data,
				      size_t *upload_size, void **con_cls)
{
	struct rf_gw *g = cls;
	struct rf_conn *c = *con_cls;
	char *nb;

	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return MHD_NO;
		c->mc = mc;
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_size) {
		if (c->len + *upload_size > RF_BODY_MAX) {
			c->too_big = true;
		} else {
			nb = realloc(c->body, c->len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			c->body = nb;
			memcpy(c->body + c->len, upload_data, *upload_size);
			c->len += *upload_size;
			c->body[c->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (c->ready || rf_http_dispatch(g, c, url, method))
		return rf_http_send(g, c, method);
	c->suspended = true;
	MHD_suspend_connection(mc);
	return MHD_YES;
}

static void rf_http_completed(void *cls, struct MHD_Connection *mc,
			      void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct rf_conn *c = *con_cls;

	if (!c)
		return;
	free(c->body);
	cJSON_Delete(c->reply.body);
	free(c);
	*con_cls = NULL;
}

/*
 * Percent-decoding in place, as MHD's own, except that %00 stays as it
 * is: a decoded NUL would cut the path short and "/Systems/a%00b" would
 * be served as "/Systems/a".
 */
static size_t rf_http_unescape(void *cls, struct MHD_Connection *mc, char *s)
{
	char *out = s;
	const char *in = s;

	while (*in) {
		int hi = in[0] == '%' ? addr_hex_digit(in[1]) : -1;
		int lo = hi >= 0 ? addr_hex_digit(in[2]) : -1;

		if (lo >= 0 && (hi || lo)) {
			*out++ = (char)(hi * 16 + lo);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

static char *rf_http_slurp(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > 1 << 20 ||
	    fseek(f, 0, SEEK_SET))
		goto cleanup;
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
cleanup:
	if (!buf)
		snprintf(err, errlen, "%s: cannot be read", path);
	fclose(f);
	return buf;
}

int rf_http_start(struct rf_gw *g, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	struct rf_http *h;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	char port[8];
	int r;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	g->http = h;
	snprintf(port, sizeof(port), "%u", g->cfg.port);
	r = getaddrinfo(g->cfg.listen, port, &hints, &ai);
	if (r) {
		snprintf(err, errlen, "[redfish] listen %s: %s", g->cfg.listen,
			 gai_strerror(r));
		return -EINVAL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (g->cfg.tls) {
		flags |= MHD_USE_TLS;
		h->cert = rf_http_slurp(g->cfg.cert_file, err, errlen);
		h->key = h->cert ? rf_http_slurp(g->cfg.key_file, err, errlen)
				 : NULL;
		if (!h->key) {
			freeaddrinfo(ai);
			return -ENOENT;
		}
	}
	if (g->cfg.tls)
		h->d = MHD_start_daemon(
			flags, g->cfg.port, NULL, NULL, rf_http_access, g,
			MHD_OPTION_SOCK_ADDR, ai->ai_addr,
			MHD_OPTION_NOTIFY_COMPLETED, rf_http_completed, g,
			MHD_OPTION_UNESCAPE_CALLBACK, rf_http_unescape, g,
			MHD_OPTION_CONNECTION_TIMEOUT, 60U,
			MHD_OPTION_HTTPS_MEM_CERT, h->cert,
			MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
	else
		h->d = MHD_start_daemon(
			flags, g->cfg.port, NULL, NULL, rf_http_access, g,
			MHD_OPTION_SOCK_ADDR, ai->ai_addr,
			MHD_OPTION_NOTIFY_COMPLETED, rf_http_completed, g,
			MHD_OPTION_UNESCAPE_CALLBACK, rf_http_unescape, g,
			MHD_OPTION_CONNECTION_TIMEOUT, 60U, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->d) {
		snprintf(err, errlen,
			 "cannot listen on %s port %u (in use, or a bad "
			 "certificate or key)",
			 g->cfg.listen, g->cfg.port);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		snprintf(err, errlen, "libmicrohttpd has no epoll fd");
		return -ENOTSUP;
	}
	h->epfd = info->epoll_fd;
	r = loop_fd_add(g->loop, h->epfd, POLLIN, rf_http_on_fd, g);
	if (r)
		return r;
	rf_http_run(g);
	return 0;
}

void rf_http_stop(struct rf_gw *g)
{
	struct rf_http *h = g->http;

	if (!h)
		return;
	if (h->d) {
		loop_fd_del(g->loop, h->epfd);
		/* Waiting requests are answered first: a suspended one
		 * cannot be torn down. */
		rf_cmd_cancel_all(g);
		MHD_run(h->d);
		MHD_stop_daemon(h->d);
	}
	if (h->timer > 0)
		loop_timer_cancel(g->loop, h->timer);
	free(h->cert);
	free(h->key);
	free(h);
	g->http = NULL;
}
