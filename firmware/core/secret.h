/*
 * Secret files (the broker password, the TLS-PSK key, the client key):
 * opened only when they belong to the user the agent runs as and nobody
 * else may read or write them, so that a mistaken chmod is an error at
 * start rather than a leak.
 */
#ifndef ZB_SECRET_H
#define ZB_SECRET_H

#include <stddef.h>

/*
 * Open path for reading after checking its owner and mode; what names
 * the setting in the error ("password_file"). Returns the descriptor, or
 * a negative errno with err naming the file and the fix.
 */
int secret_open(const char *what, const char *path, char *err, size_t errlen);

/*
 * Read the whole secret into buf (NUL-terminated, trailing newlines
 * dropped). Content that does not fit in size - 1 bytes is an error, not
 * cut. Returns the length or a negative errno.
 */
int secret_read(const char *what, const char *path, char *buf, size_t size,
		char *err, size_t errlen);

#endif
