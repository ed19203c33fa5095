/*
 * libFuzzer target: console line splitting and UTF-8 repair. The input
 * is fed in pieces whose sizes come from its first byte; every line
 * handed out must already be valid UTF-8 (repairing it changes nothing).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/console/console_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fixed[CONSOLE_LINE_OUT_MAX * 3];

static void on_line(void *unused, const char *line, size_t len)
{
	size_t n;

	if (len > CONSOLE_LINE_OUT_MAX)
		abort();
	n = console_utf8_repair(line, len, fixed);
	if (n != len || memcmp(fixed, line, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct console_lines s;
	size_t step, off = 0;
	char *out;

	if (!size)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	console_lines_init(&s, on_line, NULL);
	for (off = 1; off < size; off += step)
		console_lines_feed(&s, (const char *)data + off,
				   size - off < step ? size - off : step);
	console_lines_flush(&s);
	if (console_utf8_tail((const char *)data, size) > 3)
		abort();
	out = malloc(size * 3 + 1);
	if (out) {
		if (console_utf8_repair((const char *)data, size, out) >
		    size * 3)
			abort();
		free(out);
	}
	return 0;
}
