#include "firmware/host/hostwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "firmware/core/inotify_drain.h"
#include "firmware/core/listeners.h"

struct hostwatch {
	struct loop *loop;
	char path[PATH_MAX];
	int fd;	 /* the state file */
	int ino; /* inotify, for a plain file; -1 for sysfs */
	enum udc_state st;
	uint64_t since_ms;
	struct listeners l;
};

static void hostwatch_update(struct hostwatch *h)
{
	enum udc_state st;
	enum udc_state old = h->st;

	if (udc_state_read(h->fd, &st))
		st = UDC_STATE_UNKNOWN;
	if (st == old)
		return;
	h->st = st;
	h->since_ms = loop_now_ms();
	for (int i = 0; i < h->l.n; i++)
		((hostwatch_cb)h->l.l[i].fn)(h->l.l[i].data, old, st);
}

static void hostwatch_on_pri(int fd, short revents, void *data)
{
	hostwatch_update(data);
}

static void hostwatch_on_inotify(int fd, short revents, void *data)
{
	inotify_drain(fd, NULL, NULL);
	hostwatch_update(data);
}

int hostwatch_new(struct loop *l, const char *path, struct hostwatch **out)
{
	struct hostwatch *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->loop = l;
	h->ino = -1;
	h->st = UDC_STATE_UNKNOWN;
	h->since_ms = loop_now_ms();
	strncpy(h->path, path, sizeof(h->path) - 1);
	h->fd = udc_state_open(path);
	if (h->fd < 0) {
		r = h->fd;
		goto fail;
	}
	if (udc_state_read(h->fd, &h->st))
		h->st = UDC_STATE_UNKNOWN;
	if (strncmp(path, "/sys/", 5)) {
		h->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (h->ino < 0 ||
		    inotify_add_watch(h->ino, path,
				      IN_MODIFY | IN_CLOSE_WRITE) < 0) {
			r = -errno;
			goto fail;
		}
		r = loop_fd_add(l, h->ino, POLLIN, hostwatch_on_inotify, h);
	} else {
		r = loop_fd_add(l, h->fd, POLLPRI | POLLERR, hostwatch_on_pri,
				h);
	}
	if (r)
		goto fail;
	*out = h;
	return 0;
fail:
	if (h->ino >= 0)
		close(h->ino);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
	return r;
}

void hostwatch_free(struct hostwatch *h)
{
	if (!h)
		return;
	if (h->ino >= 0) {
		loop_fd_del(h->loop, h->ino);
		close(h->ino);
	} else {
		loop_fd_del(h->loop, h->fd);
	}
	close(h->fd);
	free(h);
}

int hostwatch_listen(struct hostwatch *h, hostwatch_cb cb, void *data)
{
	return listeners_add(&h->l, HOSTWATCH_LISTENERS, (listener_fn)cb, data);
}

enum udc_state hostwatch_state(const struct hostwatch *h)
{
	return h->st;
}

uint64_t hostwatch_since_ms(const struct hostwatch *h)
{
	return h->since_ms;
}

const char *hostwatch_path(const struct hostwatch *h)
{
	return h->path;
}
