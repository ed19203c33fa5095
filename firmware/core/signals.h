/*
 * SIGTERM, SIGINT and SIGHUP blocked in the calling thread (call it before
 * any thread starts) and delivered on a non-blocking signalfd, which the
 * caller adds to its loop; SIGPIPE ignored. Returns the fd or -errno.
 */
#ifndef ZB_SIGNALS_H
#define ZB_SIGNALS_H

int signals_open(void);

#endif
