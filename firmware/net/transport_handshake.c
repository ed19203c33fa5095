/*
 * A stream's handshake off the loop. TLS spends its handshake in public
 * key maths: the ECDHE key exchange, the server's signature and the
 * certificate chain, and before them the trust store's parsing. Each
 * step is tens of milliseconds on x86 and far more on an ARM1176, and
 * mbedTLS can only cut the ECC part of it into pieces (restartable ECC,
 * which Debian's mbedTLS is built without, and RSA not at all). So the
 * handshakes run on a thread of their own:
 *
 * - The thread starts with the transport (transport_hs_new), before the
 *   loop runs, and lives as long as it: no thread is created in the loop
 *   at each reconnect (under qemu-user a thread's creation alone held
 *   the loop for up to 70 ms).
 * - The loop hands the connected socket to a job: the thread creates the
 *   stream, runs the handshake with its own poll() on the socket and a
 *   deadline, marks the job finished and writes an eventfd. While it
 *   works the loop does not touch the socket.
 * - On that eventfd the loop takes the finished jobs off the queue: the
 *   session's gets its socket and established stream back and relays as
 *   before.
 * - Cancelled (Paho gave up, or the agent stops), a job is abandoned: its
 *   own eventfd tells the thread, which stops after the step it is in,
 *   and the loop frees the job once finished. The loop never waits for
 *   the thread, except at transport_free, which joins it.
 *
 * The queue holds at most TRANSPORT_HS_MAX jobs (the session's, and those
 * abandoned and not yet finished); the thread runs them in order.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "firmware/core/worker.h"
#include "firmware/net/transport_priv.h"

#define TRANSPORT_HS_MAX 4
/*
 * A backstop: Paho gives up first (mqtt.c, connectTimeout 10 s), closes
 * its local socket and the session's job is cancelled.
 */
#define TRANSPORT_HS_DEADLINE_MS 15000

struct transport_hs_job {
	struct transport_hs_job *next; /* the queue, oldest first */
	bool current;		       /* the loop's: false when abandoned */
	bool started, finished;	       /* under the worker's lock */
	int cancel_fd;		       /* loop -> thread */
	/* The thread's from start to finish; then the loop's. */
	int fd;
	void *stream;
	int result;
	char err[256];
};

struct transport_hs {
	struct transport *t;
	const struct transport_stream_ops *ops;
	const struct config *cfg;
	struct worker *wk;
	/* Under the worker's lock. */
	struct transport_hs_job *jobs;
	unsigned int n_jobs;
	/* The loop's: the session's job, NULL if none. */
	struct transport_hs_job *current;
};

