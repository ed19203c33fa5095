/*
 * The macro parser's inside, shared by macro_parse.c (the driver and the
 * plain commands), macro_lex.c (lines, words, durations),
 * macro_parse_keys.c (key lines, HOLD, RELEASE, SPAM) and
 * macro_parse_wait.c (the WAIT_* lines).
 */
#ifndef ZB_MACRO_PARSE_PRIV_H
#define ZB_MACRO_PARSE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/macro/macro_parse.h"

struct macro_parser {
	struct macro_script *s;
	struct macro_error *err;
	size_t cap;
	uint32_t line;
	uint32_t default_delay;
	int profile;
	const struct layout *layout; /* from LAYOUT, NULL before */
	const struct layout *deflt;
	int nregex;
	uint64_t regex_weight; /* see regex_cost() */
	/* The line before (REM and blank lines aside) made the last op. */
	bool repeatable;
};

/* macro_parse.c */
int macro_parse_error(struct macro_parser *p, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct macro_op *macro_parse_op_new(struct macro_parser *p,
				    enum macro_op_kind kind);
int macro_parse_line(struct macro_parser *p, char *line, size_t len);

/* macro_lex.c */
const char *macro_lex_shown(const char *s, size_t len, char buf[48]);
bool macro_lex_blank(char c);
size_t macro_lex_word(const char *s, size_t len, size_t *i, size_t *start);
size_t macro_lex_trim_end(const char *s, size_t len);
int macro_lex_duration(struct macro_parser *p, const char *s, size_t len,
		       uint32_t max_ms, const char *what, uint32_t *ms);
int macro_lex_timeout(struct macro_parser *p, const char *s, size_t len,
		      const char *cmd, uint32_t *ms);
int macro_lex_script(struct macro_parser *p, const char *script, size_t len);

/* macro_parse_keys.c */
int macro_parse_hold(struct macro_parser *p, char *args, size_t len);
int macro_parse_release(struct macro_parser *p, char *args, size_t len);
int macro_parse_spam(struct macro_parser *p, char *args, size_t len);
int macro_parse_key_line(struct macro_parser *p, const char *s, size_t n,
			 size_t len);

/* macro_parse_wait.c */
int macro_parse_wait_usb(struct macro_parser *p, char *args, size_t len);
int macro_parse_wait_led(struct macro_parser *p, char *args, size_t len);
int macro_parse_wait_phase(struct macro_parser *p, char *args, size_t len);
int macro_parse_wait_media_read(struct macro_parser *p, char *args, size_t len);
int macro_parse_wait_console(struct macro_parser *p, char *args, size_t len);

#endif
