/*
 * The media module's one helper thread, for what must not block the
 * loop: the SHA-256 of an image (seconds to minutes on a Pi), the atomic
 * write of the state file (fsync on an SD card), the sizing of a new
 * image (zeros written on a file system without sparse files) and
 * downloads. The
 * thread runs at nice 19 and idle I/O priority; it owns only the job it
 * was given and reports through an eventfd in the loop. A pending state
 * write and a pending sizing go first, even between two chunks of a
 * running hash or download.
 */
#ifndef ZB_MEDIA_WORKER_H
#define ZB_MEDIA_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/loop.h"

struct media_worker;

struct media_worker_result {
	bool hash_done;
	uint64_t gen; /* the id given to media_worker_hash() */
	int err;      /* 0, -ECANCELED, or -errno of read */
	char hex[65];
	uint64_t bytes;
	uint64_t usec; /* wall time of the hash */
	bool save_done;
	int save_err;
	bool size_done;
	int size_err;	/* 0, -ECANCELED (the worker stops), or -errno */
	void *job_done; /* the arg of a media_worker_run() job that ended */
};

typedef void (*media_worker_cb)(void *data,
				const struct media_worker_result *res);

int media_worker_new(struct loop *l, media_worker_cb cb, void *data,
		     struct media_worker **out);
/* Cancels a hash, finishes a pending save, joins the thread. */
void media_worker_free(struct media_worker *w);

/* Hash fd (taken over, closed by the worker); replaces a running hash. */
int media_worker_hash(struct media_worker *w, int fd, uint64_t gen);
void media_worker_cancel(struct media_worker *w);
/* Bytes hashed so far by the running job. */
uint64_t media_worker_hashed(struct media_worker *w);

/*
 * A longer job than a hash (a download): fn(w, arg) runs in the thread,
 * after a running hash; arg stays the caller's, who learns that the job
 * ended from job_done. One job at a time: -EBUSY while one is queued or
 * running. The job checks media_worker_stopping() and calls
 * media_worker_yield() often.
 */
typedef void (*media_worker_job_fn)(struct media_worker *w, void *arg);
int media_worker_run(struct media_worker *w, media_worker_job_fn fn, void *arg);
/* For a job: the worker is being freed, end now. */
bool media_worker_stopping(struct media_worker *w);
/* For a job: do a pending state-file write or sizing now. */
void media_worker_yield(struct media_worker *w);

/*
 * Grow fd (taken over, closed by the worker) to bytes with ftruncate, in
 * steps, so that a worker being freed stops between two. One at a time:
 * -EBUSY while one is pending.
 */
int media_worker_size(struct media_worker *w, int fd, uint64_t bytes);

/* Write text to path atomically, in the thread; text is taken over. */
void media_worker_save(struct media_worker *w, const char *path, char *text);

/*
 * Write len bytes to path atomically: path.tmp, fsync, rename, fsync of
 * the folder. Blocking; the worker's tool, public for tests.
 */
int media_write_atomic(const char *path, const char *text, size_t len);

#endif
