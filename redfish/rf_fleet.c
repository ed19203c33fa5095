/*
 * The fleet: every agent seen on the retained <base>/+/status and
 * <base>/+/state, filtered by [redfish] systems. The gateway never asks
 * an agent for its state; it keeps what the agents publish.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redfish/rf.h"

struct rf_system *rf_fleet_find(struct rf_gw *g, const char *id)
{
	for (int i = 0; i < g->n_systems; i++)
		if (!strcmp(g->systems[i].id, id))
			return &g->systems[i];
	return NULL;
}

static struct rf_system *rf_fleet_add(struct rf_gw *g, const char *id)
{
	struct rf_system *s;

	if (g->n_systems == RF_SYSTEMS_MAX)
		return NULL;
	if (!g->systems) {
		g->systems = calloc(RF_SYSTEMS_MAX, sizeof(*g->systems));
		if (!g->systems)
			return NULL;
	}
	s = &g->systems[g->n_systems++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->boot_enabled, sizeof(s->boot_enabled), "Disabled");
	snprintf(s->boot_target, sizeof(s->boot_target), "None");
	snprintf(s->boot_mode, sizeof(s->boot_mode), "UEFI");
	return s;
}

/* "<base>/<id>/<leaf>" → id, or false. */
static bool rf_fleet_split(const struct rf_gw *g, const char *topic, char *id,
			   const char **leaf)
{
	const char *base = g->cfg.net.agent.base_topic;
	size_t bl = strlen(base);
	const char *p, *slash;

	if (strncmp(topic, base, bl) || topic[bl] != '/')
		return false;
	p = topic + bl + 1;
	slash = strchr(p, '/');
	if (!slash || (size_t)(slash - p) > TOPICS_ID_MAX || slash == p)
		return false;
	memcpy(id, p, (size_t)(slash - p));
	id[slash - p] = '\0';
	*leaf = slash + 1;
	return config_id_valid(id);
}

void rf_fleet_message(struct rf_gw *g, const char *topic, const char *payload,
		      size_t len)
{
	char id[TOPICS_ID_MAX + 1];
	struct rf_system *s;
	const char *leaf;
	cJSON *j;

	if (!rf_fleet_split(g, topic, id, &leaf) ||
	    !rf_config_allowed(&g->cfg, id))
		return;
	if (strcmp(leaf, "status") && strcmp(leaf, "state"))
		return;
	s = rf_fleet_find(g, id);
	/* An empty retained status removes the system from the fleet (the
	 * way to retire an agent); an empty state only clears the state. */
	if (s && !len && !strcmp(leaf, "status")) {
		cJSON_Delete(s->state);
		*s = g->systems[--g->n_systems];
		return;
	}
	/* An empty retained message clears a topic: nothing to add. */
	if (!s && (!len || !(s = rf_fleet_add(g, id))))
		return;
	if (!strcmp(leaf, "status")) {
		s->online = len == 6 && !memcmp(payload, "online", 6);
	} else {
		j = cJSON_ParseWithLength(payload, len);
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			return;
		}
		cJSON_Delete(s->state);
		s->state = j;
	}
	rf_fleet_cache(g, s);
}

/* state.power.state as Redfish's PowerState, or NULL. */
const char *rf_fleet_power(const struct rf_system *s)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(s->state, "power");
	const char *st = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(p, "state"));

	if (!st)
		return NULL;
	if (!strcmp(st, "on"))
		return "On";
	/* A sleeping server is not running: Off, as Redfish has no Asleep
	 * (Paused means a paused virtual machine). */
	if (!strcmp(st, "off") || !strcmp(st, "asleep"))
		return "Off";
	return NULL;
}

/*
 * The IPMI hooks read this: one small file per system, replaced
 * atomically, so a hook answers "power status" at once.
 */
void rf_fleet_cache(struct rf_gw *g, const struct rf_system *s)
{
	char path[CONFIG_PATH_MAX + 80], tmp[CONFIG_PATH_MAX + 96];
	const char *p = rf_fleet_power(s);
	char buf[256];
	int fd, n;

	if (!g->cfg.state_dir[0])
		return;
	n = snprintf(buf, sizeof(buf),
		     "{\"online\":%s,\"power\":\"%s\",\"boot\":\"%s\"}\n",
		     s->online ? "true" : "false", p ? p : "Unknown",
		     strcmp(s->boot_enabled, "Disabled") ? s->boot_target
							 : "None");
	snprintf(path, sizeof(path), "%s/%s.json", g->cfg.state_dir, s->id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	if (rename(tmp, path))
		unlink(tmp);
}
