#include "firmware/core/worker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct worker {
	struct loop *loop;
	const struct worker_ops *ops;
	void *data;
	int efd; /* thread -> loop */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool stop;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;

	if (wk->ops->enter)
		wk->ops->enter(wk->data);
	pthread_mutex_lock(&wk->mu);
	for (;;) {
		if (wk->ops->work(wk, wk->data))
			continue;
		if (atomic_load(&wk->stop))
			break;
		pthread_cond_wait(&wk->cv, &wk->mu);
	}
	pthread_mutex_unlock(&wk->mu);
	return NULL;
}

static void worker_on_event(int fd, short revents, void *data)
{
	struct worker *wk = data;
	eventfd_t n;

	(void)revents;
	/* The loop's own read of a readable eventfd cannot fail. */
	(void)eventfd_read(fd, &n);
	wk->ops->done(wk->data);
}

int worker_new(struct loop *l, const struct worker_ops *ops, void *data,
	       struct worker **out)
{
	struct worker *wk = calloc(1, sizeof(*wk));
	int r;

	if (!wk)
		return -ENOMEM;
	wk->loop = l;
	wk->ops = ops;
	wk->data = data;
	pthread_mutex_init(&wk->mu, NULL);
	pthread_cond_init(&wk->cv, NULL);
	wk->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wk->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = loop_fd_add(l, wk->efd, POLLIN, worker_on_event, wk);
	if (r)
		goto fail;
	/* Before the thread runs: its work may reach the worker as *out. */
	*out = wk;
	r = -pthread_create(&wk->thread, NULL, worker_main, wk);
	if (r) {
		*out = NULL;
		loop_fd_del(l, wk->efd);
		goto fail;
	}
	return 0;
fail:
	if (wk->efd >= 0)
		close(wk->efd);
	pthread_cond_destroy(&wk->cv);
	pthread_mutex_destroy(&wk->mu);
	free(wk);
	return r;
}

void worker_free(struct worker *wk)
{
	if (!wk)
		return;
	atomic_store(&wk->stop, true);
	pthread_mutex_lock(&wk->mu);
	pthread_cond_signal(&wk->cv);
	pthread_mutex_unlock(&wk->mu);
	pthread_join(wk->thread, NULL);
	loop_fd_del(wk->loop, wk->efd);
	close(wk->efd);
	pthread_cond_destroy(&wk->cv);
	pthread_mutex_destroy(&wk->mu);
	free(wk);
}

void worker_lock(struct worker *wk)
{
	pthread_mutex_lock(&wk->mu);
}

void worker_unlock(struct worker *wk)
{
	pthread_mutex_unlock(&wk->mu);
}

void worker_wake(struct worker *wk)
{
	pthread_cond_signal(&wk->cv);
}

void worker_notify(struct worker *wk)
{
	/* A write of 1 to an eventfd the loop drains cannot fail. */
	(void)eventfd_write(wk->efd, 1);
}

bool worker_stopping(const struct worker *wk)
{
	return atomic_load(&wk->stop);
}
