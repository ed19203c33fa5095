#include "firmware/core/inotify_drain.h"

#include <unistd.h>

void inotify_drain(int fd, inotify_drain_fn fn, void *data)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; fn && p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			fn(data, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}
