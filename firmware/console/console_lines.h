/*
 * The serial console's byte stream cut into lines: CR, LF and CRLF end a
 * line, a line longer than CONSOLE_LINE_MAX bytes is split, and every
 * line handed out is valid UTF-8 (each ill-formed piece replaced by
 * U+FFFD). A partial line stays here until more bytes, or an idle flush,
 * complete it.
 */
#ifndef ZB_CONSOLE_LINES_H
#define ZB_CONSOLE_LINES_H

#include <stdbool.h>
#include <stddef.h>

#define CONSOLE_LINE_MAX 4096
/* A repaired line: each raw byte becomes at most three (U+FFFD). */
#define CONSOLE_LINE_OUT_MAX (CONSOLE_LINE_MAX * 3)

/* line is valid UTF-8 of len bytes, not NUL-terminated, no line ending. */
typedef void (*console_line_cb)(void *data, const char *line, size_t len);

struct console_lines {
	char buf[CONSOLE_LINE_MAX];
	size_t len;
	bool after_cr; /* a CR ended the last line: an LF next is its pair */
	console_line_cb cb;
	void *data;
	char out[CONSOLE_LINE_OUT_MAX];
};

void console_lines_init(struct console_lines *s, console_line_cb cb,
			void *data);
/* Cut data into lines; each complete one goes to the callback. */
void console_lines_feed(struct console_lines *s, const char *data, size_t len);
/* Hand out the partial line now (the console went idle). */
void console_lines_flush(struct console_lines *s);
/* Bytes of a partial line waiting. */
size_t console_lines_pending(const struct console_lines *s);
/* Forget the partial line and the CR state (the device was reopened). */
void console_lines_reset(struct console_lines *s);

/*
 * Copy src to dst (room for 3 * len bytes) replacing each maximal
 * ill-formed subsequence by U+FFFD, as Unicode recommends. Returns the
 * length written.
 */
size_t console_utf8_repair(const char *src, size_t len, char *dst);
/*
 * The length (0 to 3) of an incomplete but so far well-formed sequence
 * at the end of s: bytes worth holding back until the rest arrives.
 */
size_t console_utf8_tail(const char *s, size_t len);

#endif
