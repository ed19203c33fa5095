/*
 * A helper thread for work that would hold the loop (a hash, a program,
 * a TLS handshake), and how it reports back: an eventfd registered in
 * the loop.
 *
 * The caller keeps its own hand-over (a slot, a bounded queue) under the
 * worker's lock. The thread calls ops->work under that lock until it
 * finds nothing to do, then sleeps until worker_wake(); work unlocks
 * around what takes time and calls worker_notify() when something is
 * ready for the loop, which then runs ops->done. worker_free() stops the
 * thread once work finds nothing more, joins it and unregisters the
 * eventfd: what the thread notified after the loop's last wake is left
 * for the caller to collect.
 */
#ifndef ZB_WORKER_H
#define ZB_WORKER_H

#include <stdbool.h>

#include "firmware/core/loop.h"

struct worker;

struct worker_ops {
	/* In the thread, once, before any work; NULL: nothing. */
	void (*enter)(void *data);
	/* In the thread, under the lock: true if it did something. */
	bool (*work)(struct worker *wk, void *data);
	/* In the loop, after one or more worker_notify(); it may free the
	 * worker. */
	void (*done)(void *data);
};

/*
 * Starts the thread, *out set before it runs; ops and data must outlive
 * the worker.
 */
int worker_new(struct loop *l, const struct worker_ops *ops, void *data,
	       struct worker **out);
/* worker_stopping() turns true; returns once the thread has ended. */
void worker_free(struct worker *wk);

void worker_lock(struct worker *wk);
void worker_unlock(struct worker *wk);
/* The thread looks for work again; the lock held or not. */
void worker_wake(struct worker *wk);
/* In the thread: ops->done is to run in the loop. */
void worker_notify(struct worker *wk);
/* From any thread: worker_free() has begun. */
bool worker_stopping(const struct worker *wk);

#endif
