/*
 * The last lines of the console, kept in memory for `cmd/console`
 * {"history": N}: a fixed number of slots, the oldest overwritten.
 */
#ifndef ZB_CONSOLE_HISTORY_H
#define ZB_CONSOLE_HISTORY_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct console_history {
	char **line; /* NUL-terminated copies, NULL while unused */
	size_t cap;  /* slots; 0 keeps nothing */
	size_t n;    /* slots in use */
	size_t next; /* the slot the next line goes to */
};

int console_history_init(struct console_history *h, size_t cap);
void console_history_free(struct console_history *h);
/* Remember a line; on lack of memory the slot is left empty. */
void console_history_add(struct console_history *h, const char *line,
			 size_t len);
/* The last n lines (all if fewer), oldest first; NULL if out of memory. */
cJSON *console_history_json(const struct console_history *h, size_t n);

#endif
