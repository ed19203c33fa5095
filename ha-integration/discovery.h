/*
 * Home Assistant MQTT discovery payloads for one zerobmc agent, as data:
 * the entities are rows of a table in discovery.c, and these functions
 * turn a description of the agent (struct ha_input) into topics and JSON.
 * No I/O and no logging: the agent's glue (ha-integration/ha.c) publishes.
 *
 * Two forms:
 * - device-based (Home Assistant 2024.11 and later): one retained payload
 *   at <prefix>/device/zerobmc_<id>/config with "dev", "o" and every
 *   entity under "cmps";
 * - per entity (older Home Assistant, openHAB): one payload per entity at
 *   <prefix>/<platform>/zerobmc_<id>/<entity>/config.
 *
 * Every entity has the unique id zerobmc_<id>_<entity> and the default
 * entity id <platform>.zerobmc_<id>_<entity> (lower case); its
 * availability is <base>/status. Keys use Home Assistant's documented
 * abbreviations.
 */
#ifndef ZB_HA_DISCOVERY_H
#define ZB_HA_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An entity key (the component id in "cmps", the last part of its unique
 * id and topic) fits here with its NUL. The bound keeps the default
 * entity id under Home Assistant's 255 characters with a 64-character id
 * and the longest platform name.
 */
#define HA_KEY_MAX 160
/* A macro name carried by its button (the payload it sends). */
#define HA_ARG_MAX 256
/* Home Assistant refuses states longer than this many characters. */
#define HA_STATE_MAX 255

enum ha_platform {
	HA_BUTTON,
	HA_SELECT,
	HA_TEXT,
	HA_SENSOR,
	HA_BINARY_SENSOR,
	HA_EVENT,
	HA_PLATFORM_COUNT
};

/* What the agent has: an entity is offered only when its features are. */
enum ha_feature {
	HA_F_CONSOLE = 1u << 0,	    /* the serial console capability */
	HA_F_MEDIA = 1u << 1,	    /* virtual media */
	HA_F_MACROS = 1u << 2,	    /* cmd/macro */
	HA_F_USB = 1u << 3,	    /* the UDC state is watched */
	HA_F_POWER_ON = 1u << 4,    /* power on/off: the power pin is wired */
	HA_F_POWER_OFF = 1u << 5,   /* (on and off are separate on purpose) */
	HA_F_POWER_RESET = 1u << 6, /* the reset pin is wired */
	HA_F_POWER_WAKE = 1u << 7,  /* USB remote wakeup or Wake-on-LAN */
	HA_F_BOOT = 1u << 8,	    /* cmd/boot and cmd/reinstall */
	HA_F_REINSTALL = 1u << 9,   /* [reinstall] gives both signals */
};

struct config;
/*
 * The features of an agent that runs the capabilities in caps (HA_F_CONSOLE,
 * HA_F_MEDIA, HA_F_USB, HA_F_MACROS, HA_F_BOOT) and, when power is true,
 * the power capability: caps plus what its configuration wires (the power
 * and reset pins, Wake-on-LAN or USB wakeup, both reinstall signals). The
 * agent (ha.c) and `zerobmc discovery` share it.
 */
unsigned int ha_features_of(const struct config *c, unsigned int caps,
			    bool power);

/* The i-th name of a list, or NULL past its end. */
typedef const char *(*ha_list_fn)(void *data, size_t i);

struct ha_input {
	const char *id;		/* [agent] id */
	const char *base;	/* "<base_topic>/<id>", the agent's topics */
	const char *prefix;	/* discovery prefix, "homeassistant" */
	const char *name;	/* device name; NULL: the id */
	const char *sw_version; /* agent version */
	const char *origin_url; /* support URL of the origin; NULL: none */
	const char *via_device; /* identifier of a parent device; NULL */
	unsigned int features;	/* enum ha_feature bits */
	/* Image names for the "Virtual media" select. */
	ha_list_fn images;
	void *images_data;
	/* Macro names (built-in and user), one button each. */
	ha_list_fn macros;
	void *macros_data;
};

/*
 * One entity as offered: a table row, its key, and its argument. An
 * entity known only from a retained payload on the broker has def -1:
 * enough to remove it, not to describe it.
 */
struct ha_entity {
	int def;
	enum ha_platform platform;
	char key[HA_KEY_MAX];
	char arg[HA_ARG_MAX];
};

struct ha_set {
	struct ha_entity *v;
	size_t n, cap;
};

/*
 * What a retained discovery payload can make us keep: a set holds at
 * most HA_SET_MAX entities, and a device payload over
 * HA_DEVICE_CONFIG_MAX bytes is not parsed. Our own payloads stay far
 * below both; anything larger was put there by someone else.
 */
#define HA_SET_MAX 4096
#define HA_DEVICE_CONFIG_MAX (1u << 20)

const char *ha_platform_name(enum ha_platform p);
/* 0, or -EINVAL for a platform this table does not use. */
int ha_platform_parse(const char *name, enum ha_platform *p);
enum ha_platform ha_entity_platform(const struct ha_entity *e);

/*
 * The entities in, in table order (each macro's button where the macro
 * row is). Macros whose key would not fit, duplicates and images named
 * like the "none" option are left out. Returns 0, -EINVAL (a bad id or
 * prefix) or -ENOMEM.
 */
int ha_set_build(const struct ha_input *in, struct ha_set *out);
void ha_set_free(struct ha_set *s);
/* The entities of old whose key is not in now. 0 or -ENOMEM. */
int ha_set_removed(const struct ha_set *old, const struct ha_set *now,
		   struct ha_set *out);
/* Add an entity known by key and platform, unless s has the key. */
int ha_set_add(struct ha_set *s, const char *key, enum ha_platform p);
/* Drop the entity with this key, if s has it. */
void ha_set_del(struct ha_set *s, const char *key);

/*
 * Read a device-based payload (a retained one found on the broker) and
 * add its components to into; removal markers (a platform alone) are
 * not entities and are skipped. Linear in the payload. 0, -EINVAL (not
 * such a payload), -E2BIG (over HA_DEVICE_CONFIG_MAX bytes, not parsed;
 * or more than HA_SET_MAX entities, the first ones kept) or -ENOMEM.
 */
int ha_device_config_parse(const char *payload, size_t len,
			   struct ha_set *into);
/*
 * If topic is "<prefix>/<platform>/zerobmc_<id>/<key>/config" of in,
 * fill key[HA_KEY_MAX] and *p and return 0; otherwise -ENOENT.
 */
int ha_entity_topic_parse(const struct ha_input *in, const char *topic,
			  char *key, enum ha_platform *p);

/* "<prefix>/device/zerobmc_<id>/config". 0 or -ENAMETOOLONG. */
int ha_device_topic(const struct ha_input *in, char *buf, size_t len);
/* "<prefix>/<platform>/zerobmc_<id>/<key>/config". */
int ha_entity_topic(const struct ha_input *in, const struct ha_entity *e,
		    char *buf, size_t len);

/*
 * The device-based payload with every entity of now under "cmps"; each
 * entity of removed (may be NULL) is a removal marker {"p": platform},
 * which tells Home Assistant to drop it. malloc'd, or NULL.
 */
char *ha_device_config(const struct ha_input *in, const struct ha_set *now,
		       const struct ha_set *removed);
/* The per-entity payload of e (no "p": the topic names the platform). */
char *ha_entity_config(const struct ha_input *in, const struct ha_entity *e);

/* FNV-1a over s, continuing from h (start with HA_HASH_INIT). */
#define HA_HASH_INIT 0xcbf29ce484222325ull
uint64_t ha_hash(uint64_t h, const char *s);

#endif
