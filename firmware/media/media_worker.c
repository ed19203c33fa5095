#include "firmware/media/media_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/ioprio.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "firmware/core/worker.h"

#define MEDIA_WORKER_CHUNK (1u << 20)
/* Where a file system writes zeros, a step of a few seconds at most. */
#define MEDIA_WORKER_SIZE_STEP (64ull << 20)

struct media_worker {
	media_worker_cb cb;
	void *data;
	struct worker *wk;

	/* Under the worker's lock: the jobs handed over and the results
	 * handed back. */
	int job_fd; /* -1: none */
	uint64_t job_gen;
	char *save_text;
	char save_path[PATH_MAX];
	int size_fd; /* -1: none */
	uint64_t size_bytes;
	media_worker_job_fn job_fn; /* queued or running: job_arg */
	void *job_arg;
	bool job_running;
	struct media_worker_result res;

	/* The hash the loop wants; a running one with another gen stops. */
	atomic_uint_fast64_t want_gen;
	atomic_uint_fast64_t hashed;
};

static uint64_t media_worker_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int media_write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX + 8];
	char dir[PATH_MAX];
	size_t off = 0;
	int fd, dfd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	/* The rename itself is durable only once the folder is synced. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd))
			r = -errno;
		close(dfd);
	}
	return r;
}

/* Under the lock. Does a pending save, unlocking around the write. */
static void media_worker_do_save(struct media_worker *w)
{
	char path[PATH_MAX];
	char *text = w->save_text;
	int r;

	w->save_text = NULL;
	snprintf(path, sizeof(path), "%s", w->save_path);
	worker_unlock(w->wk);
	r = media_write_atomic(path, text, strlen(text));
	free(text);
	worker_lock(w->wk);
	w->res.save_done = true;
	w->res.save_err = r;
	worker_notify(w->wk);
}

/* Under the lock. Grows a pending file, unlocking around it. */
static void media_worker_do_size(struct media_worker *w)
{
	int fd = w->size_fd, r = 0;
	uint64_t want = w->size_bytes, at = 0;

	w->size_fd = -1;
	worker_unlock(w->wk);
	while (!r && at < want) {
		if (worker_stopping(w->wk)) {
			r = -ECANCELED;
			break;
		}
		at = want - at > MEDIA_WORKER_SIZE_STEP
			     ? at + MEDIA_WORKER_SIZE_STEP
			     : want;
		if (ftruncate(fd, (off_t)at))
			r = -errno;
	}
	close(fd);
	worker_lock(w->wk);
	w->res.size_done = true;
	w->res.size_err = r;
	worker_notify(w->wk);
}

/* Under the lock: what may not wait for a hash or a download. */
static bool media_worker_do_urgent(struct media_worker *w)
{
	if (w->save_text) {
		media_worker_do_save(w);
		return true;
	}
	if (w->size_fd >= 0) {
		media_worker_do_size(w);
		return true;
	}
	return false;
}

/*
 * The hash reads the image through mmap, not read(): reads of the inserted
 * image are how the timeline sees the server booting from it (inotify
 * IN_ACCESS), and page faults raise no IN_ACCESS, so the agent's own hash
 * does not look like the server. A file cut short while mapped raises
 * SIGBUS on the faulting access; the worker's handler turns that into an
 * error of this hash instead of the end of the agent.
 */
static _Thread_local sigjmp_buf *media_worker_jmp;

static void media_worker_on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (media_worker_jmp)
		siglongjmp(*media_worker_jmp, 1);
	/* Not the hash's: the default action, as if nothing was caught. */
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

/* One window of the file into the hash; -EIO if the file shrank. */
static int media_worker_hash_window(mbedtls_sha256_context *ctx, int fd,
				    uint64_t off, size_t len)
{
	sigjmp_buf jmp;
	unsigned char *p =
		mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)off);
	int r = 0;

	if (p == MAP_FAILED)
		return -errno;
	madvise(p, len, MADV_SEQUENTIAL);
	if (sigsetjmp(jmp, 1)) {
		media_worker_jmp = NULL;
		munmap(p, len);
		return -EIO;
	}
	media_worker_jmp = &jmp;
	if (mbedtls_sha256_update_ret(ctx, p, len))
		r = -EIO;
	media_worker_jmp = NULL;
	munmap(p, len);
	return r;
}

static int media_worker_do_hash(struct media_worker *w, int fd, uint64_t gen,
				char hex[65])
{
	mbedtls_sha256_context ctx;
	unsigned char sum[32];
	struct stat st;
	uint64_t off = 0, size;
	int r = 0;

	if (fstat(fd, &st))
		return -errno;
	size = (uint64_t)st.st_size;
	mbedtls_sha256_init(&ctx);
	if (mbedtls_sha256_starts_ret(&ctx, 0)) {
		r = -EIO;
		goto out;
	}
	while (off < size) {
		size_t len = size - off > MEDIA_WORKER_CHUNK
				     ? MEDIA_WORKER_CHUNK
				     : (size_t)(size - off);

		if (worker_stopping(w->wk) ||
		    atomic_load(&w->want_gen) != gen) {
			r = -ECANCELED;
			break;
		}
		media_worker_yield(w);
		r = media_worker_hash_window(&ctx, fd, off, len);
		if (r)
			break;
		off += len;
		atomic_store(&w->hashed, off);
	}
	if (!r && mbedtls_sha256_finish_ret(&ctx, sum))
		r = -EIO;
	if (!r)
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", sum[i]);
out:
	mbedtls_sha256_free(&ctx);
	return r;
}

