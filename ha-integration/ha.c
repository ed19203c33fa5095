/*
 * Home Assistant glue: fills struct ha_input from the agent, publishes
 * what ha-integration/discovery.c builds, and keeps track of what Home
 * Assistant has been told, so that a change is noticed and a removed
 * entity removed. That knowledge also comes from the broker: the agent
 * subscribes to its own discovery topics, so the retained payloads of
 * an earlier run (another macro list, features since turned off, the
 * other discovery form) are seen and cleaned up after a restart.
 */
#include "ha-integration/ha.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/macro/macro_store.h"
#include "firmware/media/media.h"
#include "firmware/media/media_cap.h"

#ifndef ZB_HOMEPAGE
#define ZB_HOMEPAGE "" /* set at build time; empty: no origin url */
#endif

/* Home Assistant's birth message: answer after 1 to 5 s, so that a
 * fleet of agents does not answer in the same instant. */
#define HA_BIRTH_MIN_MS 1000
#define HA_BIRTH_SPREAD_MS 4000
/* State changes often (console lines); compare the entities at most
 * this often. */
#define HA_CHECK_MS 1000
/* After connecting, the retained discovery payloads of an earlier run
 * arrive right after the subscription; wait for them this long before
 * the first publish (later ones are handled when they come). */
#define HA_SETTLE_MS 300
/* After cmd/refresh. */
#define HA_REPUBLISH_MS 50

struct ha {
	const struct cap *c;
	bool per_entity;
	char status_topic[TOPICS_MAX + 16];
	char device_topic[TOPICS_MAX + 64];
	char entity_filter[TOPICS_MAX + 96];
	/* The default macro list: the folder's files and the built-ins. */
	char (*macro_files)[MACRO_NAME_MAX + 1];
	size_t n_macro_files;
	int birth_timer;
	int check_timer;
	int settle_timer;
	/* What Home Assistant has: published by us, or found retained. */
	struct ha_set last;
	uint64_t last_hash;
	bool published;
	/* Retained payloads of the other discovery form, to be cleared. */
	struct ha_set stale_entities; /* per-entity topics (device form) */
	bool stale_device;	      /* the device topic (per-entity form) */
	unsigned int publishes;
	char error[128];
};

/* ---- the input ---- */

static const char *ha_image_at(void *data, size_t i)
{
	cJSON *img = cJSON_GetArrayItem(data, (int)i);
	cJSON *name = cJSON_GetObjectItemCaseSensitive(img, "name");

	return cJSON_IsString(name) ? name->valuestring : NULL;
}

/*
 * The macros a button can run, as cmd/macro finds them: the folder's
 * files (read again for each comparison, which happens at most once a
 * second), then the built-ins a file does not override.
 */
static const char *ha_macro_at(void *data, size_t i)
{
	struct ha *h = data;

	return macro_available_at((const char(*)[MACRO_NAME_MAX + 1])
					  h->macro_files,
				  h->n_macro_files, i);
}

static void ha_macro_files(struct ha *h)
{
	if (macro_store_list(h->c->cfg->macros.dir, h->macro_files,
			     MACRO_LIST_MAX, &h->n_macro_files))
		h->n_macro_files = 0;
}

static unsigned int ha_features(const struct cap *cap)
{
	const struct cap_handles *h = cap->h;
	unsigned int caps = 0;

	if (h->console)
		caps |= HA_F_CONSOLE;
	if (h->media)
		caps |= HA_F_MEDIA;
	if (h->host)
		caps |= HA_F_USB;
	if (h->macros)
		caps |= HA_F_MACROS;
	if (h->boot)
		caps |= HA_F_BOOT;
	return ha_features_of(cap->cfg, caps, h->power != NULL);
}

