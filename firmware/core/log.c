#include "firmware/core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int log_current = LOG_LVL_INFO;

static const char *const log_names[] = {"error", "warn", "info", "debug"};

void log_set_level(int level)
{
	log_current = level;
}

int log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcasecmp(s, log_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	if (level > log_current)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "zerobmc: %s: %s\n", log_names[level], buf);
}
