/*
 * The serial console capability: the [console] device (the gadget's
 * ttyGS0, or a pseudo-terminal standing in) kept open in raw mode, its
 * output published one line per message on <base>/<id>/console in
 * order, through a bounded ring while the broker is away or pushes
 * back; input from `cmd/console` written without ever blocking the loop.
 */
#ifndef ZB_CONSOLE_H
#define ZB_CONSOLE_H

#include <stddef.h>

#include "firmware/agent/cap.h"

struct console;

/*
 * The capability row (agent/cap.h), after host: builds the console from
 * [console] (nothing when device is empty), opens the device (a missing
 * device is retried, not an error), serves cmd/console (write text, or
 * return the last lines) and publishes state.console.
 */
extern const struct cap_def console_cap;

/*
 * Other modules (macros waiting for a line) see every line as it is
 * read: valid UTF-8, len bytes, not NUL-terminated, no line ending. At
 * most CONSOLE_LISTENERS; -ENOSPC beyond.
 */
#define CONSOLE_LISTENERS 4
typedef void (*console_listener_fn)(void *data, const char *line, size_t len);
int console_listen(struct console *c, console_listener_fn fn, void *data);

#endif