/* in borrows from media (the media state section, freed by the caller). */
static void ha_input(struct ha *h, struct ha_input *in, cJSON **media)
{
	const struct cap *c = h->c;

	memset(in, 0, sizeof(*in));
	in->id = c->cfg->agent.id;
	in->base = c->topics->base;
	in->prefix = c->cfg->homeassistant.prefix;
	in->sw_version = ZB_VERSION;
	in->origin_url = ZB_HOMEPAGE;
	in->features = ha_features(c);
	*media = c->h->media ? media_state_json(media_cap_media(c->h->media))
			     : NULL;
	/* Without a LUN there is nothing to insert into. */
	if (!*media || cJSON_IsFalse(cJSON_GetObjectItem(*media, "lun")))
		in->features &= ~(unsigned int)HA_F_MEDIA;
	if (*media) {
		in->images = ha_image_at;
		in->images_data =
			cJSON_GetObjectItemCaseSensitive(*media, "images");
	}
	if (in->features & HA_F_MACROS) {
		ha_macro_files(h);
		in->macros = ha_macro_at;
		in->macros_data = h;
	}
}

/* ---- publishing ---- */

static int ha_pub(struct ha *h, const char *topic, const char *payload)
{
	int r = cap_publish(h->c, topic, payload, payload ? strlen(payload) : 0,
			    1, true);

	if (r)
		snprintf(h->error, sizeof(h->error), "publish %s: %s", topic,
			 strerror(-r));
	return r;
}

/* The hash of everything a publish would say, to notice changes. */
static uint64_t ha_digest(struct ha *h, const struct ha_input *in,
			  const struct ha_set *now, int *err)
{
	uint64_t hash = HA_HASH_INIT;
	char topic[TOPICS_MAX + HA_KEY_MAX + 64];

	*err = 0;
	if (!h->per_entity) {
		char *doc = ha_device_config(in, now, NULL);

		if (!doc) {
			*err = -ENOMEM;
			return 0;
		}
		hash = ha_hash(hash, doc);
		free(doc);
		return hash;
	}
	for (size_t i = 0; i < now->n; i++) {
		char *doc = ha_entity_config(in, &now->v[i]);

		if (!doc ||
		    ha_entity_topic(in, &now->v[i], topic, sizeof(topic))) {
			free(doc);
			*err = -ENOMEM;
			return 0;
		}
		hash = ha_hash(ha_hash(hash, topic), doc);
		free(doc);
	}
	return hash;
}

/*
 * Device-based: removed entities first go out as removal markers, then
 * the final payload without them is what stays retained. Per entity:
 * an empty retained payload removes an entity and clears its topic.
 * Either way the other form's retained payloads are cleared first, or
 * Home Assistant would see every unique id twice.
 */
static int ha_publish_set(struct ha *h, const struct ha_input *in,
			  const struct ha_set *now, const struct ha_set *gone)
{
	char topic[TOPICS_MAX + HA_KEY_MAX + 64];
	char *doc;
	int r = 0;

	if (!h->per_entity) {
		for (size_t i = 0; !r && i < h->stale_entities.n; i++)
			if (!ha_entity_topic(in, &h->stale_entities.v[i], topic,
					     sizeof(topic)))
				r = ha_pub(h, topic, NULL);
		if (!r && gone->n) {
			doc = ha_device_config(in, now, gone);
			r = doc ? ha_pub(h, h->device_topic, doc) : -ENOMEM;
			free(doc);
		}
		if (!r) {
			doc = ha_device_config(in, now, NULL);
			r = doc ? ha_pub(h, h->device_topic, doc) : -ENOMEM;
			free(doc);
		}
		return r;
	}
	if (h->stale_device)
		r = ha_pub(h, h->device_topic, NULL);
	for (size_t i = 0; !r && i < gone->n; i++)
		if (!ha_entity_topic(in, &gone->v[i], topic, sizeof(topic)))
			r = ha_pub(h, topic, NULL);
	for (size_t i = 0; !r && i < now->n; i++) {
		if (ha_entity_topic(in, &now->v[i], topic, sizeof(topic)))
			continue;
		doc = ha_entity_config(in, &now->v[i]);
		r = doc ? ha_pub(h, topic, doc) : -ENOMEM;
		free(doc);
	}
	return r;
}

