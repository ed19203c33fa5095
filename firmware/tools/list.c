/*
 * `zerobmc list`: every agent on the broker, from what it retained (the
 * status and the state), and with --watch every change as it comes.
 */
#include "firmware/tools/list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "firmware/tools/fleet_client.h"
#include "firmware/tools/fleet_print.h"

#define LIST_DEFAULT_TIMEOUT_MS 10000
#define LIST_AGENTS_MAX 65536

struct list_agent {
	char id[TOPICS_ID_MAX + 1];
	char online[8]; /* "online", "offline" or "?" (no status) */
	char phase[32], power[32], media[TOPICS_ID_MAX * 4], version[32];
	long long last_seen; /* unix s of the last state, 0 unknown */
};

struct list {
	struct fleet f;
	struct list_agent *agents;
	size_t n, cap;
	bool probed;
};

static void list_usage(FILE *f)
{
	fprintf(f,
		"usage: zerobmc list [OPTIONS]\n"
		"\n"
		"Every agent on the broker, from its retained status and "
		"state:\n"
		"online, boot phase, power, inserted media, version and when "
		"its\n"
		"state was last published.\n"
		"\n"
		"  -w, --watch   then print a line for every change, until "
		"Ctrl+C\n"
		"                or -t\n"
		"%s"
		"                (default 10 s to reach the broker; none with "
		"--watch)\n"
		"\n"
		"Exit status: 0 listed; 1 the broker could not be reached; 3 "
		"not\n"
		"in time.\n",
		fleet_common_help);
}

static struct list_agent *list_agent(struct list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->agents[i].id, id))
			return &l->agents[i];
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct list_agent *a;

		if (cap > LIST_AGENTS_MAX)
			return NULL;
		a = realloc(l->agents, cap * sizeof(*a));
		if (!a)
			return NULL;
		l->agents = a;
		l->cap = cap;
	}
	memset(&l->agents[l->n], 0, sizeof(l->agents[0]));
	snprintf(l->agents[l->n].id, sizeof(l->agents[0].id), "%s", id);
	snprintf(l->agents[l->n].online, sizeof(l->agents[0].online), "?");
	return &l->agents[l->n++];
}

/* obj.a.b as text into buf; "-" when absent or null. */
static void list_field(char *buf, size_t len, const cJSON *o, const char *a,
		       const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (cJSON_IsString(v))
		snprintf(buf, len, "%s", v->valuestring);
	else if (cJSON_IsBool(v))
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "yes" : "no");
	else
		snprintf(buf, len, "-");
}

static void list_take_state(struct list_agent *a, const struct mqtt_msg *m)
{
	cJSON *st = cJSON_ParseWithLength(m->payload, m->len);
	const cJSON *started, *up;

	if (!cJSON_IsObject(st)) {
		cJSON_Delete(st);
		return;
	}
	list_field(a->phase, sizeof(a->phase), st, "phase", "phase");
	list_field(a->power, sizeof(a->power), st, "power", "state");
	list_field(a->media, sizeof(a->media), st, "media", "image");
	list_field(a->version, sizeof(a->version), st, "version", NULL);
	/* The state says when the agent started and for how long it has
	 * run: their sum is when it was published. */
	started = cJSON_GetObjectItemCaseSensitive(st, "started");
	up = cJSON_GetObjectItemCaseSensitive(st, "uptime_s");
	if (cJSON_IsNumber(started) && cJSON_IsNumber(up))
		a->last_seen =
			(long long)(started->valuedouble + up->valuedouble);
	cJSON_Delete(st);
}

static void list_ago(char *buf, size_t len, long long when)
{
	long long d = (long long)time(NULL) - when;

	if (!when)
		snprintf(buf, len, "-");
	else if (d < 120)
		snprintf(buf, len, "%llds ago", d < 0 ? 0 : d);
	else if (d < 7200)
		snprintf(buf, len, "%lldm ago", d / 60);
	else if (d < 172800)
		snprintf(buf, len, "%lldh ago", d / 3600);
	else
		snprintf(buf, len, "%lldd ago", d / 86400);
}

/* "-" and "?" (nothing known) are null for scripts. */
static void list_json_str(cJSON *o, const char *name, const char *v)
{
	if (!strcmp(v, "-") || !strcmp(v, "?"))
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, v);
}

