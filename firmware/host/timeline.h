/*
 * One timeline of what the gadget sees of the server: USB state changes,
 * keyboard LEDs, reads of the virtual media (inotify IN_ACCESS on the
 * LUN's backing file), the first console line after silence, commands
 * and the agent itself. Published on <base>/<id>/event (rate-limited),
 * kept in a history of the last TIMELINE_HISTORY events, and folded into
 * state.phase by the rules of phase.c.
 */
#ifndef ZB_TIMELINE_H
#define ZB_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "firmware/agent/cap.h"
#include "firmware/host/phase.h"

#define TIMELINE_HISTORY 200

struct timeline;

/* The capability row (agent/cap.h): after host, keyboard, media, console. */
extern const struct cap_def timeline_cap;

void timeline_command(struct timeline *t, const char *cmd, const char *status);

enum phase timeline_phase(const struct timeline *t);
/* Media reads since start (IN_ACCESS events), for WAIT_MEDIA_READ. */
uint64_t timeline_media_reads(const struct timeline *t);
/* The last n events, oldest first (a new array). */
cJSON *timeline_history(const struct timeline *t, int n);

/* Called when the phase changes or media is read (macros wait on it). */
typedef void (*timeline_listener_fn)(void *data);
int timeline_listen(struct timeline *t, timeline_listener_fn fn, void *data);

#endif
