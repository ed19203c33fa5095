/*
 * The console's last line as the Home Assistant sensor shows it: ANSI
 * escape sequences and control characters taken out (when asked) and
 * cut to a number of characters (HA keeps at most 255 in a state).
 */
#ifndef ZB_CONSOLE_LAST_H
#define ZB_CONSOLE_LAST_H

#include <stdbool.h>
#include <stddef.h>

#define CONSOLE_LAST_CHARS 255
/* Room for CONSOLE_LAST_CHARS characters of up to 4 bytes, and a NUL. */
#define CONSOLE_LAST_MAX (CONSOLE_LAST_CHARS * 4 + 1)

/*
 * The length of the escape sequence at s[0] == ESC (ECMA-48): CSI
 * (ESC [ parameters, intermediates, final byte), OSC and the other
 * string controls (ended by BEL or ESC \), or ESC with intermediates and
 * a final byte. An unfinished sequence runs to the end of s[0..len).
 * Every place that takes escapes out of console text uses this grammar.
 */
size_t console_ansi_len(const char *s, size_t len);

/*
 * Write the sensor text of line (valid UTF-8, len bytes) to out, which
 * has CONSOLE_LAST_MAX bytes, NUL-terminated. Returns its length.
 */
size_t console_last_text(const char *line, size_t len, bool strip_ansi,
			 char *out);

#endif