/*
 * Publish if anything changed since the last publish (the entities,
 * their payloads, something to remove or clear), or if force.
 */
static void ha_check(struct ha *h, bool force)
{
	struct ha_input in;
	struct ha_set now = {0}, gone = {0};
	cJSON *media = NULL;
	uint64_t hash = 0;
	int r;

	if (!cap_online(h->c))
		return;
	ha_input(h, &in, &media);
	r = ha_set_build(&in, &now);
	if (!r)
		hash = ha_digest(h, &in, &now, &r);
	if (!r)
		r = ha_set_removed(&h->last, &now, &gone);
	if (r) {
		snprintf(h->error, sizeof(h->error), "discovery: %s",
			 strerror(-r));
		goto out;
	}
	if (!force && h->published && hash == h->last_hash && !gone.n &&
	    !h->stale_entities.n && !h->stale_device)
		goto out;
	r = ha_publish_set(h, &in, &now, &gone);
	if (r)
		goto out;
	ha_set_free(&h->stale_entities);
	h->stale_device = false;
	h->error[0] = '\0';
	ha_set_free(&h->last);
	h->last = now;
	memset(&now, 0, sizeof(now));
	h->last_hash = hash;
	h->published = true;
	h->publishes++;
	/* New entities want their values: the state goes out again. */
	cap_state_dirty(h->c);
out:
	ha_set_free(&gone);
	ha_set_free(&now);
	cJSON_Delete(media);
}

static void ha_check_now(void *data)
{
	struct ha *h = data;

	h->check_timer = 0;
	ha_check(h, false);
}

static void ha_birth_now(void *data)
{
	struct ha *h = data;

	h->birth_timer = 0;
	ha_check(h, true);
}

static void ha_settled(void *data)
{
	struct ha *h = data;

	h->settle_timer = 0;
	ha_check(h, true);
}

/* ---- the capability ---- */

/* What is offered may have changed: compare soon. */
static void ha_refresh(struct ha *h)
{
	if (!h->check_timer)
		loop_timer_rearm(h->c->loop, &h->check_timer, HA_CHECK_MS,
				 ha_check_now, h);
}

static cJSON *ha_state_json(void *data)
{
	struct ha *h = data;
	cJSON *o = cJSON_CreateObject();

	/* Every change of the state passes here: compare soon. */
	ha_refresh(h);
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "discovery",
				h->per_entity ? "per_entity" : "device");
	cJSON_AddStringToObject(o, "topic", h->device_topic);
	cJSON_AddNumberToObject(o, "entities", (double)h->last.n);
	cJSON_AddNumberToObject(o, "publishes", (double)h->publishes);
	if (h->error[0])
		cJSON_AddStringToObject(o, "error", h->error);
	return o;
}

static void ha_on_online(void *self)
{
	struct ha *h = self;

	loop_timer_rearm(h->c->loop, &h->settle_timer, HA_SETTLE_MS, ha_settled,
			 h);
}

/* Soon, not now: a burst of refresh commands publishes discovery once. */
void ha_republish(struct ha *h)
{
	if (h && !h->settle_timer)
		loop_timer_rearm(h->c->loop, &h->settle_timer, HA_REPUBLISH_MS,
				 ha_settled, h);
}

/*
 * A payload on one of our discovery topics: retained ones of an earlier
 * run, or our own coming back (the session asks for the retain flag as
 * published). Either way it is what Home Assistant will find there.
 */
