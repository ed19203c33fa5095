/*
 * zerobmc-redfish: a Redfish service for every zerobmc agent on a broker.
 * This file reads the command line, sets up the loop, the broker session
 * and the HTTP daemon, and runs until SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firmware/core/log.h"
#include "firmware/core/notify.h"
#include "firmware/net/mqtt.h"
#include "firmware/net/transport.h"
#include "redfish/rf.h"

#define RF_DEFAULT_CONFIG "/etc/zerobmc/redfish.conf"

static void rf_main_usage(FILE *f)
{
	fprintf(f,
		"usage: zerobmc-redfish [-c FILE] [-n] [-V] [-h]\n"
		"       zerobmc-redfish [-c FILE] --make-cert\n"
		"       zerobmc-redfish [-c FILE] --ipmi-hook ID ARGS...\n"
		"\n"
		"A Redfish service for the zerobmc agents on an MQTT broker.\n"
		"\n"
		"  -c FILE        configuration (default " RF_DEFAULT_CONFIG
		")\n"
		"  -n             check the configuration and users, and exit\n"
		"  --make-cert    make [redfish] cert_file and key_file "
		"(openssl), unless they exist\n"
		"  --ipmi-hook    ipmi_sim's chassis_control hook (see "
		"docs/REDFISH.md)\n"
		"  -V             print the version and exit\n");
}

static void rf_main_on_online(void *data)
{
	struct rf_gw *g = data;
	char topic[sizeof(g->reply_topic)];

	g->mqtt_online = true;
	snprintf(topic, sizeof(topic), "%s", g->reply_topic);
	*strrchr(topic, '/') = '\0';
	strcat(topic, "/status");
	mqtt_publish(g->mqtt, topic, "online", 6, 1, true, NULL, 0);
	log_info("connected to the broker");
}

static void rf_main_on_offline(void *data, const char *why)
{
	struct rf_gw *g = data;

	if (g->mqtt_online)
		log_warn("broker connection lost: %s", why);
	g->mqtt_online = false;
}

static void rf_main_on_message(void *data, struct mqtt_msg *m)
{
	struct rf_gw *g = data;

	if (!strcmp(m->topic, g->reply_topic)) {
		if (m->correlation)
			rf_cmd_result(g, m->correlation, m->correlation_len,
				      m->payload);
	} else {
		rf_fleet_message(g, m->topic, m->payload, m->len);
	}
	mqtt_msg_free(m);
}

static void rf_main_on_transport(void *data, enum transport_event ev,
				 const char *detail)
{
	if (ev == TRANSPORT_FAILED || ev == TRANSPORT_CLOSED)
		log_warn("broker: %s", detail);
}

static void rf_main_stopped(void *data)
{
	loop_quit(((struct rf_gw *)data)->loop);
}

static void rf_main_on_signal(int fd, short revents, void *data)
{
	struct rf_gw *g = data;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("stopping (signal %u)", si.ssi_signo);
		notify_stopping();
		rf_ipmi_stop(g);
		rf_http_stop(g);
		if (mqtt_stop(g->mqtt, rf_main_stopped, g))
			loop_quit(g->loop);
	}
}

static int rf_main_signals(struct rf_gw *g)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Paho's threads inherit the mask, so only the signalfd sees them. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	g->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (g->sig_fd < 0)
		return -errno;
	return loop_fd_add(g->loop, g->sig_fd, POLLIN, rf_main_on_signal, g);
}

static int rf_main_setup(struct rf_gw *g, char *err, size_t errlen)
{
	const struct mqtt_cbs cbs = {
		.online = rf_main_on_online,
		.offline = rf_main_on_offline,
		.message = rf_main_on_message,
	};
	char will_topic[sizeof(g->reply_topic)];
	struct mqtt_will will;
	int r;

	if (rf_random_hex(g->boot_nonce, 8))
		return -EIO;
	/* Results come back outside the agents' tree, to this run only. */
	snprintf(g->reply_topic, sizeof(g->reply_topic),
		 "%s-redfish/%s/%s/result", g->cfg.net.agent.base_topic,
		 g->cfg.net.mqtt.client_id, g->boot_nonce);
	snprintf(will_topic, sizeof(will_topic), "%s-redfish/%s/%s/status",
		 g->cfg.net.agent.base_topic, g->cfg.net.mqtt.client_id,
		 g->boot_nonce);
	snprintf(g->status_filter, sizeof(g->status_filter), "%s/+/status",
		 g->cfg.net.agent.base_topic);
	snprintf(g->state_filter, sizeof(g->state_filter), "%s/+/state",
		 g->cfg.net.agent.base_topic);
	if (g->cfg.state_dir[0])
		mkdir(g->cfg.state_dir, 0755);
	g->loop = loop_new();
	if (!g->loop)
		return -ENOMEM;
	r = rf_main_signals(g);
	if (r) {
		snprintf(err, errlen, "signals: %s", strerror(-r));
		return r;
	}
	r = transport_new(g->loop, &g->cfg.net, rf_main_on_transport, g,
			  &g->transport, err, errlen);
	if (r)
		return r;
	will.topic = will_topic;
	will.payload = "offline";
	r = mqtt_new(g->loop, &g->cfg.net, transport_local_uri(g->transport),
		     &will, &cbs, g, &g->mqtt, err, errlen);
	if (r)
		return r;
	mqtt_add_subscription(g->mqtt, g->status_filter);
	mqtt_add_subscription(g->mqtt, g->state_filter);
	mqtt_add_subscription(g->mqtt, g->reply_topic);
	r = rf_ipmi_start(g, err, errlen);
	if (r)
		return r;
	return rf_http_start(g, err, errlen);
}

