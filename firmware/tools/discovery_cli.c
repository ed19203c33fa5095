#include "firmware/tools/discovery_cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "firmware/macro/macro_store.h"
#include "firmware/media/media_name.h"
#include "ha-integration/discovery.h"
#include "topics/topics.h"

#define DISCOVERY_IMAGES_MAX 256
#ifndef ZB_HOMEPAGE
#define ZB_HOMEPAGE "" /* as in ha-integration/ha.c */
#endif

struct discovery_lists {
	char (*macros)[MACRO_NAME_MAX + 1];
	size_t n_macros;
	char *images[DISCOVERY_IMAGES_MAX];
	size_t n_images;
};

/* As the agent offers them: the folder's macros, then the built-ins. */
static const char *discovery_macro_at(void *data, size_t i)
{
	struct discovery_lists *l = data;

	return macro_available_at((const char(*)[MACRO_NAME_MAX + 1]) l->macros,
				  l->n_macros, i);
}

static const char *discovery_image_at(void *data, size_t i)
{
	struct discovery_lists *l = data;

	return i < l->n_images ? l->images[i] : NULL;
}

static int discovery_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The images folder when this machine has it (the Pi); else none. */
static void discovery_images(const char *dir, struct discovery_lists *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (!d)
		return;
	while ((e = readdir(d)) && l->n_images < DISCOVERY_IMAGES_MAX) {
		size_t at;

		if (media_name_check(e->d_name, strlen(e->d_name), &at) !=
			    MEDIA_RULE_OK ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		l->images[l->n_images] = strdup(e->d_name);
		if (l->images[l->n_images])
			l->n_images++;
	}
	closedir(d);
	qsort(l->images, l->n_images, sizeof(l->images[0]), discovery_cmp);
}

/*
 * What the agent with this configuration offers: the capabilities it
 * would attach (see each one's attach), then ha_features_of.
 */
static unsigned int discovery_features(const struct config *c)
{
	unsigned int caps = HA_F_MACROS;

	if (c->console.device[0])
		caps |= HA_F_CONSOLE;
	if (c->gadget.manage || c->media.lun[0])
		caps |= HA_F_MEDIA;
	if (c->gadget.manage || c->gadget.udc_state[0] || c->gadget.udc[0])
		caps |= HA_F_USB;
	/* cmd/boot needs the keyboard (always), media and the UDC state. */
	if ((caps & HA_F_MEDIA) && (caps & HA_F_USB))
		caps |= HA_F_BOOT;
	return ha_features_of(c, caps, true);
}

static int discovery_print(const struct ha_input *in, bool per_entity)
{
	char topic[TOPICS_MAX + HA_KEY_MAX + 64];
	struct ha_set set = {0};
	char *doc = NULL;
	int r;

	r = ha_set_build(in, &set);
	if (r)
		goto cleanup;
	if (!per_entity) {
		doc = ha_device_config(in, &set, NULL);
		r = doc ? ha_device_topic(in, topic, sizeof(topic)) : -ENOMEM;
		if (!r)
			printf("%s %s\n", topic, doc);
		goto cleanup;
	}
	for (size_t i = 0; !r && i < set.n; i++) {
		free(doc);
		doc = ha_entity_config(in, &set.v[i]);
		r = doc ? ha_entity_topic(in, &set.v[i], topic, sizeof(topic))
			: -ENOMEM;
		if (!r)
			printf("%s %s\n", topic, doc);
	}
cleanup:
	free(doc);
	ha_set_free(&set);
	return r;
}

int discovery_cli_main(int argc, char **argv, const struct config *cfg)
{
	struct discovery_lists lists = {0};
	const char *id = argc > 1 ? argv[1] : cfg->agent.id;
	char base[TOPICS_MAX];
	struct ha_input in;
	int r, code = 1;

	if (argc > 2 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr,
			"usage: zerobmc [-c FILE] discovery [ID]\n"
			"  prints \"TOPIC PAYLOAD\" lines: the retained Home "
			"Assistant discovery\n"
			"  of agent ID (default [agent] id), to publish with "
			"admin rights:\n"
			"  zerobmc discovery nuc | while read -r t p; do "
			"mosquitto_pub -r -t \"$t\" -m \"$p\"; done\n");
		return 2;
	}
	if (!config_id_valid(id) || !strcmp(id, "group")) {
		fprintf(stderr,
			"zerobmc: discovery: bad id \"%s\": it must match "
			"[A-Za-z0-9_-]{1,64} and not be \"group\"\n",
			id);
		return 1;
	}
	if (snprintf(base, sizeof(base), "%s/%s", cfg->agent.base_topic, id) >=
	    (int)sizeof(base)) {
		fprintf(stderr, "zerobmc: discovery: base topic too long\n");
		return 1;
	}
	lists.macros = calloc(MACRO_LIST_MAX, sizeof(*lists.macros));
	if (!lists.macros)
		goto cleanup;
	if (macro_store_list(cfg->macros.dir, lists.macros, MACRO_LIST_MAX,
			     &lists.n_macros))
		lists.n_macros = 0;
	discovery_images(cfg->media.dir, &lists);
	memset(&in, 0, sizeof(in));
	in.id = id;
	in.base = base;
	in.prefix = cfg->homeassistant.prefix;
	in.sw_version = ZB_VERSION;
	in.origin_url = ZB_HOMEPAGE;
	in.features = discovery_features(cfg);
	in.images = discovery_image_at;
	in.images_data = &lists;
	in.macros = discovery_macro_at;
	in.macros_data = &lists;
	r = discovery_print(&in, cfg->homeassistant.per_entity);
	if (r)
		fprintf(stderr, "zerobmc: discovery: %s\n", strerror(-r));
	else
		code = 0;
cleanup:
	for (size_t i = 0; i < lists.n_images; i++)
		free(lists.images[i]);
	free(lists.macros);
	return code;
}
