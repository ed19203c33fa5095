/*
 * A stream's handshake off the loop. TLS spends its handshake in public
 * key maths: the ECDHE key exchange, the server's signature and the
 * certificate chain, and before them the trust store's parsing. Each
 * step is tens of milliseconds on x86 and far more on an ARM1176, and
 * mbedTLS can only cut the ECC part of it into pieces (restartable ECC,
 * which Debian's mbedTLS is built without, and RSA not at all). So the
 * whole handshake runs on a thread of its own:
 *
 * - The loop hands the connected socket to a job: the thread creates the
 *   stream, runs the handshake with its own poll() on the socket and a
 *   deadline, and writes an eventfd when done. While it works the loop
 *   does not touch the socket.
 * - The loop polls that eventfd; when it fires the thread has ended: the
 *   loop joins it (at once), takes the socket and the established stream
 *   back and relays as before. Nothing is shared while the thread runs.
 * - Cancelled (Paho gave up, or the agent stops), the job is abandoned:
 *   an eventfd tells the thread, which stops after the step it is in,
 *   and the loop frees the job when its done eventfd fires. The loop
 *   never waits for the thread, except at transport_free, where every
 *   job still alive is cancelled and joined: no thread outlives the
 *   transport.
 *
 * At most TRANSPORT_HS_MAX jobs exist at once (the current one and those
 * abandoned and still finishing their step).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "firmware/net/transport_priv.h"

#define TRANSPORT_HS_MAX 4
/*
 * A backstop: Paho gives up first (mqtt.c, connectTimeout 10 s), closes
 * its local socket and the session's job is cancelled.
 */
#define TRANSPORT_HS_DEADLINE_MS 15000

struct transport_hs {
	struct transport *t; /* the loop's side only */
	const struct transport_stream_ops *ops;
	const struct config *cfg;
	struct transport_hs *next; /* t->hs_jobs */
	bool current;		   /* false: abandoned, freed when done */
	pthread_t th;
	int cancel_fd; /* loop -> thread */
	int done_fd;   /* thread -> loop */
	/* The thread's own until done_fd fires; then the loop's. */
	int fd;
	void *stream;
	int result;
	char err[256];
};

/* The socket is ready for the step (0), or the job ends. */
static int transport_hs_wait(struct transport_hs *h, short want,
			     uint64_t deadline, char *err, size_t errlen)
{
	struct pollfd p[2] = {{.fd = h->fd, .events = want},
			      {.fd = h->cancel_fd, .events = POLLIN}};

	for (;;) {
		uint64_t now = loop_now_ms();
		int r;

		if (now >= deadline) {
			snprintf(err, errlen,
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

static void *transport_hs_thread(void *arg)
{
	struct transport_hs *h = arg;
	const struct transport_stream_ops *ops = h->ops;
	uint64_t deadline = loop_now_ms() + TRANSPORT_HS_DEADLINE_MS;
	short want = 0;
	int r;

	r = ops->create(h->cfg, &h->stream, h->err, sizeof(h->err));
	while (!r) {
		r = ops->handshake(h->stream, h->fd, &want, h->err,
				   sizeof(h->err));
		if (r != -EAGAIN)
			break;
		r = transport_hs_wait(h, want, deadline, h->err,
				      sizeof(h->err));
	}
	h->result = r;
	/* The last thing the thread does with the job. A write of 1 to an
	 * eventfd read at most once cannot fail. */
	(void)eventfd_write(h->done_fd, 1);
	return NULL;
}

static void transport_hs_free(struct transport_hs *h)
{
	struct transport_hs **p = &h->t->hs_jobs;

	while (*p != h)
		p = &(*p)->next;
	*p = h->next;
	h->t->n_hs--;
	if (h->stream)
		h->ops->destroy(h->stream);
	if (h->fd >= 0)
		close(h->fd);
	if (h->cancel_fd >= 0)
		close(h->cancel_fd);
	if (h->done_fd >= 0)
		close(h->done_fd);
	free(h);
}

static void transport_hs_on_done(int fd, short revents, void *data)
{
	struct transport_hs *h = data;
	struct transport *t = h->t;
	char err[sizeof(h->err)];
	int r = h->result;

	loop_fd_del(t->loop, h->done_fd);
	pthread_join(h->th, NULL);
	if (!h->current) {
		transport_hs_free(h);
		return;
	}
	t->hs = NULL;
	t->stream = h->stream;
	t->up_fd = h->fd;
	h->stream = NULL;
	h->fd = -1;
	memcpy(err, h->err, sizeof(err));
	transport_hs_free(h);
	transport_handshake_done(t, r, err);
}

int transport_hs_start(struct transport *t)
{
	struct transport_hs *h;
	int r;

	if (t->n_hs >= TRANSPORT_HS_MAX)
		return -EBUSY;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->t = t;
	h->ops = t->ops;
	h->cfg = t->cfg;
	h->fd = -1;
	h->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->next = t->hs_jobs;
	t->hs_jobs = h;
	t->n_hs++;
	if (h->cancel_fd < 0 || h->done_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = loop_fd_add(t->loop, h->done_fd, POLLIN, transport_hs_on_done, h);
	if (r)
		goto fail;
	/* The socket is the thread's now. */
	loop_fd_del(t->loop, t->up_fd);
	h->fd = t->up_fd;
	t->up_fd = -1;
	r = -pthread_create(&h->th, NULL, transport_hs_thread, h);
	if (r) {
		loop_fd_del(t->loop, h->done_fd);
		goto fail;
	}
	h->current = true;
	t->hs = h;
	return 0;
fail:
	transport_hs_free(h);
	return r;
}

void transport_hs_cancel(struct transport *t)
{
	if (!t->hs)
		return;
	t->hs->current = false;
	(void)eventfd_write(t->hs->cancel_fd, 1);
	t->hs = NULL;
}

void transport_hs_join_all(struct transport *t)
{
	transport_hs_cancel(t);
	while (t->hs_jobs) {
		struct transport_hs *h = t->hs_jobs;

		(void)eventfd_write(h->cancel_fd, 1);
		loop_fd_del(t->loop, h->done_fd);
		pthread_join(h->th, NULL);
		transport_hs_free(h);
	}
}