static void list_print(struct list *l, const struct list_agent *a, bool change)
{
	char ago[32];

	if (l->f.opts.json) {
		cJSON *o = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(o, "agent", a->id);
		list_json_str(o, "online", a->online);
		list_json_str(o, "phase", a->phase);
		list_json_str(o, "power", a->power);
		list_json_str(o, "media", a->media);
		list_json_str(o, "version", a->version);
		cJSON_AddNumberToObject(o, "last_seen", (double)a->last_seen);
		s = cJSON_PrintUnformatted(o);
		if (s)
			printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(o);
		fflush(stdout);
		return;
	}
	list_ago(ago, sizeof(ago), a->last_seen);
	if (change) {
		char clock[16];

		fleet_clock(clock, sizeof(clock), (uint64_t)time(NULL) * 1000);
		printf("%s ", clock);
	}
	printf("%-20s %-7s %-12s %-9s %-20s %-8s %s\n", a->id, a->online,
	       a->phase, a->power, a->media, a->version, ago);
	fflush(stdout);
}

static int list_cmp(const void *x, const void *y)
{
	const struct list_agent *a = x, *b = y;

	return strcmp(a->id, b->id);
}

static void list_table(struct list *l)
{
	qsort(l->agents, l->n, sizeof(l->agents[0]), list_cmp);
	if (!l->f.opts.json)
		printf("%-20s %-7s %-12s %-9s %-20s %-8s %s\n", "ID", "ONLINE",
		       "PHASE", "POWER", "MEDIA", "VERSION", "LAST SEEN");
	for (size_t i = 0; i < l->n; i++)
		list_print(l, &l->agents[i], false);
	if (!l->f.opts.json)
		printf("%zu agent%s\n", l->n, l->n == 1 ? "" : "s");
	fflush(stdout);
}

static bool list_news(const struct list_agent *a, const struct list_agent *b)
{
	return strcmp(a->online, b->online) || strcmp(a->phase, b->phase) ||
	       strcmp(a->power, b->power) || strcmp(a->media, b->media) ||
	       strcmp(a->version, b->version);
}

static void list_on_online(struct fleet *f)
{
	struct list *l = f->data;

	if (!l->probed)
		fleet_probe(f);
}

static void list_on_message(struct fleet *f, const struct mqtt_msg *m)
{
	struct list *l = f->data;
	struct list_agent *a, before;
	char id[TOPICS_ID_MAX + 1];
	const char *name;

	if (fleet_is_probe(f, m)) {
		if (l->probed)
			return;
		l->probed = true;
		list_table(l);
		if (!f->opts.watch)
			fleet_finish(f, FLEET_OK);
		return;
	}
	if (!fleet_topic_id(f, m->topic, id, sizeof(id), &name) || !m->len)
		return;
	a = list_agent(l, id);
	if (!a)
		return;
	before = *a;
	if (!strcmp(name, "status"))
		snprintf(a->online, sizeof(a->online), "%s",
			 m->len == 6 && !memcmp(m->payload, "online", 6)
				 ? "online"
				 : "offline");
	else
		list_take_state(a, m);
	/* The heartbeat's state changes only the time: not news. */
	if (l->probed && list_news(&before, a))
		list_print(l, a, true);
}

static void list_on_deadline(struct fleet *f)
{
	struct list *l = f->data;

	if (l->probed) {
		fleet_finish(f, FLEET_OK);
		return;
	}
	fprintf(stderr, "zerobmc list: the broker did not answer in time\n");
	fleet_finish(f, FLEET_TIMEOUT);
}

int list_main(int argc, char **argv, const struct config *cfg)
{
	static const struct fleet_ops ops = {
		.online = list_on_online,
		.message = list_on_message,
		.deadline = list_on_deadline,
	};
	struct fleet_opts o = {0};
	struct list l = {0};
	char err[600] = "", t[TOPICS_MAX + 64];
	int i, r;

	i = fleet_parse_opts("list", argc, argv, &o);
	if (i == -1) {
		list_usage(stdout);
		return FLEET_OK;
	}
	if (i < 0 || i != argc || o.group) {
		list_usage(stderr);
		return FLEET_USAGE;
	}
	if (!o.timeout_ms && !o.watch)
		o.timeout_ms = LIST_DEFAULT_TIMEOUT_MS;
	r = fleet_open(&l.f, "list", &o, &ops, &l, err, sizeof(err));
	if (!r) {
		fleet_topic(&l.f, t, sizeof(t), "+", "status");
		r = fleet_subscribe(&l.f, t);
	}
	if (!r) {
		fleet_topic(&l.f, t, sizeof(t), "+", "state");
		r = fleet_subscribe(&l.f, t);
	}
	if (r) {
		fprintf(stderr, "zerobmc list: %s\n",
			err[0] ? err : strerror(-r));
		r = FLEET_ERROR;
	} else {
		r = fleet_run(&l.f);
	}
	if (l.f.loop)
		fleet_close(&l.f);
	free(l.agents);
	(void)cfg;
	return r;
}
