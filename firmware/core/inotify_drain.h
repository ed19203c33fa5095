/* Reading an inotify descriptor until it is empty. */
#ifndef ZB_INOTIFY_DRAIN_H
#define ZB_INOTIFY_DRAIN_H

#include <sys/inotify.h>

typedef void (*inotify_drain_fn)(void *data, const struct inotify_event *ev);

/*
 * Read the non-blocking descriptor fd until it has nothing more (or
 * fails), calling fn (when not NULL) for every event read.
 */
void inotify_drain(int fd, inotify_drain_fn fn, void *data);

#endif
