/* Inside Home Assistant discovery: the entity table and its types. */
#ifndef ZB_DISCOVERY_PRIV_H
#define ZB_DISCOVERY_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "ha-integration/discovery.h"

enum ha_source {
	HA_SRC_NONE,
	HA_SRC_STATE,  /* <base>/state, the retained JSON document */
	HA_SRC_RESULT, /* <base>/result, one JSON object per command */
	HA_SRC_EVENT,  /* <base>/event, the timeline */
};

/* Options of a select or an enum sensor, or event types. */
enum ha_options {
	HA_OPT_NONE,
	HA_OPT_IMAGES, /* "none" and the image names */
	HA_OPT_UDC,    /* the UDC state names */
	HA_OPT_RESULT, /* the result statuses */
	HA_OPT_PHASE,  /* the server phases */
	HA_OPT_EVENT,  /* the timeline's event sources */
};

/* Kept in step with firmware/host/phase.c and topics/README.md (Timeline). */

struct ha_def {
	const char *key;
	enum ha_platform platform;
	unsigned int needs; /* enum ha_feature bits, all required */
	bool per_macro;	    /* one entity per macro */
	const char *name;
	const char *cmd; /* command_topic <base>/cmd/<cmd> */
	const char *press;
	enum ha_source source;
	const char *val_tpl;
	const char *cmd_tpl;
	const char *dev_cla;
	const char *ent_cat;
	const char *icon;
	const char *unit;
	enum ha_options options;
	int max; /* text length */
};

#define HA_NONE_OPTION "none"

/*
 * Text entities take their state from the result topic and show it
 * empty: what was typed (a passphrase, say) must not stay in Home
 * Assistant's state and history.
 */
#define HA_TPL_CLEAR "{{ '' }}"

/* discovery_table.c */
extern const struct ha_def ha_defs[];
extern const int ha_ndefs;
extern const char *const ha_phase_names[];
extern const size_t ha_n_phase_names;
extern const char *const ha_event_sources[];
extern const size_t ha_n_event_sources;

#endif
