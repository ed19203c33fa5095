#include "firmware/core/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct loop_fd {
	int fd;
	short events;
	loop_fd_cb cb;
	void *data;
	bool dead;
};

struct loop_timer {
	int id;
	uint64_t due_ms;
	loop_timer_cb cb;
	void *data;
};

struct loop {
	struct loop_fd *fds;
	size_t n_fds, cap_fds;
	struct loop_timer *timers;
	size_t n_timers, cap_timers;
	int next_timer_id;
	bool quit;
	bool in_dispatch;
	uint64_t max_lag_us;
	uint64_t max_busy_us;
};

uint64_t loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t loop_now_ms(void)
{
	return loop_now_us() / 1000u;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l)
		l->next_timer_id = 1;
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	free(l->fds);
	free(l->timers);
	free(l);
}

static struct loop_fd *loop_fd_find(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->n_fds; i++)
		if (l->fds[i].fd == fd && !l->fds[i].dead)
			return &l->fds[i];
	return NULL;
}

int loop_fd_add(struct loop *l, int fd, short events, loop_fd_cb cb, void *data)
{
	if (fd < 0)
		return -EBADF;
	if (loop_fd_find(l, fd))
		return -EEXIST;
	if (l->n_fds == l->cap_fds) {
		size_t cap = l->cap_fds ? l->cap_fds * 2 : 16;
		struct loop_fd *n = realloc(l->fds, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->fds = n;
		l->cap_fds = cap;
	}
	l->fds[l->n_fds++] = (struct loop_fd){fd, events, cb, data, false};
	return 0;
}

int loop_fd_events(struct loop *l, int fd, short events)
{
	struct loop_fd *f = loop_fd_find(l, fd);

	if (!f)
		return -ENOENT;
	f->events = events;
	return 0;
}

static void loop_compact(struct loop *l)
{
	size_t j = 0;

	for (size_t i = 0; i < l->n_fds; i++)
		if (!l->fds[i].dead)
			l->fds[j++] = l->fds[i];
	l->n_fds = j;
}

int loop_fd_del(struct loop *l, int fd)
{
	struct loop_fd *f = loop_fd_find(l, fd);

	if (!f)
		return -ENOENT;
	/* Removal during dispatch only marks: the array is being walked. */
	f->dead = true;
	if (!l->in_dispatch)
		loop_compact(l);
	return 0;
}

int loop_timer_add(struct loop *l, uint64_t after_ms, loop_timer_cb cb,
		   void *data)
{
	if (l->n_timers == l->cap_timers) {
		size_t cap = l->cap_timers ? l->cap_timers * 2 : 16;
		struct loop_timer *n = realloc(l->timers, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->timers = n;
		l->cap_timers = cap;
	}
	if (l->next_timer_id <= 0)
		l->next_timer_id = 1;
	l->timers[l->n_timers] = (struct loop_timer){
		l->next_timer_id, loop_now_ms() + after_ms, cb, data};
	l->n_timers++;
	return l->next_timer_id++;
}

void loop_timer_cancel(struct loop *l, int id)
{
	for (size_t i = 0; i < l->n_timers; i++) {
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->n_timers];
			return;
		}
	}
}

int loop_timer_rearm(struct loop *l, int *id, uint64_t after_ms,
		     loop_timer_cb cb, void *data)
{
	int r;

	if (*id > 0)
		loop_timer_cancel(l, *id);
	*id = 0;
	r = loop_timer_add(l, after_ms, cb, data);
	if (r > 0)
		*id = r;
	return r < 0 ? r : 0;
}

void loop_quit(struct loop *l)
{
	l->quit = true;
}

uint64_t loop_max_lag_ms(const struct loop *l)
{
	return l->max_lag_us / 1000u;
}

/* The loop thread's own CPU time: its work, whatever else runs. */
static uint64_t loop_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t loop_max_busy_ms(const struct loop *l)
{
	return l->max_busy_us / 1000u;
}

static void loop_lag(struct loop *l, uint64_t since_us)
{
	uint64_t now = loop_now_us();

	if (now > since_us && now - since_us > l->max_lag_us)
		l->max_lag_us = now - since_us;
}

static int loop_timeout(struct loop *l, uint64_t now)
{
	uint64_t min = UINT64_MAX;

	for (size_t i = 0; i < l->n_timers; i++)
		if (l->timers[i].due_ms < min)
			min = l->timers[i].due_ms;
	if (min == UINT64_MAX)
		return -1;
	if (min <= now)
		return 0;
	return min - now > 60000 ? 60000 : (int)(min - now);
}

static void loop_run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();

	/* Fire one due timer at a time: a callback may add or cancel. */
	for (;;) {
		size_t best = l->n_timers;

		for (size_t i = 0; i < l->n_timers; i++)
			if (l->timers[i].due_ms <= now &&
			    (best == l->n_timers ||
			     l->timers[i].due_ms < l->timers[best].due_ms))
				best = i;
		if (best == l->n_timers)
			return;
		struct loop_timer t = l->timers[best];

		l->timers[best] = l->timers[--l->n_timers];
		loop_lag(l, t.due_ms * 1000u);
		t.cb(t.data);
		if (l->quit)
			return;
	}
}

static void loop_dispatch(struct loop *l, const struct pollfd *pfd, size_t n,
			  uint64_t polled_us)
{
	l->in_dispatch = true;
	for (size_t i = 0; i < n && !l->quit; i++) {
		struct loop_fd *f;

		if (!pfd[i].revents)
			continue;
		/*
		 * By registration, not by number: entries stay in place
		 * during dispatch (removal only marks, new ones go at the
		 * end), so a number closed and reused this round does not
		 * get the old descriptor's events.
		 */
		f = &l->fds[i];
		if (f->dead)
			continue;
		loop_lag(l, polled_us);
		f->cb(f->fd, pfd[i].revents, f->data);
	}
	l->in_dispatch = false;
	loop_compact(l);
}

int loop_run(struct loop *l)
{
	struct pollfd *pfd = NULL;
	size_t cap = 0;
	int r = 0;

	while (!l->quit) {
		size_t n = l->n_fds;

		if (n > cap) {
			struct pollfd *np = realloc(pfd, n * sizeof(*np));

			if (!np) {
				r = -ENOMEM;
				break;
			}
			pfd = np;
			cap = n;
		}
		for (size_t i = 0; i < n; i++) {
			pfd[i].fd = l->fds[i].fd;
			pfd[i].events = l->fds[i].events;
			pfd[i].revents = 0;
		}
		int pr = poll(pfd, n, loop_timeout(l, loop_now_ms()));
		uint64_t polled_us = loop_now_us(), cpu_us = loop_cpu_us();

		if (pr < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		loop_run_timers(l);
		if (pr > 0)
			loop_dispatch(l, pfd, n, polled_us);
		cpu_us = loop_cpu_us() - cpu_us;
		if (cpu_us > l->max_busy_us)
			l->max_busy_us = cpu_us;
	}
	free(pfd);
	return r;
}
