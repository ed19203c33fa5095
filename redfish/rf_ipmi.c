/*
 * IPMI through ipmi_sim (Debian's openipmi): one ipmi_sim per server runs
 * "zerobmc-redfish --ipmi-hook ID" as its chassis_control program. The
 * hook must return at once (ipmi_sim waits for it), so it only reads the
 * state file the gateway keeps for the system, or hands the request to
 * the gateway in one datagram on <state_dir>/ipmi.sock; the gateway then
 * sends the MQTT command as it does for a Redfish Reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "firmware/core/log.h"
#include "redfish/rf.h"

#define RF_IPMI_SOCK "ipmi.sock"

/* ipmi_sim's boot names and the Redfish override each one sets. */
static const struct {
	const char *ipmi, *enabled, *target;
} rf_ipmi_boots[] = {
	{"none", "Disabled", "None"},  {"default", "Disabled", "None"},
	{"pxe", "Once", "Pxe"},	       {"cdrom", "Once", "Cd"},
	{"bios", "Once", "BiosSetup"},
};

/* ipmitool's verbs as the hook passes them, and the Redfish reset. */
static const struct {
	const char *verb, *reset;
} rf_ipmi_resets[] = {
	{"power-on", "On"},
	{"power-off", "ForceOff"},
	{"reset", "ForceRestart"},
	{"soft", "GracefulShutdown"},
};

static int rf_ipmi_sock_path(const char *dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir,
			     RF_IPMI_SOCK) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static void rf_ipmi_run(struct rf_gw *g, struct rf_system *s, const char *verb)
{
	struct rf_reply *r;
	size_t i;

	for (i = 0; i < sizeof(rf_ipmi_resets) / sizeof(rf_ipmi_resets[0]); i++)
		if (!strcmp(verb, rf_ipmi_resets[i].verb))
			break;
	if (i == sizeof(rf_ipmi_resets) / sizeof(rf_ipmi_resets[0]))
		return;
	s->ipmi_busy = true;
	r = rf_conn_reply(NULL);
	/* Answered at once (refused): nothing is in flight. */
	if (rf_actions_reset_type(g, NULL, r, s, rf_ipmi_resets[i].reset))
		rf_ipmi_done(g, s, r);
}

void rf_ipmi_done(struct rf_gw *g, struct rf_system *s,
		  const struct rf_reply *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->body, "error");
	char next[sizeof(s->ipmi_next)];

	if (r->status >= 300)
		log_warn("ipmi %s: %s", s->id,
			 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
				 e, "message")));
	s->ipmi_busy = false;
	if (!s->ipmi_next[0])
		return;
	snprintf(next, sizeof(next), "%s", s->ipmi_next);
	s->ipmi_next[0] = '\0';
	rf_ipmi_run(g, s, next);
}

static void rf_ipmi_boot(struct rf_gw *g, struct rf_system *s, const char *name)
{
	for (size_t i = 0; i < sizeof(rf_ipmi_boots) / sizeof(rf_ipmi_boots[0]);
	     i++) {
		if (strcmp(name, rf_ipmi_boots[i].ipmi))
			continue;
		snprintf(s->boot_enabled, sizeof(s->boot_enabled), "%s",
			 rf_ipmi_boots[i].enabled);
		snprintf(s->boot_target, sizeof(s->boot_target), "%s",
			 rf_ipmi_boots[i].target);
		rf_fleet_cache(g, s);
		return;
	}
}

/* One datagram: "ID VERB [ARG]". */
static void rf_ipmi_on_sock(int fd, short revents, void *data)
{
	struct rf_gw *g = data;
	char buf[256], id[TOPICS_ID_MAX + 1], verb[32], arg[32];
	struct rf_system *s;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		arg[0] = '\0';
		if (sscanf(buf, "%64s %31s %31s", id, verb, arg) < 2)
			continue;
		s = rf_fleet_find(g, id);
		if (!s) {
			log_warn("ipmi: no system %s", id);
			continue;
		}
		log_info("ipmi %s: %s %s", id, verb, arg);
		if (!strcmp(verb, "boot"))
			rf_ipmi_boot(g, s, arg);
		else if (s->ipmi_busy)
			snprintf(s->ipmi_next, sizeof(s->ipmi_next), "%s",
				 verb);
		else
			rf_ipmi_run(g, s, verb);
	}
}

int rf_ipmi_start(struct rf_gw *g, char *err, size_t errlen)
{
	struct sockaddr_un sa;

	g->ipmi_fd = -1;
	if (!g->cfg.state_dir[0])
		return 0;
	if (rf_ipmi_sock_path(g->cfg.state_dir, &sa)) {
		snprintf(err, errlen, "[redfish] state_dir is too long");
		return -ENAMETOOLONG;
	}
	g->ipmi_fd =
		socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->ipmi_fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(g->ipmi_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int r = -errno;

		snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
		return r;
	}
	/* ipmi_sim runs the hook as its own user: the group may write. */
	chmod(sa.sun_path, 0660);
	return loop_fd_add(g->loop, g->ipmi_fd, POLLIN, rf_ipmi_on_sock, g);
}

