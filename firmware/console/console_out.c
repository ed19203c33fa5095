#include "firmware/console/console_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct console_out_job {
	struct console_out_job *next;
	void *req;
	uint64_t deadline_ms;
	size_t len, done;
	char data[];
};

void console_out_init(struct console_out *o, console_out_done_cb done,
		      void *data)
{
	memset(o, 0, sizeof(*o));
	o->done = done;
	o->data = data;
}

int console_out_add(struct console_out *o, void *req, const void *bytes,
		    size_t len, uint64_t deadline_ms)
{
	struct console_out_job *j;

	if (o->jobs >= CONSOLE_OUT_JOBS_MAX ||
	    len > CONSOLE_OUT_BYTES_MAX - o->bytes)
		return -ENOSPC;
	j = malloc(sizeof(*j) + len);
	if (!j)
		return -ENOMEM;
	j->next = NULL;
	j->req = req;
	j->deadline_ms = deadline_ms;
	j->len = len;
	j->done = 0;
	memcpy(j->data, bytes, len);
	if (o->tail)
		o->tail->next = j;
	else
		o->head = j;
	o->tail = j;
	o->jobs++;
	o->bytes += len;
	return 0;
}

/* Take the first job off the queue and report it. */
static void console_out_finish(struct console_out *o, int err)
{
	struct console_out_job *j = o->head;

	o->head = j->next;
	if (!o->head)
		o->tail = NULL;
	o->jobs--;
	o->bytes -= j->len;
	o->done(o->data, j->req, err, j->done, j->len);
	free(j);
}

int console_out_write(struct console_out *o, int fd)
{
	while (o->head) {
		struct console_out_job *j = o->head;
		ssize_t n;

		if (j->done == j->len) {
			console_out_finish(o, 0);
			continue;
		}
		n = write(fd, j->data + j->done, j->len - j->done);
		if (n > 0) {
			j->done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		return -EAGAIN;
	}
	return 0;
}

void console_out_expire(struct console_out *o, uint64_t now_ms)
{
	while (o->head && o->head->deadline_ms <= now_ms)
		console_out_finish(o, -ETIMEDOUT);
}

void console_out_fail_all(struct console_out *o, int err)
{
	while (o->head)
		console_out_finish(o, err);
}

bool console_out_pending(const struct console_out *o)
{
	return o->head != NULL;
}

uint64_t console_out_deadline(const struct console_out *o)
{
	return o->head ? o->head->deadline_ms : 0;
}
