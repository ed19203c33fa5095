/*
 * The client tools' broker session. It is the agent's own stack (the
 * transport, so TLS and several URIs work as configured, and the MQTT
 * session) on a loop of the tool's: one process, one connection, and a
 * deadline so that a script never hangs.
 */
#include "firmware/tools/fleet_client.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "firmware/core/signals.h"

#define FLEET_DEFAULT_CONFIG "/etc/zerobmc/zerobmc.conf"
#define FLEET_STOP_GRACE_MS 500

const char fleet_common_help[] =
	"  -c FILE       configuration: broker URI(s), TLS, credentials\n"
	"                (default " FLEET_DEFAULT_CONFIG ", if present)\n"
	"  -b URI        broker, e.g. tcp://host:1883 or mqtts://host (over-\n"
	"                rides [mqtt] uri; several separated by spaces)\n"
	"  -u USER       broker user name (overrides [mqtt] username)\n"
	"  -P FILE       file holding the password ([mqtt] password_file)\n"
	"  -t SECONDS    give up after this long (exit status 3)\n"
	"  -j, --json    machine-readable output: one JSON object a line\n"
	"  -h, --help    this help\n";

int fleet_parse_opts(const char *tool, int argc, char **argv,
		     struct fleet_opts *o)
{
	static const struct option longs[] = {
		{"json", no_argument, NULL, 'j'},
		{"group", required_argument, NULL, 'g'},
		{"watch", no_argument, NULL, 'w'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	double s;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+c:b:u:P:t:g:jwh", longs,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'b':
			o->broker = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'P':
			o->password_file = optarg;
			break;
		case 't':
			errno = 0;
			s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(s > 0) ||
			    s > 86400) {
				fprintf(stderr,
					"zerobmc %s: -t takes seconds, more "
					"than 0 and at most 86400, not "
					"\"%s\"\n",
					tool, optarg);
				return -FLEET_USAGE;
			}
			o->timeout_ms = (unsigned int)(s * 1000);
			break;
		case 'g':
			if (!config_id_valid(optarg)) {
				fprintf(stderr,
					"zerobmc %s: \"%s\" is not a group "
					"name ([A-Za-z0-9_-], 1 to 64)\n",
					tool, optarg);
				return -FLEET_USAGE;
			}
			o->group = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'w':
			o->watch = true;
			break;
		case 'h':
			return -1;
		default:
			return -FLEET_USAGE;
		}
	}
	return optind;
}

/*
 * The configuration's broker settings, or only -b: without a
 * configuration file the defaults serve (an id is needed only to pass
 * validation; the tools never use it as their own).
 */
static int fleet_config(struct fleet *f, char *err, size_t errlen)
{
	const char *path = f->opts.config_path;
	struct config_error ce;
	int r;

	config_defaults(&f->cfg);
	if (!path && access(FLEET_DEFAULT_CONFIG, F_OK) == 0)
		path = FLEET_DEFAULT_CONFIG;
	if (path) {
		r = config_load(&f->cfg, path, &ce);
		if (r) {
			config_error_format(&ce, err, errlen);
			return r;
		}
	} else {
		snprintf(f->cfg.agent.id, sizeof(f->cfg.agent.id), "cli");
	}
	if (f->opts.broker) {
		if (strlen(f->opts.broker) >= sizeof(f->cfg.mqtt.uri)) {
			snprintf(err, errlen, "-b: the URI is too long");
			return -EINVAL;
		}
		snprintf(f->cfg.mqtt.uri, sizeof(f->cfg.mqtt.uri), "%s",
			 f->opts.broker);
	}
	if (f->opts.user)
		snprintf(f->cfg.mqtt.username, sizeof(f->cfg.mqtt.username),
			 "%s", f->opts.user);
	if (f->opts.password_file)
		snprintf(f->cfg.mqtt.password_file,
			 sizeof(f->cfg.mqtt.password_file), "%s",
			 f->opts.password_file);
	r = config_validate(&f->cfg, &ce);
	if (r) {
		config_error_format(&ce, err, errlen);
		return r;
	}
	/* Never an agent's client id: the broker would drop the agent. */
	snprintf(f->cfg.mqtt.client_id, sizeof(f->cfg.mqtt.client_id),
		 "zerobmc-%s-%d-%lx", f->tool, (int)getpid(),
		 (unsigned long)time(NULL));
	return 0;
}

static void fleet_stopped(void *data)
{
	struct fleet *f = data;

	loop_quit(f->loop);
}

void fleet_finish(struct fleet *f, int code)
{
	if (f->finishing)
		return;
	f->finishing = true;
	f->exit_code = code;
	fflush(stdout);
	if (mqtt_stop(f->mqtt, fleet_stopped, f))
		loop_quit(f->loop);
	else
		loop_timer_add(f->loop, FLEET_STOP_GRACE_MS, fleet_stopped, f);
}

static void fleet_on_online(void *data)
{
	struct fleet *f = data;

	f->was_online = true;
	if (f->ops->online && !f->finishing)
		f->ops->online(f);
}

static void fleet_on_offline(void *data, const char *why)
{
	struct fleet *f = data;
	const char *detail = transport_last_error(f->transport);

	if (f->finishing)
		return;
	fprintf(stderr, "zerobmc %s: broker: %s\n", f->tool,
		detail[0] ? detail : why);
	/* A watcher waits for the broker to come back; a request fails. */
	if (!f->opts.watch)
		fleet_finish(f, FLEET_ERROR);
}

