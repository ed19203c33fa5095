#include "firmware/core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static int log_current = LOG_LVL_INFO;
static int log_journal = -1; /* -1: not looked at yet */

static const char *const log_names[] = {"error", "warn", "info", "debug"};
/* syslog priorities: err, warning, info, debug. */
static const int log_prio[] = {3, 4, 6, 7};

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

/*
 * systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected to stderr; if they still match, journald reads a "<N>"
 * prefix as the line's priority.
 */
static bool log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st))
		return false;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

size_t log_escape(char *out, size_t outlen, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!outlen)
		return 0;
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		char esc[5];
		size_t n = 0;

		if (c == '\n' || c == '\r' || c == '\t') {
			esc[n++] = '\\';
			esc[n++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			esc[n++] = '\\';
			esc[n++] = 'x';
			esc[n++] = hex[c >> 4];
			esc[n++] = hex[c & 15];
		} else {
			esc[n++] = (char)c;
		}
		if (o + n >= outlen)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	char buf[1024], safe[1024];

	if (level > log_current)
		return;
	if (log_journal < 0)
		log_journal = log_stderr_is_journal();
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Whatever came from outside (ids, topics, names) cannot forge a
	 * line of its own. */
	log_escape(safe, sizeof(safe), buf);
	if (log_journal)
		fprintf(stderr, "<%d>zerobmc: %s: %s\n", log_prio[level],
			log_names[level], safe);
	else
		fprintf(stderr, "zerobmc: %s: %s\n", log_names[level], safe);
}
