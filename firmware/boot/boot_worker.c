#include "firmware/boot/boot_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firmware/core/worker.h"

struct boot_worker {
	boot_worker_cb cb;
	void *data;
	struct worker *wk;
	/* Under the worker's lock. */
	struct boot_work *job;	/* handed to the thread */
	struct boot_work *done; /* handed back */
	bool running;		/* in the loop's view: submitted, not back */
};

/* mtools refuses images whose FAT geometry is not a floppy's unless told. */
static char *const boot_worker_env[] = {
	"MTOOLS_SKIP_CHECK=1",
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	NULL,
};

static uint64_t boot_worker_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int boot_worker_find(const char *name, char *path, size_t len)
{
	static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin",
					   "/bin"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, len, "%s/%s", dirs[i], name);
		if (!access(path, X_OK))
			return 0;
	}
	return -ENOENT;
}

/* Read what the child prints until it closes the pipe or the deadline. */
static int boot_worker_collect(int fd, struct boot_work *w, uint64_t end_ms)
{
	size_t cap = BOOT_WORK_OUT_MAX + 1;

	w->out = malloc(cap + 1);
	if (!w->out)
		return -ENOMEM;
	w->out_len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = boot_worker_now_ms();
		ssize_t n;

		if (now >= end_ms)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(end_ms - now)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w->out_len < cap)
			n = read(fd, w->out + w->out_len, cap - w->out_len);
		else {
			char sink[4096];

			n = read(fd, sink, sizeof(sink));
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (w->out_len < cap)
			w->out_len += (size_t)n;
	}
}

static int boot_worker_step(const struct boot_work_step *s, struct boot_work *w)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char path[256];
	sigset_t none;
	int pipefd[2], status, r;
	pid_t pid;

	free(w->out);
	w->out = NULL;
	w->out_len = 0;
	if (boot_worker_find(s->argv[0], path, sizeof(path))) {
		snprintf(w->msg, sizeof(w->msg), "%s: not installed",
			 s->argv[0]);
		return -ENOENT;
	}
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawnattr_init(&attr);
	/* The agent blocks its signals for its signalfd: the child must not
	 * inherit that. */
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	r = -posix_spawn(&pid, path, &fa, &attr, (char *const *)s->argv,
			 boot_worker_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (r) {
		close(pipefd[0]);
		snprintf(w->msg, sizeof(w->msg), "%s: %s", s->argv[0],
			 strerror(-r));
		return r;
	}
	r = boot_worker_collect(pipefd[0], w,
				boot_worker_now_ms() + BOOT_WORK_PROGRAM_MS);
	close(pipefd[0]);
	if (r)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (w->out) {
		w->truncated = w->out_len > BOOT_WORK_OUT_MAX;
		if (w->truncated)
			w->out_len = BOOT_WORK_OUT_MAX;
		w->out[w->out_len] = '\0';
	}
	if (r == -ETIMEDOUT)
		snprintf(w->msg, sizeof(w->msg), "%s: killed after %u ms",
			 s->argv[0], BOOT_WORK_PROGRAM_MS);
	else if (!r && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		/* The first line of what it said is the reason. */
		snprintf(w->msg, sizeof(w->msg), "%s failed: %.*s", s->argv[0],
			 w->out ? (int)strcspn(w->out, "\n") : 0,
			 w->out ? w->out : "");
		r = -ENOENT;
	}
	return r;
}

/* In the thread, under the lock: the job handed over, to its end. */
static bool boot_worker_work(struct worker *wk, void *data)
{
	struct boot_worker *w = data;
	struct boot_work *job = w->job;
	uint64_t t0;

	if (!job)
		return false;
	worker_unlock(wk);
	t0 = boot_worker_now_ms();
	job->err = 0;
	job->msg[0] = '\0';
	for (size_t i = 0; !job->err && i < job->n_steps; i++)
		job->err = boot_worker_step(&job->steps[i], job);
	job->ms = boot_worker_now_ms() - t0;
	worker_lock(wk);
	w->job = NULL;
	w->done = job;
	worker_notify(wk);
	return true;
}

static void boot_worker_deliver(struct boot_worker *w, struct boot_work *done)
{
	w->running = false;
	(done->done ? done->done : w->cb)(w->data, done);
}

static void boot_worker_on_done(void *data)
{
	struct boot_worker *w = data;
	struct boot_work *done;

	worker_lock(w->wk);
	done = w->done;
	w->done = NULL;
	worker_unlock(w->wk);
	if (done)
		boot_worker_deliver(w, done);
}

static const struct worker_ops boot_worker_ops = {
	.work = boot_worker_work,
	.done = boot_worker_on_done,
};

int boot_worker_new(struct loop *l, boot_worker_cb cb, void *data,
		    struct boot_worker **out)
{
	struct boot_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->data = data;
	r = worker_new(l, &boot_worker_ops, w, &w->wk);
	if (r)
		free(w);
	else
		*out = w;
	return r;
}

void boot_worker_free(struct boot_worker *w)
{
	if (!w)
		return;
	worker_free(w->wk);
	/* A job that ended after the loop stopped listening. */
	if (w->done)
		boot_worker_deliver(w, w->done);
	free(w);
}

int boot_worker_submit(struct boot_worker *w, struct boot_work *work)
{
	if (w->running)
		return -EBUSY;
	free(work->out);
	work->out = NULL;
	work->out_len = 0;
	work->truncated = 0;
	worker_lock(w->wk);
	w->job = work;
	worker_wake(w->wk);
	worker_unlock(w->wk);
	w->running = true;
	return 0;
}

int boot_worker_busy(const struct boot_worker *w)
{
	return w->running;
}
