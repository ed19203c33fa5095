/*
 * Logging for top-level code only (main.c, agent.c): library modules
 * return errors and messages instead. Lines go to stderr, which systemd
 * sends to the journal. Control characters are escaped (\n, \x1b) so that
 * nothing logged can forge a line, and under systemd each line starts
 * with its journald priority (<3> error ... <7> debug).
 */
#ifndef ZB_LOG_H
#define ZB_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
};

void log_set_level(int level);
int log_level_parse(const char *s);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copy in to out with control characters escaped; returns the length. */
size_t log_escape(char *out, size_t outlen, const char *in);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