/* The socket is ready for the step (0), or the job ends. */
static int transport_hs_wait(struct transport_hs_job *j, short want,
			     uint64_t deadline)
{
	struct pollfd p[2] = {{.fd = j->fd, .events = want},
			      {.fd = j->cancel_fd, .events = POLLIN}};

	for (;;) {
		uint64_t now = loop_now_ms();
		int r;

		if (now >= deadline) {
			snprintf(j->err, sizeof(j->err),
				 "the TLS handshake took more than %d s",
				 TRANSPORT_HS_DEADLINE_MS / 1000);
			return -ETIMEDOUT;
		}
		r = poll(p, 2, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (p[1].revents)
			return -ECANCELED;
		/* An error or hang-up shows in the next step's own message. */
		if (p[0].revents)
			return 0;
	}
}

static int transport_hs_run(struct transport_hs *h, struct transport_hs_job *j)
{
	uint64_t deadline = loop_now_ms() + TRANSPORT_HS_DEADLINE_MS;
	struct pollfd cancelled = {.fd = j->cancel_fd, .events = POLLIN};
	short want = 0;
	int r;

	/* Abandoned while queued. */
	if (poll(&cancelled, 1, 0) > 0)
		return -ECANCELED;
	r = h->ops->create(h->cfg, &j->stream, j->err, sizeof(j->err));
	while (!r) {
		r = h->ops->handshake(j->stream, j->fd, &want, j->err,
				      sizeof(j->err));
		if (r != -EAGAIN)
			break;
		r = transport_hs_wait(j, want, deadline);
	}
	return r;
}

static struct transport_hs_job *transport_hs_next(struct transport_hs *h)
{
	for (struct transport_hs_job *j = h->jobs; j; j = j->next)
		if (!j->started)
			return j;
	return NULL;
}

/* In the thread, under the lock: the oldest job not started, unless the
 * transport is being freed. */
static bool transport_hs_work(struct worker *wk, void *data)
{
	struct transport_hs *h = data;
	struct transport_hs_job *j;

	if (worker_stopping(wk))
		return false;
	j = transport_hs_next(h);
	if (!j)
		return false;
	j->started = true;
	worker_unlock(wk);
	j->result = transport_hs_run(h, j);
	worker_lock(wk);
	j->finished = true;
	worker_notify(wk);
	return true;
}

/* Off the queue (under the lock, or with the thread gone). */
static void transport_hs_unlink(struct transport_hs *h,
				struct transport_hs_job *j)
{
	struct transport_hs_job **p = &h->jobs;

	while (*p != j)
		p = &(*p)->next;
	*p = j->next;
	h->n_jobs--;
}

static void transport_hs_job_free(struct transport_hs *h,
				  struct transport_hs_job *j)
{
	if (j->stream)
		h->ops->destroy(j->stream);
	if (j->fd >= 0)
		close(j->fd);
	if (j->cancel_fd >= 0)
		close(j->cancel_fd);
	free(j);
}

static void transport_hs_on_done(void *data)
{
	struct transport_hs *h = data;
	struct transport_hs_job *done = NULL, *j, *next;

	worker_lock(h->wk);
	for (j = h->jobs; j; j = next) {
		next = j->next;
		if (!j->finished)
			continue;
		transport_hs_unlink(h, j);
		j->next = done;
		done = j;
	}
	worker_unlock(h->wk);
	for (j = done; j; j = next) {
		struct transport *t = h->t;
		char err[sizeof(j->err)];
		int r = j->result;

		next = j->next;
		if (!j->current) {
			transport_hs_job_free(h, j);
			continue;
		}
		h->current = NULL;
		t->stream = j->stream;
		t->up_fd = j->fd;
		j->stream = NULL;
		j->fd = -1;
		memcpy(err, j->err, sizeof(err));
		transport_hs_job_free(h, j);
		transport_handshake_done(t, r, err);
	}
}

static const struct worker_ops transport_hs_ops = {
	.work = transport_hs_work,
	.done = transport_hs_on_done,
};

int transport_hs_start(struct transport *t)
{
	struct transport_hs *h = t->hs;
	struct transport_hs_job *j, **tail;
	int r = 0;

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = -1;
	j->current = true;
	j->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->cancel_fd < 0) {
		r = -errno;
		transport_hs_job_free(h, j);
		return r;
	}
	worker_lock(h->wk);
	if (h->n_jobs >= TRANSPORT_HS_MAX) {
		r = -EBUSY;
	} else {
		/* The socket is the thread's now. */
		loop_fd_del(t->loop, t->up_fd);
		j->fd = t->up_fd;
		t->up_fd = -1;
		for (tail = &h->jobs; *tail; tail = &(*tail)->next)
			;
		*tail = j;
		h->n_jobs++;
		h->current = j;
		worker_wake(h->wk);
	}
	worker_unlock(h->wk);
	if (r)
		transport_hs_job_free(h, j);
	return r;
}

void transport_hs_cancel(struct transport *t)
{
	struct transport_hs *h = t->hs;

	if (!h || !h->current)
		return;
	h->current->current = false;
	(void)eventfd_write(h->current->cancel_fd, 1);
	h->current = NULL;
}

int transport_hs_new(struct transport *t)
{
	struct transport_hs *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->t = t;
	h->ops = t->ops;
	h->cfg = t->cfg;
	r = worker_new(t->loop, &transport_hs_ops, h, &h->wk);
	if (r)
		free(h);
	else
		t->hs = h;
	return r;
}

void transport_hs_free(struct transport *t)
{
	struct transport_hs *h = t->hs;

	if (!h)
		return;
	transport_hs_cancel(t);
	worker_lock(h->wk);
	for (struct transport_hs_job *j = h->jobs; j; j = j->next)
		(void)eventfd_write(j->cancel_fd, 1);
	worker_unlock(h->wk);
	/* At most the step a job is in. */
	worker_free(h->wk);
	while (h->jobs) {
		struct transport_hs_job *j = h->jobs;

		transport_hs_unlink(h, j);
		transport_hs_job_free(h, j);
	}
	free(h);
	t->hs = NULL;
}
