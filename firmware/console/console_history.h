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
/*
 * The bytes of line text one reply carries at most: a history of 100,000
 * long lines would otherwise make a result of megabytes.
 */
#define CONSOLE_HISTORY_REPLY_MAX (256u * 1024u)

/*
 * The last n lines (all if fewer), oldest first, as many of the newest
 * as fit in CONSOLE_HISTORY_REPLY_MAX bytes; *omitted counts the older
 * ones asked for that did not fit. NULL if out of memory.
 */
cJSON *console_history_json(const struct console_history *h, size_t n,
			    size_t *omitted);

#endif
