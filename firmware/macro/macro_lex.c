/* Lexing a macro script: lines, BOM, CRLF, words and durations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firmware/macro/macro_parse_priv.h"
#include "topics/payload.h"

/* A piece of the script for a message: cut, control bytes as '?'. */
const char *macro_lex_shown(const char *s, size_t len, char buf[48])
{
	size_t i, n = len > 40 ? 40 : len;

	for (i = 0; i < n; i++)
		buf[i] =
			(unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

bool macro_lex_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next blank-separated word of s[*i..len), or length 0 at the end. */
size_t macro_lex_word(const char *s, size_t len, size_t *i, size_t *start)
{
	while (*i < len && macro_lex_blank(s[*i]))
		(*i)++;
	*start = *i;
	while (*i < len && !macro_lex_blank(s[*i]))
		(*i)++;
	return *i - *start;
}

size_t macro_lex_trim_end(const char *s, size_t len)
{
	while (len && macro_lex_blank(s[len - 1]))
		len--;
	return len;
}

int macro_duration(const char *s, size_t len, uint32_t max_ms, uint32_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {
		{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
	};
	uint64_t v = 0;
	size_t i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > (uint64_t)UINT32_MAX * 1000)
			return -ERANGE;
		i++;
	}
	if (i == 0)
		return -EINVAL;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strlen(units[u].unit) != len - i ||
		    strncasecmp(s + i, units[u].unit, len - i))
			continue;
		v *= units[u].mul;
		if (v > max_ms)
			return -ERANGE;
		*ms = (uint32_t)v;
		return 0;
	}
	return -EINVAL;
}

/* A duration argument with a message naming what it is for. */
int macro_lex_duration(struct macro_parser *p, const char *s, size_t len,
		       uint32_t max_ms, const char *what, uint32_t *ms)
{
	char b[48];
	int r = macro_duration(s, len, max_ms, ms);

	if (r == -ERANGE)
		return macro_parse_error(p, -EINVAL,
					 "%s \"%s\" is longer than %u ms", what,
					 macro_lex_shown(s, len, b), max_ms);
	if (r)
		return macro_parse_error(
			p, -EINVAL,
			"%s \"%s\" is not a duration (e.g. 500, 500ms, "
			"30s, 2m)",
			what, macro_lex_shown(s, len, b));
	return 0;
}

/* An optional timeout as the last argument. */
int macro_lex_timeout(struct macro_parser *p, const char *s, size_t len,
		      const char *cmd, uint32_t *ms)
{
	*ms = MACRO_WAIT_DEFAULT_MS;
	if (!len)
		return 0;
	return macro_lex_duration(p, s, len, MACRO_DELAY_MAX_MS, cmd, ms);
}

/*
 * Cut len bytes of script into lines (an optional BOM skipped, LF or
 * CRLF endings) in the script's own copy, check each line and parse it.
 */
int macro_lex_script(struct macro_parser *p, const char *script, size_t len)
{
	struct macro_script *out = p->s;
	size_t off = 0;
	int r = 0;

	if (len >= 3 && !memcmp(script, "\xef\xbb\xbf", 3)) {
		script += 3;
		len -= 3;
	}
	out->text = malloc(len + 1);
	if (!out->text) {
		snprintf(p->err->msg, sizeof(p->err->msg), "out of memory");
		return -ENOMEM;
	}
	memcpy(out->text, script, len);
	out->text[len] = '\0';
	while (off < len && !r) {
		char *line = out->text + off;
		char *nl = memchr(line, '\n', len - off);
		size_t n = nl ? (size_t)(nl - line) : len - off;

		off += n + (nl != NULL);
		p->line++;
		if (p->line > MACRO_LINES_MAX) {
			r = macro_parse_error(p, -E2BIG, "more than %d lines",
					      MACRO_LINES_MAX);
			break;
		}
		if (n && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		if (n > MACRO_LINE_MAX)
			r = macro_parse_error(
				p, -E2BIG, "the line is longer than %d bytes",
				MACRO_LINE_MAX);
		else if (strlen(line) != n)
			r = macro_parse_error(p, -EINVAL,
					      "the line holds a NUL byte");
		else if (!payload_utf8_valid(line, n))
			r = macro_parse_error(p, -EINVAL,
					      "the line is not valid UTF-8");
		else
			r = macro_parse_line(p, line, n);
	}
	return r;
}
