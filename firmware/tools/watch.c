/*
 * `zerobmc watch ID`: what an agent says as it happens, as readable
 * lines: its status, timeline events and command results.
 */
#include "firmware/tools/watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "firmware/tools/fleet_client.h"
#include "firmware/tools/fleet_print.h"

struct watch {
	struct fleet f;
	const char *agent;
};

static void watch_usage(FILE *f)
{
	fprintf(f,
		"usage: zerobmc watch [OPTIONS] ID\n"
		"\n"
		"Prints what agent ID says, as it happens, one line each: its\n"
		"status (online, offline), timeline events (boot phases, "
		"media\n"
		"reads, console lines, power) and command results, until "
		"Ctrl+C or -t.\n"
		"\n"
		"%s"
		"\n"
		"Exit status: 0 when stopped or the time is up; 1 the "
		"broker could\n"
		"not be reached.\n",
		fleet_common_help);
}

static uint64_t watch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void watch_line(uint64_t when_ms, const char *kind, const char *text)
{
	char clock[16];

	fleet_clock(clock, sizeof(clock), when_ms);
	printf("%s %-7s %s\n", clock, kind, text);
	fflush(stdout);
}

static void watch_event(struct watch *w, const struct mqtt_msg *m)
{
	cJSON *ev = cJSON_ParseWithLength(m->payload, m->len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "t");
	char line[1024];

	if (!cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		return;
	}
	if (w->f.opts.json) {
		fleet_print_json(stdout, w->agent, "event", ev);
		fflush(stdout);
		return;
	}
	fleet_event_line(line, sizeof(line), ev);
	watch_line(cJSON_IsNumber(t) ? (uint64_t)t->valuedouble
				     : watch_now_ms(),
		   "event", line);
	cJSON_Delete(ev);
}

static void watch_result(struct watch *w, const struct mqtt_msg *m)
{
	cJSON *res = cJSON_ParseWithLength(m->payload, m->len);
	const char *fields[] = {"cmd", "status", "error", "id"};
	char line[1024];
	size_t n = 0;

	if (!cJSON_IsObject(res)) {
		cJSON_Delete(res);
		return;
	}
	if (w->f.opts.json) {
		fleet_print_json(stdout, w->agent, "result", res);
		fflush(stdout);
		return;
	}
	line[0] = '\0';
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(res, fields[i]);

		if (!cJSON_IsString(v) || n >= sizeof(line))
			continue;
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      i == 3 ? "%s(id %s)" : "%s%s",
				      n ? " " : "", v->valuestring);
	}
	watch_line(watch_now_ms(), "result", line);
	cJSON_Delete(res);
}

static void watch_on_message(struct fleet *f, const struct mqtt_msg *m)
{
	struct watch *w = f->data;
	char id[TOPICS_ID_MAX + 1], text[64];
	const char *name;

	if (!fleet_topic_id(f, m->topic, id, sizeof(id), &name))
		return;
	if (!strcmp(name, "event")) {
		watch_event(w, m);
	} else if (!strcmp(name, "result")) {
		watch_result(w, m);
	} else if (!strcmp(name, "status")) {
		snprintf(text, sizeof(text), "%s%s",
			 m->len == 6 && !memcmp(m->payload, "online", 6)
				 ? "online"
				 : "offline",
			 m->retained ? " (retained)" : "");
		if (f->opts.json)
			fleet_print_json(stdout, w->agent, "status",
					 cJSON_CreateString(text));
		else
			watch_line(watch_now_ms(), "status", text);
		fflush(stdout);
	}
}

static void watch_on_deadline(struct fleet *f)
{
	fleet_finish(f, FLEET_OK);
}

int watch_main(int argc, char **argv, const struct config *cfg)
{
	static const struct fleet_ops ops = {
		.message = watch_on_message,
		.deadline = watch_on_deadline,
	};
	static const char *const names[] = {"status", "event", "result"};
	struct fleet_opts o = {0};
	struct watch w = {0};
	char err[600] = "", t[TOPICS_MAX + 64];
	int i, r = 0;

	i = fleet_parse_opts("watch", argc, argv, &o);
	if (i == -1) {
		watch_usage(stdout);
		return FLEET_OK;
	}
	if (i < 0 || argc - i != 1 || o.group || o.watch) {
		watch_usage(stderr);
		return FLEET_USAGE;
	}
	w.agent = argv[i];
	if (!config_id_valid(w.agent)) {
		fprintf(stderr,
			"zerobmc watch: \"%s\" is not an agent id "
			"([A-Za-z0-9_-], 1 to 64)\n",
			w.agent);
		return FLEET_USAGE;
	}
	/* A watcher outlives a broker's restart. */
	o.watch = true;
	r = fleet_open(&w.f, "watch", &o, &ops, &w, err, sizeof(err));
	for (size_t k = 0; !r && k < sizeof(names) / sizeof(names[0]); k++) {
		fleet_topic(&w.f, t, sizeof(t), w.agent, names[k]);
		r = fleet_subscribe(&w.f, t);
	}
	if (r) {
		fprintf(stderr, "zerobmc watch: %s\n",
			err[0] ? err : strerror(-r));
		r = FLEET_ERROR;
	} else {
		r = fleet_run(&w.f);
	}
	if (w.f.loop)
		fleet_close(&w.f);
	(void)cfg;
	return r;
}
