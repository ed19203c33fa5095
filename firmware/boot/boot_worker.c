#include "firmware/boot/boot_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct boot_worker {
	struct loop *loop;
	boot_worker_cb cb;
	void *data;
	int efd;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu. */
	bool quit;
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

static void *boot_worker_main(void *arg)
{
	struct boot_worker *w = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct boot_work *job;
		uint64_t t0;

		while (!w->quit && !w->job)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->job)
			break;
		job = w->job;
		pthread_mutex_unlock(&w->mu);
		t0 = boot_worker_now_ms();
		job->err = 0;
		job->msg[0] = '\0';
		for (size_t i = 0; !job->err && i < job->n_steps; i++)
			job->err = boot_worker_step(&job->steps[i], job);
		job->ms = boot_worker_now_ms() - t0;
		pthread_mutex_lock(&w->mu);
		w->job = NULL;
		w->done = job;
		if (write(w->efd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow with one job. */
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void boot_worker_on_event(int fd, short revents, void *data)
{
	struct boot_worker *w = data;
	struct boot_work *done;
	uint64_t n;

	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&w->mu);
	done = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->mu);
	if (!done)
		return;
	w->running = false;
	(done->done ? done->done : w->cb)(w->data, done);
}

int boot_worker_new(struct loop *l, boot_worker_cb cb, void *data,
		    struct boot_worker **out)
{
	struct boot_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->loop = l;
	w->cb = cb;
	w->data = data;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = loop_fd_add(l, w->efd, POLLIN, boot_worker_on_event, w);
	if (r)
		goto fail;
	r = -pthread_create(&w->thread, NULL, boot_worker_main, w);
	if (r) {
		loop_fd_del(l, w->efd);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	if (w->efd >= 0)
		close(w->efd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	return r;
}

void boot_worker_free(struct boot_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	loop_fd_del(w->loop, w->efd);
	close(w->efd);
	/* A job that ended after the loop stopped listening. */
	if (w->done) {
		w->running = false;
		(w->done->done ? w->done->done : w->cb)(w->data, w->done);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
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
	pthread_mutex_lock(&w->mu);
	w->job = work;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->running = true;
	return 0;
}

int boot_worker_busy(const struct boot_worker *w)
{
	return w->running;
}