static void media_worker_lower_priority(void *data)
{
	/*
	 * The server may be installing from this very SD card: the hash
	 * waits for idle I/O and CPU. Both calls act on this thread only;
	 * failures (a scheduler without I/O classes) change nothing else.
	 */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19)) {
		/* Best effort. */
	}
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		    IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0))) {
		/* Best effort. */
	}
}

/* In the thread, under the lock: a save or a sizing first, then unless
 * the worker stops, a job, then a hash. */
static bool media_worker_work(struct worker *wk, void *data)
{
	struct media_worker *w = data;

	if (media_worker_do_urgent(w))
		return true;
	if (worker_stopping(wk))
		return false;
	if (w->job_fn && !w->job_running) {
		void *job = w->job_arg;

		w->job_running = true;
		worker_unlock(wk);
		w->job_fn(w, job);
		worker_lock(wk);
		w->job_fn = NULL;
		w->job_running = false;
		w->res.job_done = job;
		worker_notify(wk);
		return true;
	}
	if (w->job_fd >= 0) {
		int fd = w->job_fd;
		uint64_t gen = w->job_gen, t0;
		char hex[65] = "";
		int r;

		w->job_fd = -1;
		worker_unlock(wk);
		t0 = media_worker_now_us();
		r = media_worker_do_hash(w, fd, gen, hex);
		close(fd);
		worker_lock(wk);
		w->res.hash_done = true;
		w->res.gen = gen;
		w->res.err = r;
		w->res.bytes = atomic_load(&w->hashed);
		w->res.usec = media_worker_now_us() - t0;
		memcpy(w->res.hex, hex, sizeof(hex));
		worker_notify(wk);
		return true;
	}
	return false;
}

static void media_worker_on_done(void *data)
{
	struct media_worker *w = data;
	struct media_worker_result res;

	worker_lock(w->wk);
	res = w->res;
	memset(&w->res, 0, sizeof(w->res));
	worker_unlock(w->wk);
	if (res.hash_done || res.save_done || res.size_done || res.job_done)
		w->cb(w->data, &res);
}

static const struct worker_ops media_worker_ops = {
	.enter = media_worker_lower_priority,
	.work = media_worker_work,
	.done = media_worker_on_done,
};

static int media_worker_install_sigbus(void)
{
	struct sigaction sa = {.sa_sigaction = media_worker_on_sigbus,
			       .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL);
}

int media_worker_new(struct loop *l, media_worker_cb cb, void *data,
		     struct media_worker **out)
{
	struct media_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->data = data;
	w->job_fd = -1;
	w->size_fd = -1;
	if (media_worker_install_sigbus()) {
		r = -errno;
		goto fail;
	}
	r = worker_new(l, &media_worker_ops, w, &w->wk);
	if (r)
		goto fail;
	*out = w;
	return 0;
fail:
	free(w);
	return r;
}

void media_worker_free(struct media_worker *w)
{
	if (!w)
		return;
	worker_free(w->wk);
	if (w->job_fd >= 0)
		close(w->job_fd);
	if (w->size_fd >= 0)
		close(w->size_fd);
	free(w->save_text);
	free(w);
}

int media_worker_hash(struct media_worker *w, int fd, uint64_t gen)
{
	worker_lock(w->wk);
	if (w->job_fd >= 0)
		close(w->job_fd);
	w->job_fd = fd;
	w->job_gen = gen;
	atomic_store(&w->want_gen, gen);
	atomic_store(&w->hashed, 0);
	worker_wake(w->wk);
	worker_unlock(w->wk);
	return 0;
}

void media_worker_cancel(struct media_worker *w)
{
	worker_lock(w->wk);
	if (w->job_fd >= 0)
		close(w->job_fd);
	w->job_fd = -1;
	atomic_store(&w->want_gen, 0);
	worker_unlock(w->wk);
}

uint64_t media_worker_hashed(struct media_worker *w)
{
	return atomic_load(&w->hashed);
}

void media_worker_save(struct media_worker *w, const char *path, char *text)
{
	worker_lock(w->wk);
	free(w->save_text); /* a newer state replaces one not yet written */
	w->save_text = text;
	snprintf(w->save_path, sizeof(w->save_path), "%s", path);
	worker_unlock(w->wk);
	worker_wake(w->wk);
}

int media_worker_run(struct media_worker *w, media_worker_job_fn fn, void *arg)
{
	int r = 0;

	worker_lock(w->wk);
	if (w->job_fn) {
		r = -EBUSY;
	} else {
		w->job_fn = fn;
		w->job_arg = arg;
		worker_wake(w->wk);
	}
	worker_unlock(w->wk);
	return r;
}

bool media_worker_stopping(struct media_worker *w)
{
	return worker_stopping(w->wk);
}

void media_worker_yield(struct media_worker *w)
{
	worker_lock(w->wk);
	while (media_worker_do_urgent(w))
		;
	worker_unlock(w->wk);
}

int media_worker_size(struct media_worker *w, int fd, uint64_t bytes)
{
	int r = 0;

	worker_lock(w->wk);
	if (w->size_fd >= 0) {
		r = -EBUSY;
	} else {
		w->size_fd = fd;
		w->size_bytes = bytes;
		worker_wake(w->wk);
	}
	worker_unlock(w->wk);
	return r;
}
