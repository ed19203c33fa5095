/* `zerobmc console`: the serial console of a server, interactively. */
#include "firmware/tools/console_client.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "firmware/console/console_lines.h"
#include "firmware/core/loop.h"
#include "firmware/core/signals.h"
#include "firmware/net/mqtt.h"
#include "firmware/net/transport.h"
#include "topics/topics.h"

/* Keystrokes within this time go out as one command. */
#define CC_BATCH_MS 10
#define CC_BATCH_MAX 512
#define CC_PENDING_MAX 4096
/* Paho's queue is full, or a publish failed: try again this soon. */
#define CC_RETRY_MS 20
#define CC_STOP_GRACE_MS 1500

struct cc {
	struct config cfg;
	struct loop *loop;
	struct transport *transport;
	struct mqtt *mqtt;
	struct topics topics;
	char raw_topic[TOPICS_MAX + 8];
	char cmd_topic[TOPICS_MAX + 16];
	char will_topic[TOPICS_MAX + 16];
	char id_prefix[48];
	unsigned int seq;
	int esc; /* the escape character, or -1 for none */
	bool at_line_start, esc_pending;
	bool raw_seen;	/* the agent publishes the byte stream */
	bool line_open; /* lines mode: the last line's newline is owed */
	bool was_online, eof, quitting;
	char pending[CC_PENDING_MAX];
	size_t npending;
	int batch_timer;
	int sig_fd;
	bool tty;
	struct termios saved;
	char shown_error[256];
};

static void console_client_out(const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* A note from the client itself, on a line of its own. */
static void console_client_note(struct cc *c, const char *fmt, const char *arg)
{
	char buf[512];
	int n;

	if (c->line_open) {
		console_client_out("\r\n", 2);
		c->line_open = false;
	}
	n = snprintf(buf, sizeof(buf), fmt, arg);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	if (n > 0)
		console_client_out(buf, (size_t)n);
}

static void console_client_stopped(void *data)
{
	struct cc *c = data;

	loop_quit(c->loop);
}

static void console_client_send(struct cc *c);

static void console_client_quit(struct cc *c)
{
	if (c->quitting)
		return;
	c->quitting = true;
	console_client_send(c);
	if (mqtt_stop(c->mqtt, console_client_stopped, c))
		loop_quit(c->loop);
	else
		loop_timer_add(c->loop, CC_STOP_GRACE_MS,
			       console_client_stopped, c);
}

static void console_client_batch_cb(void *data)
{
	struct cc *c = data;

	c->batch_timer = 0;
	console_client_send(c);
}

/*
 * Send what was typed as one cmd/console. An incomplete UTF-8 character
 * at the end waits for its last bytes; bytes that are not UTF-8 (a
 * terminal in another encoding) become U+FFFD, as JSON needs text.
 */
static void console_client_send(struct cc *c)
{
	char text[CC_PENDING_MAX * 3 + 1];
	char id[64];
	size_t keep = console_utf8_tail(c->pending, c->npending);
	size_t n = c->npending - keep;
	cJSON *o;
	char *s;
	int r;

	if (!n)
		goto done;
	text[console_utf8_repair(c->pending, n, text)] = '\0';
	snprintf(id, sizeof(id), "%s-%u", c->id_prefix, c->seq + 1);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "data", text);
	cJSON_AddBoolToObject(o, "enter", false);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		return;
	r = mqtt_publish(c->mqtt, c->cmd_topic, s, strlen(s), 1, false, NULL,
			 0);
	cJSON_free(s);
	if (r == -ENOTCONN)
		return; /* sent when the session is back */
	if (r) {
		loop_timer_rearm(c->loop, &c->batch_timer, CC_RETRY_MS,
				 console_client_batch_cb, c);
		return;
	}
	c->seq++;
	memmove(c->pending, c->pending + n, keep);
	c->npending = keep;
done:
	if (c->eof && !c->quitting)
		console_client_quit(c);
}

/* Queue a typed byte; the escape sequence is handled here. */
static void console_client_key(struct cc *c, unsigned char b)
{
	if (c->esc_pending) {
		c->esc_pending = false;
		if (b == '.') {
			console_client_quit(c);
			return;
		}
		/* The escape typed twice sends it once; anything else
		 * sends both. */
		if (c->npending < CC_PENDING_MAX)
			c->pending[c->npending++] = (char)c->esc;
		if (b == c->esc)
			return;
	} else if (c->at_line_start && (int)b == c->esc) {
		c->esc_pending = true;
		return;
	}
	c->at_line_start = b == '\r' || b == '\n';
	/* JSON text cannot carry NUL. */
	if (b && c->npending < CC_PENDING_MAX)
		c->pending[c->npending++] = (char)b;
}

