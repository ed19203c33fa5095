/*
 * The macro capability: cmd/macro, state.macro, the macros folder
 * (watched with inotify for the list in the state) and the runner wired
 * to the real keyboard, UDC state, LEDs, console and media. One macro
 * runs at a time and it owns the keyboard while it runs: key, type and
 * reboot commands get busy. A second macro gets busy too, unless it asks
 * to be queued ({"queue":true}, at most MACRO_QUEUE_MAX wait).
 */
#ifndef ZB_MACRO_H
#define ZB_MACRO_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/agent/agent.h"

#define MACRO_QUEUE_MAX 8
/* While the folder is missing, look for it this often. */
#define MACRO_DIR_RETRY_MS 2000

/*
 * Build a->macros: state provider, hostwatch and console listeners, the
 * folder watch (a missing folder is looked for again, not an error).
 * Returns 0 or -ENOMEM.
 */
int macros_attach(struct agent *a);
/* Cancels the running macro and the queue (their results go out). */
void macros_free(struct macros *m);

/* The host's keyboard LEDs changed (from the keyboard callback). */
void macros_on_leds(struct macros *m, uint8_t leds);
/* A macro runs (it owns the keyboard). m may be NULL. */
bool macros_busy(const struct macros *m);

void cmd_macro(struct agent *a, struct cmd_req *req);

#endif
