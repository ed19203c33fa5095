/*
 * The serial console capability: the [console] device (the gadget's
 * ttyGS0, or a pseudo-terminal standing in) kept open in raw mode, its
 * output published one line per message on <base>/<id>/console in
 * order, through a bounded ring while the broker is away or pushes
 * back; input from `cmd/console` written without ever blocking the loop.
 */
#ifndef ZB_CONSOLE_H
#define ZB_CONSOLE_H

#include "firmware/agent/agent.h"

/*
 * Build the console from a->cfg, open the device (a missing device is
 * retried, not an error), and register the state provider and the
 * hostwatch listener. Returns 0 or a negative errno (out of memory).
 */
int console_attach(struct agent *a);
void console_free(struct console *c);

/* The broker session is up: publish what waits, in order. */
void console_on_online(struct console *c);

/*
 * Other modules (macros waiting for a line) see every line as it is
 * read: valid UTF-8, len bytes, not NUL-terminated, no line ending. At
 * most CONSOLE_LISTENERS; -ENOSPC beyond.
 */
#define CONSOLE_LISTENERS 4
typedef void (*console_listener_fn)(void *data, const char *line, size_t len);
int console_listen(struct console *c, console_listener_fn fn, void *data);

/* `cmd/console`: write text (plain, or JSON "data"/"enter") or return
 * the last lines (JSON "history"). */
void cmd_console(struct agent *a, struct cmd_req *req);

#endif
