/*
 * libFuzzer target: ANSI stripping and cutting of the console's last
 * line (its input is repaired UTF-8, as the console gives it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/console/console_last.h"
#include "firmware/console/console_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[CONSOLE_LAST_MAX];
	char *line;
	size_t n;

	if (size > CONSOLE_LINE_MAX)
		size = CONSOLE_LINE_MAX;
	line = malloc(size * 3 + 1);
	if (!line)
		return 0;
	n = console_utf8_repair((const char *)data, size, line);
	for (int strip = 0; strip < 2; strip++) {
		size_t len = console_last_text(line, n, strip, out);

		if (len >= CONSOLE_LAST_MAX || out[len] != '\0' ||
		    strlen(out) != len)
			abort();
	}
	free(line);
	return 0;
}
