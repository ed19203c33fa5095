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

#include "firmware/agent/cap.h"
#include "ha-integration/discovery.h"

struct ha;

/*
 * The capability row (agent/cap.h), last in the table: it looks at every
 * other capability to know which entities to announce. Built from
 * [homeassistant] (nothing when discovery is off); subscribes to
 * <prefix>/status and its own discovery topics, and registers the
 * "homeassistant" state section, whose rebuild (every state change) is
 * also when the entity set is compared.
 */
extern const struct cap_def ha_cap;

/* Publish discovery again, changed or not (cmd/refresh). */
void ha_republish(struct ha *h);

#endif
