/*
 * zerobmc: a USB keyboard, drive and serial port for a server, driven
 * over MQTT. This file reads the command line and the configuration and
 * hands over to the agent or to one of the command-line tools.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/agent/agent.h"
#include "firmware/core/config.h"
#include "firmware/tools/console_client.h"
#include "firmware/tools/discovery_cli.h"
#include "firmware/tools/gadget_cli.h"
#include "firmware/core/log.h"
#include "firmware/core/privdrop.h"
#include "firmware/tools/macro_cli.h"
#include "firmware/tools/list.h"
#include "firmware/tools/send.h"
#include "firmware/tools/watch.h"
#ifdef ZB_FAKE_GPIO
/* The integration tests' build: a plain file stands in for the chip. */
#include "firmware/power/power_cap.h"
#include "tests/fake/power_fake.h"
#endif

#define DEFAULT_CONFIG "/etc/zerobmc/zerobmc.conf"

struct main_tool {
	const char *name;
	const char *usage;
	/* argv[0] is the tool's name; cfg is NULL if the tool needs none. */
	int (*run)(int argc, char **argv, const struct config *cfg);
	bool needs_config;
};

static const struct main_tool main_tools[] = {
	{"console", "console [-e CHAR] [ID]", console_client_main, true},
	{"discovery", "discovery [ID]", discovery_cli_main, true},
	{"gadget", "gadget up|down|status", gadget_cli_main, true},
	{"macro", "macro check [-l LAYOUT] FILE...", macro_cli_main, false},
	{"send", "send [-b URI] [-t S] [--json] ID|--group G CMD [PAYLOAD]",
	 send_main, false},
	{"list", "list [-b URI] [--json] [--watch]", list_main, false},
	{"watch", "watch [-b URI] [--json] ID", watch_main, false},
	{NULL, NULL, NULL, false},
};

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: zerobmc [-c FILE] [-n] [-v] [-V] [-h] [TOOL ARGS...]\n"
		"\n"
		"Runs the zerobmc agent: a USB keyboard, drive and serial "
		"port\n"
		"for the server this board is plugged into, driven over MQTT.\n"
		"\n"
		"  -c FILE  configuration file (default " DEFAULT_CONFIG ")\n"
		"  -n       check the configuration and exit\n"
		"  -v       log debug messages\n"
		"  -V       print the version and exit\n"
		"  -h       print this help and exit\n");
	if (main_tools[0].name) {
		fprintf(f, "\ntools:\n");
		for (const struct main_tool *t = main_tools; t->name; t++)
			fprintf(f, "  zerobmc [-c FILE] %s\n", t->usage);
	}
	fprintf(f, "\nCommands arrive on <base_topic>/<id>/cmd/<name>; see "
		   "topics/README.md.\n");
}

/*
 * Started as root outside systemd (whose unit starts it as its user):
 * what needs root is done now, then root is gone for good.
 */
static int main_drop_root(struct config *cfg)
{
	char err[512];
	int r;

	if (geteuid() != 0)
		return 0;
	if (!cfg->agent.user[0] || !strcmp(cfg->agent.user, "root")) {
		log_warn("running as root: set [agent] user to drop it");
		return 0;
	}
	r = gadget_cli_before_drop(cfg, err, sizeof(err));
	if (!r)
		r = privdrop_to(cfg->agent.user, err, sizeof(err));
	if (r)
		log_error("%s", err);
	else
		log_info("running as user %s", cfg->agent.user);
	return r;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	struct config cfg;
	struct config_error cerr;
	char msg[600];
	bool check = false, verbose = false;
	struct loop *l;
	struct agent a;
	int opt, r;

#ifdef ZB_FAKE_GPIO
	power_cap_set_backend(&power_fake_ops);
#endif
	/*
	 * One malloc arena for every thread: the agent's threads allocate
	 * little, and each extra arena keeps memory of its own. The TLS
	 * handshake thread's parse of the system CA store left about
	 * 220 KiB behind in one (bench_tls_rss, RssAnon).
	 */
	mallopt(M_ARENA_MAX, 1);
	while ((opt = getopt(argc, argv, "+c:nvVh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			printf("zerobmc %s\n", ZB_VERSION);
			return 0;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	config_defaults(&cfg);
	if (optind < argc) {
		const struct main_tool *t = main_tools;

		while (t->name && strcmp(t->name, argv[optind]))
			t++;
		if (!t->name) {
			fprintf(stderr, "zerobmc: unknown tool \"%s\"\n",
				argv[optind]);
			main_usage(stderr);
			return 2;
		}
		if (t->needs_config) {
			r = config_load(&cfg, path, &cerr);
			if (r) {
				config_error_format(&cerr, msg, sizeof(msg));
				fprintf(stderr, "zerobmc: %s\n", msg);
				return 1;
			}
		}
		return t->run(argc - optind, argv + optind,
			      t->needs_config ? &cfg : NULL);
	}
	r = config_load(&cfg, path, &cerr);
	if (r) {
		config_error_format(&cerr, msg, sizeof(msg));
		fprintf(stderr, "zerobmc: %s\n", msg);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	log_set_level(verbose ? LOG_LVL_DEBUG : cfg.agent.log_level);
	r = main_drop_root(&cfg);
	if (r)
		return 1;
	l = loop_new();
	if (!l)
		return 1;
	r = agent_init(&a, &cfg, l);
	if (!r)
		r = agent_run(&a);
	agent_fini(&a);
	loop_free(l);
	return r ? 1 : 0;
}
