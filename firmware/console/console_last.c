#include "firmware/console/console_last.h"

#include <string.h>

#define ESC 0x1b
#define BEL 0x07

size_t console_ansi_len(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 2;

	if (len < 2)
		return len;
	switch (s[1]) {
	case '[':
		while (i < len && s[i] >= 0x20 && s[i] <= 0x3f)
			i++;
		return i < len ? i + 1 : len;
	case ']':
	case 'P':
	case 'X':
	case '^':
	case '_':
		for (; i < len; i++) {
			if (s[i] == BEL)
				return i + 1;
			if (s[i] == ESC && i + 1 < len && s[i + 1] == '\\')
				return i + 2;
		}
		return len;
	default:
		i = 1;
		while (i < len && s[i] >= 0x20 && s[i] <= 0x2f)
			i++;
		return i < len ? i + 1 : len;
	}
}

size_t console_last_text(const char *line, size_t len, bool strip_ansi,
			 char *out)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0, o = 0, chars = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n = 1;

		/* The text is a C string: a NUL would end it early. */
		if (c == '\0') {
			i++;
			continue;
		}
		if (strip_ansi && c == ESC) {
			i += console_ansi_len(line + i, len - i);
			continue;
		}
		if (strip_ansi && (c < 0x20 || c == 0x7f)) {
			/* A tab still separates words; other controls go. */
			if (c == '\t' && chars < CONSOLE_LAST_CHARS) {
				out[o++] = ' ';
				chars++;
			}
			i++;
			continue;
		}
		while (i + n < len && (s[i + n] & 0xc0) == 0x80)
			n++;
		if (chars == CONSOLE_LAST_CHARS || n > 4)
			break;
		memcpy(out + o, line + i, n);
		o += n;
		chars++;
		i += n;
	}
	out[o] = '\0';
	return o;
}
