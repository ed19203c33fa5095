/*
 * Home Assistant in the agent: publishes the discovery payloads built by
 * ha-integration/discovery.c (retained) when the session comes up, a
 * short random while after Home Assistant announces itself on
 * <prefix>/status, on cmd/refresh, and whenever the entity set changed
 * (a macro or an image came or went). Entities that went away are
 * removed in Home Assistant too.
 *
 * Only the loop's thread calls these. Every function accepts a NULL
 * struct ha (discovery turned off).
 */
#ifndef ZB_HA_H
#define ZB_HA_H

#include <stdbool.h>

#include "firmware/agent/agent.h"
#include "firmware/net/mqtt.h"
#include "ha-integration/discovery.h"

/*
 * Build a->ha from [homeassistant] (nothing when discovery is off):
 * subscribes to <prefix>/status, so call it after mqtt_new() and before
 * mqtt_start(). Registers the "homeassistant" state section, whose
 * rebuild (every state change) is also when the entity set is compared.
 * Returns 0 or a negative errno.
 */
int ha_attach(struct agent *a);
void ha_free(struct ha *h);

/* The session is up: publish discovery now. */
void ha_on_online(struct ha *h);
/* A message that is not a command: true if it was Home Assistant's. */
bool ha_on_message(struct ha *h, const struct mqtt_msg *m);
/* Publish discovery again, changed or not (cmd/refresh). */
void ha_republish(struct ha *h);
/* Capabilities call this when what they offer changed; checked soon. */
void ha_refresh(struct agent *a);
/*
 * Where the macro buttons take their names from. Without this, the
 * [macros] folder's files and the built-ins are listed as cmd/macro
 * finds them.
 */
void ha_set_macros(struct ha *h, ha_list_fn fn, void *data);

#endif