static void fleet_on_message(void *data, struct mqtt_msg *m)
{
	struct fleet *f = data;

	if (!f->finishing && f->ops->message)
		f->ops->message(f, m);
	mqtt_msg_free(m);
}

static void fleet_on_transport(void *data, enum transport_event ev,
			       const char *detail)
{
	/* Failures reach fleet_on_offline through the session. */
}

static void fleet_on_deadline(void *data)
{
	struct fleet *f = data;

	f->deadline_timer = 0;
	if (f->ops->deadline)
		f->ops->deadline(f);
	else
		fleet_finish(f, FLEET_TIMEOUT);
}

static void fleet_on_signal(int fd, short revents, void *data)
{
	struct fleet *f = data;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si))
		fleet_finish(f, f->opts.watch ? FLEET_OK : FLEET_ERROR);
}

static int fleet_signals(struct fleet *f)
{
	f->sig_fd = signals_open();
	if (f->sig_fd < 0)
		return f->sig_fd;
	return loop_fd_add(f->loop, f->sig_fd, POLLIN, fleet_on_signal, f);
}

int fleet_open(struct fleet *f, const char *tool, const struct fleet_opts *o,
	       const struct fleet_ops *ops, void *data, char *err,
	       size_t errlen)
{
	static const struct mqtt_cbs cbs = {
		.online = fleet_on_online,
		.offline = fleet_on_offline,
		.message = fleet_on_message,
	};
	struct mqtt_will will;
	int r;

	f->tool = tool;
	f->opts = *o;
	f->ops = ops;
	f->data = data;
	f->sig_fd = -1;
	r = fleet_config(f, err, errlen);
	if (r)
		return r;
	/* Under the user name when there is one: a broker that replaces
	 * client ids by user names (use_username_as_clientid) lets each user
	 * have zerobmc/_reply/<user>/# (the example ACL). */
	if (f->cfg.mqtt.username[0])
		snprintf(f->probe_topic, sizeof(f->probe_topic),
			 "%s/_reply/%s/%s", f->cfg.agent.base_topic,
			 f->cfg.mqtt.username, f->cfg.mqtt.client_id);
	else
		snprintf(f->probe_topic, sizeof(f->probe_topic), "%s/_reply/%s",
			 f->cfg.agent.base_topic, f->cfg.mqtt.client_id);
	f->loop = loop_new();
	if (!f->loop)
		return -ENOMEM;
	r = fleet_signals(f);
	if (r) {
		snprintf(err, errlen, "signals: %s", strerror(-r));
		return r;
	}
	r = transport_new(f->loop, &f->cfg, fleet_on_transport, f,
			  &f->transport, err, errlen);
	if (r)
		return r;
	/* An empty retained will clears itself: nothing is left behind. */
	will.topic = f->probe_topic;
	will.payload = "";
	r = mqtt_new(f->loop, &f->cfg, transport_local_uri(f->transport), &will,
		     &cbs, f, &f->mqtt, err, errlen);
	if (r)
		return r;
	return mqtt_add_subscription(f->mqtt, f->probe_topic);
}

int fleet_subscribe(struct fleet *f, const char *filter)
{
	return mqtt_add_subscription(f->mqtt, filter);
}

void fleet_probe(struct fleet *f)
{
	int r = mqtt_publish(f->mqtt, f->probe_topic, "probe", 5, 1, false,
			     NULL, 0);

	if (r) {
		fprintf(stderr, "zerobmc %s: publish: %s\n", f->tool,
			strerror(-r));
		fleet_finish(f, FLEET_ERROR);
	}
}

bool fleet_is_probe(const struct fleet *f, const struct mqtt_msg *m)
{
	return !strcmp(m->topic, f->probe_topic);
}

int fleet_run(struct fleet *f)
{
	int r;

	if (f->opts.timeout_ms)
		f->deadline_timer = loop_timer_add(f->loop, f->opts.timeout_ms,
						   fleet_on_deadline, f);
	mqtt_start(f->mqtt);
	r = loop_run(f->loop);
	if (r && !f->finishing)
		return FLEET_ERROR;
	return f->exit_code;
}

void fleet_close(struct fleet *f)
{
	mqtt_free(f->mqtt);
	transport_free(f->transport);
	if (f->sig_fd >= 0)
		close(f->sig_fd);
	loop_free(f->loop);
}

void fleet_topic(const struct fleet *f, char *buf, size_t len, const char *id,
		 const char *name)
{
	snprintf(buf, len, "%s/%s/%s", f->cfg.agent.base_topic, id, name);
}

bool fleet_topic_id(const struct fleet *f, const char *topic, char *id,
		    size_t idlen, const char **name)
{
	size_t bl = strlen(f->cfg.agent.base_topic);
	const char *p, *slash;

	if (strncmp(topic, f->cfg.agent.base_topic, bl) || topic[bl] != '/')
		return false;
	p = topic + bl + 1;
	slash = strchr(p, '/');
	if (!slash || (size_t)(slash - p) >= idlen || slash == p)
		return false;
	memcpy(id, p, (size_t)(slash - p));
	id[slash - p] = '\0';
	*name = slash + 1;
	return true;
}
