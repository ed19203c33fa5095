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

#include "firmware/agent/cap.h"

#define MACRO_QUEUE_MAX 8
/* While the folder is missing, look for it this often. */
#define MACRO_DIR_RETRY_MS 2000

/*
 * The capability row (agent/cap.h), after keyboard, host, media, power,
 * console and timeline, whose handles it takes: state.macro, the folder
 * watch (a missing folder is looked for again, not an error), listeners
 * on the USB state, LEDs, console and timeline, and cmd/macro. A running
 * macro claims the keyboard. Stopping answers the queue and cancels the
 * running macro.
 */
extern const struct cap_def macros_cap;

#endif
