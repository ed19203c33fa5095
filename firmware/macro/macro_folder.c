/* The macros folder: its list of macros, kept up to date with inotify
 * and looked for again, less and less often, while it is missing. */
#include "firmware/macro/macro_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "firmware/core/backoff.h"
#include "firmware/core/inotify_drain.h"

static void macros_relist(struct macros *m)
{
	char before[sizeof(m->names)];
	size_t n_before = m->n_names;
	int r;

	memcpy(before, m->names, sizeof(before));
	r = macro_store_list(m->dir, m->names, MACRO_LIST_MAX, &m->n_names);
	if (r) {
		m->n_names = 0;
		snprintf(m->dir_error, sizeof(m->dir_error), "%s: %s", m->dir,
			 strerror(-r));
	} else {
		m->dir_error[0] = '\0';
	}
	if (n_before != m->n_names || memcmp(before, m->names, sizeof(before)))
		cap_state_dirty(m->c);
}

static void macros_dir_cb(void *data)
{
	struct macros *m = data;

	m->dir_timer = 0;
	macros_watch(m);
}

void macros_unwatch(struct macros *m)
{
	if (m->ino < 0)
		return;
	loop_fd_del(m->loop, m->ino);
	close(m->ino);
	m->ino = -1;
}

static void macros_on_event(void *data, const struct inotify_event *ev)
{
	if (ev->mask &
	    (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT))
		*(bool *)data = true;
}

static void macros_on_inotify(int fd, short revents, void *data)
{
	struct macros *m = data;
	bool gone = false;

	(void)revents;
	inotify_drain(fd, macros_on_event, &gone);
	if (gone) {
		/* The folder went (or moved): look for one at the path. */
		macros_unwatch(m);
		loop_timer_rearm(m->loop, &m->dir_timer, MACRO_DIR_RETRY_MS,
				 macros_dir_cb, m);
	}
	macros_relist(m);
}

void macros_watch(struct macros *m)
{
	int ino;

	if (m->ino >= 0 || !m->dir[0])
		return;
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino < 0 ||
	    inotify_add_watch(ino, m->dir,
			      IN_CREATE | IN_DELETE | IN_MOVED_FROM |
				      IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB |
				      IN_DELETE_SELF | IN_MOVE_SELF |
				      IN_ONLYDIR) < 0 ||
	    loop_fd_add(m->loop, ino, POLLIN, macros_on_inotify, m)) {
		char was[sizeof(m->dir_error)];

		memcpy(was, m->dir_error, sizeof(was));
		snprintf(m->dir_error, sizeof(m->dir_error), "%s: %s", m->dir,
			 strerror(errno));
		if (ino >= 0)
			close(ino);
		m->n_names = 0;
		/* Only a new reason is news; and a folder that stays away is
		 * looked for less and less often, so idle costs nothing. */
		if (strcmp(was, m->dir_error))
			cap_state_dirty(m->c);
		loop_timer_rearm(m->loop, &m->dir_timer,
				 backoff_next(&m->dir_retry_ms,
					      MACRO_DIR_RETRY_MS,
					      MACRO_DIR_RETRY_MAX_MS),
				 macros_dir_cb, m);
		return;
	}
	m->ino = ino;
	m->dir_retry_ms = 0;
	macros_relist(m);
}