void rf_ipmi_stop(struct rf_gw *g)
{
	struct sockaddr_un sa;

	if (g->ipmi_fd < 0)
		return;
	loop_fd_del(g->loop, g->ipmi_fd);
	close(g->ipmi_fd);
	g->ipmi_fd = -1;
	if (!rf_ipmi_sock_path(g->cfg.state_dir, &sa))
		unlink(sa.sun_path);
}

/* --- the hook: a short-lived process run by ipmi_sim ------------------ */

static int rf_ipmi_hook_get(const char *dir, const char *id, int argc,
			    char **argv)
{
	char path[CONFIG_PATH_MAX + 80], buf[512];
	const char *power, *boot;
	cJSON *j = NULL;
	ssize_t n;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s.json", dir, id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr,
			"zerobmc-redfish: %s: %s (is the gateway "
			"running, and does it know %s?)\n",
			path, strerror(errno), id);
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		j = cJSON_Parse(buf);
	}
	power = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(j, "power"));
	boot = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(j, "boot"));
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "power")) {
			printf("power:%d\n", power && !strcmp(power, "On"));
		} else if (!strcmp(argv[i], "boot")) {
			const char *name = "default";

			for (size_t k = 0;
			     boot && k < sizeof(rf_ipmi_boots) /
						     sizeof(rf_ipmi_boots[0]);
			     k++)
				if (!strcmp(boot, rf_ipmi_boots[k].target) &&
				    strcmp(boot, "None"))
					name = rf_ipmi_boots[k].ipmi;
			printf("boot:%s\n", name);
		} else {
			fprintf(stderr, "zerobmc-redfish: cannot get %s\n",
				argv[i]);
			rc = 1;
		}
	}
	cJSON_Delete(j);
	return rc;
}

/* "set power 1" → "power-on" and so on: one datagram, no waiting. */
static int rf_ipmi_hook_set(const char *dir, const char *id, int argc,
			    char **argv)
{
	struct sockaddr_un sa;
	char msg[160];
	int fd, rc = 0;

	if (rf_ipmi_sock_path(dir, &sa))
		return 1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	for (int i = 0; i + 1 < argc; i += 2) {
		const char *p = argv[i], *v = argv[i + 1], *verb = NULL;

		if (!strcmp(p, "power"))
			verb = atoi(v) ? "power-on" : "power-off";
		else if (!strcmp(p, "reset") && atoi(v))
			verb = "reset";
		else if (!strcmp(p, "shutdown") && atoi(v))
			verb = "soft";
		else if (!strcmp(p, "boot"))
			verb = "boot";
		else if (!strcmp(p, "identify"))
			continue; /* no identify LED on a zerobmc */
		if (!verb) {
			fprintf(stderr, "zerobmc-redfish: cannot set %s\n", p);
			rc = 1;
			continue;
		}
		snprintf(msg, sizeof(msg), "%s %s %s", id, verb,
			 strcmp(verb, "boot") ? "" : v);
		if (sendto(fd, msg, strlen(msg), MSG_DONTWAIT,
			   (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			fprintf(stderr, "zerobmc-redfish: %s: %s\n",
				sa.sun_path, strerror(errno));
			rc = 1;
		}
	}
	close(fd);
	return rc;
}

/* argv: ID [MC-ADDRESS] get|set PARM [VALUE]... */
int rf_ipmi_hook_main(int argc, char **argv, const char *conf_path)
{
	struct rf_config *c = calloc(1, sizeof(*c));
	char err[512];
	const char *id;
	int rc = 2;

	if (!c)
		return 1;
	if (rf_config_load(c, conf_path, err, sizeof(err))) {
		fprintf(stderr, "zerobmc-redfish: %s\n", err);
		goto cleanup;
	}
	if (argc < 3 || !config_id_valid(argv[0])) {
		fprintf(stderr, "usage: zerobmc-redfish --ipmi-hook ID "
				"[MC] get|set PARM [VALUE]...\n");
		goto cleanup;
	}
	id = argv[0];
	argc--;
	argv++;
	if (!strncmp(argv[0], "0x", 2)) {
		argc--;
		argv++;
	}
	if (!strcmp(argv[0], "get"))
		rc = rf_ipmi_hook_get(c->state_dir, id, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "set"))
		rc = rf_ipmi_hook_set(c->state_dir, id, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "check"))
		rc = 0;
	else
		fprintf(stderr, "zerobmc-redfish: unknown hook operation %s\n",
			argv[0]);
cleanup:
	free(c);
	return rc;
}