static void console_client_on_stdin(int fd, short revents, void *data)
{
	struct cc *c = data;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* Input ended (a pipe): send what is left, then leave. */
		loop_fd_del(c->loop, fd);
		c->eof = true;
		console_client_send(c);
		return;
	}
	for (ssize_t i = 0; i < n && !c->quitting; i++)
		console_client_key(c, (unsigned char)buf[i]);
	if (c->quitting)
		return;
	if (c->npending >= CC_BATCH_MAX)
		console_client_send(c);
	else if (c->npending && !c->batch_timer)
		loop_timer_rearm(c->loop, &c->batch_timer, CC_BATCH_MS,
				 console_client_batch_cb, c);
}

/* A result for one of our commands that did not go well. */
static void console_client_result(struct cc *c, const struct mqtt_msg *m)
{
	cJSON *o = cJSON_ParseWithLength(m->payload, m->len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");

	if (cJSON_IsString(id) && cJSON_IsString(st) &&
	    !strncmp(id->valuestring, c->id_prefix, strlen(c->id_prefix)) &&
	    strcmp(st->valuestring, "ok"))
		console_client_note(c, "[zerobmc: %s]\r\n",
				    cJSON_IsString(err) ? err->valuestring
							: st->valuestring);
	cJSON_Delete(o);
}

static void console_client_on_message(void *data, struct mqtt_msg *m)
{
	struct cc *c = data;

	if (!strcmp(m->topic, c->raw_topic)) {
		/* The byte stream shows the console exactly: echo, prompts,
		 * colours; the lines are then redundant. */
		c->raw_seen = true;
		console_client_out(m->payload, m->len);
	} else if (!strcmp(m->topic, c->topics.pub[TOPIC_CONSOLE])) {
		if (!c->raw_seen) {
			/* Lines only: a prompt keeps its cursor until the
			 * next line comes. */
			if (c->line_open)
				console_client_out("\r\n", 2);
			console_client_out(m->payload, m->len);
			c->line_open = true;
		}
	} else if (!strcmp(m->topic, c->topics.pub[TOPIC_RESULT])) {
		console_client_result(c, m);
	}
	mqtt_msg_free(m);
}

static void console_client_on_online(void *data)
{
	struct cc *c = data;

	c->shown_error[0] = '\0';
	if (!c->was_online) {
		char what[TOPICS_MAX + 64];

		if (c->esc < 0)
			snprintf(what, sizeof(what), "%s, no escape",
				 c->topics.base);
		else if (c->esc < 0x20)
			snprintf(what, sizeof(what), "%s, escape ^%c.",
				 c->topics.base, c->esc + '@');
		else
			snprintf(what, sizeof(what), "%s, escape %c.",
				 c->topics.base, c->esc);
		console_client_note(c, "[zerobmc: console of %s]\r\n", what);
	}
	c->was_online = true;
	console_client_send(c);
}

static void console_client_show_error(struct cc *c, const char *why)
{
	if (!strcmp(c->shown_error, why))
		return;
	snprintf(c->shown_error, sizeof(c->shown_error), "%s", why);
	console_client_note(c, "[zerobmc: broker: %s]\r\n", why);
}

static void console_client_on_offline(void *data, const char *why)
{
	struct cc *c = data;
	const char *detail = transport_last_error(c->transport);

	if (!c->quitting)
		console_client_show_error(c, detail[0] ? detail : why);
}

static void console_client_on_transport(void *data, enum transport_event ev,
					const char *detail)
{
	struct cc *c = data;

	if (ev == TRANSPORT_FAILED && !c->quitting)
		console_client_show_error(c, detail);
}

static void console_client_on_signal(int fd, short revents, void *data)
{
	struct cc *c = data;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si))
		console_client_quit(c);
}

static int console_client_signals(struct cc *c)
{
	c->sig_fd = signals_open();
	if (c->sig_fd < 0)
		return c->sig_fd;
	return loop_fd_add(c->loop, c->sig_fd, POLLIN, console_client_on_signal,
			   c);
}

static void console_client_tty_raw(struct cc *c)
{
	struct termios t;

	c->tty =
		isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved) == 0;
	if (!c->tty)
		return;
	t = c->saved;
	/* Every key, Ctrl+C included, goes to the server. */
	cfmakeraw(&t);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
}

static void console_client_tty_restore(struct cc *c)
{
	if (c->tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &c->saved);
}

static int console_client_parse_escape(const char *s)
{
	if (!strcmp(s, "none"))
		return -1;
	if (s[0] == '^' && s[1] && !s[2])
		return s[1] & 0x1f;
	if (s[0] && !s[1])
		return (unsigned char)s[0];
	return -2;
}