/* openssl makes a self-signed certificate for this host, once. */
static int rf_main_make_cert(const struct rf_config *c)
{
	char host[256] = "localhost", subj[300], san[600];
	pid_t pid;
	int st;

	if (!access(c->cert_file, F_OK) && !access(c->key_file, F_OK)) {
		printf("%s and %s exist: left as they are\n", c->cert_file,
		       c->key_file);
		return 0;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(subj, sizeof(subj), "/CN=%s", host);
	snprintf(san, sizeof(san),
		 "subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1", host);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		umask(077);
		execlp("openssl", "openssl", "req", "-x509", "-newkey", "ec",
		       "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		       "-days", "3650", "-subj", subj, "-addext", san,
		       "-keyout", c->key_file, "-out", c->cert_file,
		       (char *)NULL);
		fprintf(stderr, "zerobmc-redfish: openssl: %s\n",
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	printf("made %s and %s\n", c->cert_file, c->key_file);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"make-cert", no_argument, NULL, 'M'},
		{"ipmi-hook", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *conf = RF_DEFAULT_CONFIG;
	bool check = false, make_cert = false, hook = false;
	struct rf_gw *g;
	char err[512] = "";
	int opt, r;

	while ((opt = getopt_long(argc, argv, "+c:nVh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'M':
			make_cert = true;
			break;
		case 'I':
			hook = true;
			break;
		case 'V':
			printf("zerobmc-redfish %s\n", ZB_VERSION);
			return 0;
		case 'h':
			rf_main_usage(stdout);
			return 0;
		default:
			rf_main_usage(stderr);
			return 2;
		}
	}
	if (hook)
		return rf_ipmi_hook_main(argc - optind, argv + optind, conf);
	g = calloc(1, sizeof(*g));
	if (!g)
		return 1;
	g->sig_fd = -1;
	g->ipmi_fd = -1;
	r = rf_config_load(&g->cfg, conf, err, sizeof(err));
	if (!r && make_cert) {
		r = rf_main_make_cert(&g->cfg);
		free(g);
		return r;
	}
	if (!r)
		r = rf_users_load(g->cfg.users_file, g->users, &g->n_users, err,
				  sizeof(err));
	if (r) {
		fprintf(stderr, "zerobmc-redfish: %s\n", err);
		free(g);
		return 1;
	}
	if (check) {
		printf("%s: ok, %d users\n", conf, g->n_users);
		free(g);
		return 0;
	}
	log_set_level(g->cfg.log_level);
	r = rf_main_setup(g, err, sizeof(err));
	if (r) {
		log_error("%s", err[0] ? err : strerror(-r));
		r = 1;
		goto cleanup;
	}
	mqtt_start(g->mqtt);
	notify_start(g->loop);
	log_info("Redfish on %s://%s:%u for the agents on %s",
		 g->cfg.tls ? "https" : "http", g->cfg.listen, g->cfg.port,
		 g->cfg.net.mqtt.uri);
	r = loop_run(g->loop) ? 1 : 0;
cleanup:
	rf_ipmi_stop(g);
	rf_http_stop(g);
	mqtt_free(g->mqtt);
	transport_free(g->transport);
	if (g->sig_fd >= 0)
		close(g->sig_fd);
	loop_free(g->loop);
	for (int i = 0; i < g->n_systems; i++)
		cJSON_Delete(g->systems[i].state);
	free(g->systems);
	free(g);
	return r;
}
