#include "firmware/console/console_lines.h"

#include <errno.h>
#include <string.h>

#include "topics/utf8.h"

static const char utf8_replacement[3] = {'\xef', '\xbf', '\xbd'};

/*
 * The length of the maximal subpart at s (a well-formed start cut
 * short): it takes one replacement character, at least one byte.
 */
static size_t console_utf8_subpart(const char *s, size_t len)
{
	uint32_t cp;

	for (size_t k = len < 3 ? len : 3; k > 1; k--)
		if (utf8_decode(s, k, &cp) == -EAGAIN)
			return k;
	return 1;
}

size_t console_utf8_repair(const char *src, size_t len, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;
	uint32_t cp;

	while (i < len) {
		size_t run = i;
		int n;

		/* ASCII is the common case: copy it in runs. */
		while (run < len && s[run] < 0x80)
			run++;
		memcpy(dst + o, src + i, run - i);
		o += run - i;
		i = run;
		if (i == len)
			break;
		n = utf8_decode(src + i, len - i, &cp);
		if (n > 0) {
			memcpy(dst + o, src + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
		} else {
			/* The lead and the good bytes after it are one
			 * maximal subpart: one replacement for all. */
			memcpy(dst + o, utf8_replacement, 3);
			o += 3;
			i += console_utf8_subpart(src + i, len - i);
		}
	}
	return o;
}

size_t console_utf8_tail(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;

	for (size_t k = 1; k <= 3 && k <= len; k++) {
		if ((s[len - k] & 0xc0) == 0x80)
			continue;
		return utf8_decode(str + len - k, k, &cp) == -EAGAIN ? k : 0;
	}
	return 0;
}

void console_lines_init(struct console_lines *s, console_line_cb cb, void *data)
{
	s->len = 0;
	s->after_cr = false;
	s->cb = cb;
	s->data = data;
}

void console_lines_reset(struct console_lines *s)
{
	s->len = 0;
	s->after_cr = false;
}

size_t console_lines_pending(const struct console_lines *s)
{
	return s->len;
}

static void console_lines_emit(struct console_lines *s, size_t n)
{
	size_t out = console_utf8_repair(s->buf, n, s->out);

	s->cb(s->data, s->out, out);
}

/* The buffer is full without a line end: cut it, but not inside a
 * character whose last bytes are still to come. */
static void console_lines_split(struct console_lines *s)
{
	size_t tail = console_utf8_tail(s->buf, s->len);

	console_lines_emit(s, s->len - tail);
	memmove(s->buf, s->buf + s->len - tail, tail);
	s->len = tail;
}

void console_lines_feed(struct console_lines *s, const char *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t room, stop, j;

		if (s->after_cr) {
			s->after_cr = false;
			if (data[i] == '\n') {
				i++;
				continue;
			}
		}
		if (data[i] == '\r' || data[i] == '\n') {
			s->after_cr = data[i] == '\r';
			i++;
			console_lines_emit(s, s->len);
			s->len = 0;
			continue;
		}
		/* Split only when a byte that does not end the line must go
		 * in: a full line whose end comes in the next read is one. */
		if (s->len == CONSOLE_LINE_MAX)
			console_lines_split(s);
		room = CONSOLE_LINE_MAX - s->len;
		stop = len - i < room ? len : i + room;
		j = i;
		while (j < stop && data[j] != '\r' && data[j] != '\n')
			j++;
		memcpy(s->buf + s->len, data + i, j - i);
		s->len += j - i;
		i = j;
	}
}

void console_lines_flush(struct console_lines *s)
{
	if (!s->len)
		return;
	console_lines_emit(s, s->len);
	s->len = 0;
}