static void console_client_usage(FILE *f)
{
	fprintf(f,
		"usage: zerobmc [-c FILE] console [-e CHAR] [ID]\n"
		"\n"
		"An interactive terminal on the serial console of server "
		"ID\n"
		"(default: the configuration's own id) over MQTT.\n"
		"\n"
		"  -e CHAR  escape character: CHAR then . at the start of "
		"a line\n"
		"           quits (default ~; ^X for a control key; none)\n");
}

static int console_client_setup(struct cc *c, const char *id, char *err,
				size_t errlen)
{
	static const struct mqtt_cbs cbs = {
		.online = console_client_on_online,
		.offline = console_client_on_offline,
		.message = console_client_on_message,
	};
	struct mqtt_will will;
	int r;

	r = topics_init(&c->topics, c->cfg.agent.base_topic, id, NULL, 0);
	if (r) {
		snprintf(err, errlen, "topics for %s/%s do not fit",
			 c->cfg.agent.base_topic, id);
		return r;
	}
	snprintf(c->raw_topic, sizeof(c->raw_topic), "%s/console/raw",
		 c->topics.base);
	snprintf(c->cmd_topic, sizeof(c->cmd_topic), "%s/cmd/console",
		 c->topics.base);
	/* An empty retained will clears itself: a client that dies leaves
	 * nothing behind on the broker. */
	snprintf(c->will_topic, sizeof(c->will_topic), "%s/console/client",
		 c->topics.base);
	snprintf(c->id_prefix, sizeof(c->id_prefix), "console-%d",
		 (int)getpid());
	/* Never the agent's own client id: the broker would drop it. */
	snprintf(c->cfg.mqtt.client_id, sizeof(c->cfg.mqtt.client_id),
		 "zerobmc-console-%d", (int)getpid());
	c->loop = loop_new();
	if (!c->loop)
		return -ENOMEM;
	r = console_client_signals(c);
	if (r) {
		snprintf(err, errlen, "signals: %s", strerror(-r));
		return r;
	}
	r = transport_new(c->loop, &c->cfg, console_client_on_transport, c,
			  &c->transport, err, errlen);
	if (r)
		return r;
	will.topic = c->will_topic;
	will.payload = "";
	r = mqtt_new(c->loop, &c->cfg, transport_local_uri(c->transport), &will,
		     &cbs, c, &c->mqtt, err, errlen);
	if (r)
		return r;
	mqtt_add_subscription(c->mqtt, c->topics.pub[TOPIC_CONSOLE]);
	mqtt_add_subscription(c->mqtt, c->raw_topic);
	mqtt_add_subscription(c->mqtt, c->topics.pub[TOPIC_RESULT]);
	return loop_fd_add(c->loop, STDIN_FILENO, POLLIN,
			   console_client_on_stdin, c);
}

static void console_client_free(struct cc *c)
{
	mqtt_free(c->mqtt);
	transport_free(c->transport);
	if (c->sig_fd >= 0)
		close(c->sig_fd);
	loop_free(c->loop);
}

int console_client_main(int argc, char **argv, const struct config *cfg)
{
	struct cc *c = calloc(1, sizeof(*c));
	const char *id;
	char err[512] = "";
	int opt, r;

	if (!c)
		return 1;
	c->cfg = *cfg;
	c->esc = '~';
	c->at_line_start = true;
	c->sig_fd = -1;
	optind = 0;
	while ((opt = getopt(argc, argv, "+e:h")) != -1) {
		switch (opt) {
		case 'e':
			c->esc = console_client_parse_escape(optarg);
			if (c->esc == -2) {
				fprintf(stderr, "zerobmc console: -e takes one "
						"character, ^X, or none\n");
				free(c);
				return 2;
			}
			break;
		case 'h':
			console_client_usage(stdout);
			free(c);
			return 0;
		default:
			console_client_usage(stderr);
			free(c);
			return 2;
		}
	}
	if (argc - optind > 1) {
		console_client_usage(stderr);
		free(c);
		return 2;
	}
	id = optind < argc ? argv[optind] : cfg->agent.id;
	if (!config_id_valid(id)) {
		fprintf(stderr,
			"zerobmc console: \"%s\" is not a server id "
			"([A-Za-z0-9_-], 1 to 64)\n",
			id);
		free(c);
		return 2;
	}
	r = console_client_setup(c, id, err, sizeof(err));
	if (r) {
		fprintf(stderr, "zerobmc console: %s\n",
			err[0] ? err : strerror(-r));
		console_client_free(c);
		free(c);
		return 1;
	}
	console_client_tty_raw(c);
	mqtt_start(c->mqtt);
	r = loop_run(c->loop);
	console_client_tty_restore(c);
	if (c->line_open)
		console_client_out("\n", 1);
	fprintf(stderr, "[zerobmc: console closed]\n");
	console_client_free(c);
	free(c);
	return r ? 1 : 0;
}