static void ha_on_discovery(struct ha *h, const char *topic,
			    const void *payload, size_t len)
{
	struct ha_input in = {
		.id = h->c->cfg->agent.id,
		.base = h->c->topics->base,
		.prefix = h->c->cfg->homeassistant.prefix,
	};
	char key[HA_KEY_MAX];
	enum ha_platform p;

	if (!strcmp(topic, h->device_topic)) {
		if (!len)
			return;
		if (h->per_entity)
			h->stale_device = true;
		else
			ha_device_config_parse(payload, len, &h->last);
	} else if (!ha_entity_topic_parse(&in, topic, key, &p)) {
		if (!len)
			ha_set_del(&h->stale_entities, key);
		else if (h->per_entity)
			ha_set_add(&h->last, key, p);
		else
			ha_set_add(&h->stale_entities, key, p);
	} else {
		return;
	}
	ha_refresh(h);
}

static bool ha_on_message(void *self, const char *topic, const void *payload,
			  size_t len, bool retained)
{
	struct ha *h = self;
	unsigned int delay;

	if (strcmp(topic, h->status_topic)) {
		if (!retained)
			return false;
		ha_on_discovery(h, topic, payload, len);
		return true;
	}
	/* A retained birth is an old one: the publish at connect covers
	 * it. */
	if (retained || len != 6 || memcmp(payload, "online", 6))
		return true;
	delay = HA_BIRTH_MIN_MS + (unsigned int)random() % HA_BIRTH_SPREAD_MS;
	loop_timer_rearm(h->c->loop, &h->birth_timer, delay, ha_birth_now, h);
	return true;
}

static void ha_detach(void *self);

static int ha_attach(const struct cap *cap, void **self, char *msg, size_t len)
{
	const struct config *c = cap->cfg;
	struct ha_input in = {
		.id = c->agent.id,
		.base = cap->topics->base,
		.prefix = c->homeassistant.prefix,
	};
	struct ha *h;
	int r;

	if (!c->homeassistant.discovery)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->c = cap;
	h->per_entity = c->homeassistant.per_entity;
	h->macro_files = calloc(MACRO_LIST_MAX, sizeof(*h->macro_files));
	if (!h->macro_files) {
		r = -ENOMEM;
		goto fail;
	}
	r = ha_device_topic(&in, h->device_topic, sizeof(h->device_topic));
	if (!r &&
	    snprintf(h->status_topic, sizeof(h->status_topic), "%s/status",
		     in.prefix) >= (int)sizeof(h->status_topic))
		r = -ENAMETOOLONG;
	if (!r && snprintf(h->entity_filter, sizeof(h->entity_filter),
			   "%s/+/zerobmc_%s/+/config", in.prefix,
			   in.id) >= (int)sizeof(h->entity_filter))
		r = -ENAMETOOLONG;
	if (!r)
		r = cap_subscribe(cap, h->status_topic);
	if (!r)
		r = cap_subscribe(cap, h->device_topic);
	if (!r)
		r = cap_subscribe(cap, h->entity_filter);
	if (!r)
		r = state_provider_add(cap->state, "homeassistant",
				       ha_state_json, h);
	if (r)
		goto fail;
	*self = h;
	return 0;
fail:
	snprintf(msg, len, "%s", strerror(-r));
	ha_detach(h);
	return r;
}

static void ha_detach(void *self)
{
	struct ha *h = self;

	if (!h)
		return;
	if (h->birth_timer)
		loop_timer_cancel(h->c->loop, h->birth_timer);
	if (h->check_timer)
		loop_timer_cancel(h->c->loop, h->check_timer);
	if (h->settle_timer)
		loop_timer_cancel(h->c->loop, h->settle_timer);
	ha_set_free(&h->last);
	ha_set_free(&h->stale_entities);
	free(h->macro_files);
	free(h);
}

const struct cap_def ha_cap = {
	.name = "homeassistant",
	.attach = ha_attach,
	.detach = ha_detach,
	.online = ha_on_online,
	.message = ha_on_message,
	.handle_offset = offsetof(struct cap_handles, ha),
};
