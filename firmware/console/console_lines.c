#include "firmware/console/console_lines.h"

#include <string.h>

/*
 * Lead bytes of well-formed UTF-8 (Unicode table 3-7): how many
 * continuation bytes follow and the range of the first one, which is
 * narrower after E0, ED, F0 and F4 (no overlongs, surrogates or code
 * points past U+10FFFF).
 */
static const struct {
	unsigned char first, last;
	unsigned char n;
	unsigned char lo, hi;
} utf8_leads[] = {
	{0xc2, 0xdf, 1, 0x80, 0xbf}, {0xe0, 0xe0, 2, 0xa0, 0xbf},
	{0xe1, 0xec, 2, 0x80, 0xbf}, {0xed, 0xed, 2, 0x80, 0x9f},
	{0xee, 0xef, 2, 0x80, 0xbf}, {0xf0, 0xf0, 3, 0x90, 0xbf},
	{0xf1, 0xf3, 3, 0x80, 0xbf}, {0xf4, 0xf4, 3, 0x80, 0x8f},
};

static const char utf8_replacement[3] = {'\xef', '\xbf', '\xbd'};

/* The table row of lead byte b, or -1 if b cannot start a sequence. */
static int utf8_lead(unsigned char b)
{
	for (size_t i = 0; i < sizeof(utf8_leads) / sizeof(utf8_leads[0]); i++)
		if (b >= utf8_leads[i].first && b <= utf8_leads[i].last)
			return (int)i;
	return -1;
}

/*
 * How many bytes of s[0..len) after the lead (row) are acceptable
 * continuation bytes, up to the number the lead asks for.
 */
static size_t utf8_conts(int row, const unsigned char *s, size_t len)
{
	size_t k = 0;

	while (k < utf8_leads[row].n && 1 + k < len) {
		unsigned char c = s[1 + k];
		unsigned char lo = k ? 0x80 : utf8_leads[row].lo;
		unsigned char hi = k ? 0xbf : utf8_leads[row].hi;

		if (c < lo || c > hi)
			break;
		k++;
	}
	return k;
}

size_t console_utf8_repair(const char *src, size_t len, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t run = i;
		int row;
		size_t k;

		/* ASCII is the common case: copy it in runs. */
		while (run < len && s[run] < 0x80)
			run++;
		memcpy(dst + o, src + i, run - i);
		o += run - i;
		i = run;
		if (i == len)
			break;
		row = utf8_lead(s[i]);
		if (row < 0) {
			memcpy(dst + o, utf8_replacement, 3);
			o += 3;
			i++;
			continue;
		}
		k = utf8_conts(row, s + i, len - i);
		if (k == utf8_leads[row].n) {
			memcpy(dst + o, src + i, k + 1);
			o += k + 1;
		} else {
			/* The lead and the good bytes after it are one
			 * maximal subpart: one replacement for all. */
			memcpy(dst + o, utf8_replacement, 3);
			o += 3;
		}
		i += k + 1;
	}
	return o;
}

size_t console_utf8_tail(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t k = 1; k <= 3 && k <= len; k++) {
		unsigned char b = s[len - k];
		int row;

		if ((b & 0xc0) == 0x80)
			continue;
		row = utf8_lead(b);
		if (row < 0 || k > utf8_leads[row].n)
			return 0;
		return utf8_conts(row, s + len - k, k) == k - 1 ? k : 0;
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
