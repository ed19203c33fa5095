/*
 * The media worker thread: SHA-256 sums of real files (known vectors and a
 * file cut short while it is hashed, which must not end the process), and
 * the atomic state-file write, and a longer job (a download) run in the
 * thread: one at a time, a pending save done during it, ended by free;
 * a create's sizing, done during a job too, one at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/core/loop.h"
#include "firmware/media/media_worker.h"

struct run {
	struct loop *loop;
	struct media_worker *w;
	struct media_worker_result res;
	bool got_hash, got_save, got_size;
	bool want_job; /* wait for a job's end, not for a save */
	void *job;
};

static void on_result(void *data, const struct media_worker_result *res)
{
	struct run *r = data;

	if (res->hash_done) {
		r->res = *res;
		r->got_hash = true;
	}
	if (res->save_done) {
		r->res.save_err = res->save_err;
		r->got_save = true;
	}
	if (res->size_done) {
		r->res.size_err = res->size_err;
		r->got_size = true;
	}
	if (res->job_done)
		r->job = res->job_done;
	if (r->want_job ? r->job != NULL
			: (r->got_hash || r->got_save || r->got_size))
		loop_quit(r->loop);
}

static void on_timeout(void *data)
{
	loop_quit(((struct run *)data)->loop);
}

static void run_until_result(struct run *r)
{
	int t = loop_timer_add(r->loop, 20000, on_timeout, r);

	loop_run(r->loop);
	loop_timer_cancel(r->loop, t);
}

/* loop_quit() is final, so every wait gets a loop (and worker) of its own. */
static struct run *run_new(void)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->loop = loop_new();
	assert_non_null(r->loop);
	assert_int_equal(media_worker_new(r->loop, on_result, r, &r->w), 0);
	return r;
}

static void run_free(struct run *r)
{
	media_worker_free(r->w);
	loop_free(r->loop);
	free(r);
}

static int temp_file(const void *data, size_t len, char *path)
{
	int fd;

	snprintf(path, 64, "/tmp/zb-media-worker-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

static void hash_of(const void *data, size_t len, const char *want)
{
	struct run *r = run_new();
	char path[64];
	int fd = temp_file(data, len, path);

	assert_int_equal(media_worker_hash(r->w, fd, 7), 0);
	run_until_result(r);
	unlink(path);
	assert_true(r->got_hash);
	assert_int_equal(r->res.err, 0);
	assert_true(r->res.gen == 7);
	assert_string_equal(r->res.hex, want);
	run_free(r);
}

static void test_known_vectors(void **state)
{
	hash_of("", 0,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8"
		"55");
	hash_of("abc", 3,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
		"ad");
}

static void test_more_than_one_window(void **state)
{
	/* Three 1 MiB windows and a partial fourth. */
	size_t n = 3 * 1000000;
	char *buf = malloc(n);

	memset(buf, 'a', n);
	/* SHA-256 of 3,000,000 'a' bytes, computed with Python's hashlib. */
	hash_of(buf, n,
		"2a152c894398719c0570f83fac34ac03a0f6e8e474b995c2403aa5434f7b9d"
		"d4");
	free(buf);
}

static void test_file_cut_short_while_hashing(void **state)
{
	size_t n = 64 << 20;
	char path[64];
	int errs = 0, oks = 0;

	for (int round = 0; round < 4; round++) {
		struct run *r = run_new();
		int fd = temp_file("", 0, path), hfd;

		assert_int_equal(ftruncate(fd, (off_t)n), 0);
		hfd = open(path, O_RDONLY);
		media_worker_hash(r->w, hfd, 100 + (uint64_t)round);
		/* Give the worker a moment, then take the file away. */
		usleep((useconds_t)(round * 2000));
		assert_int_equal(ftruncate(fd, 4096), 0);
		run_until_result(r);
		assert_true(r->got_hash);
		if (r->res.err == -EIO)
			errs++;
		else if (r->res.err == 0)
			oks++;
		else
			fail_msg("unexpected %d", r->res.err);
		close(fd);
		unlink(path);
		run_free(r);
	}
	fprintf(stderr, "cut short: %d caught (SIGBUS), %d finished first\n",
		errs, oks);
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/zb-media-save-XXXXXX";
	char path[128], tmp[140], back[64] = "";
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/media.state", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(media_write_atomic(path, "image=a.iso\n", 12), 0);
	assert_int_equal(media_write_atomic(path, "image=b.iso\n", 12), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(back, sizeof(back), f));
	fclose(f);
	assert_string_equal(back, "image=b.iso\n");
	assert_int_equal(access(tmp, F_OK), -1);
	unlink(path);
	/* A folder that does not exist is an error, not a crash. */
	assert_int_equal(
		media_write_atomic("/nonexistent/zb/media.state", "x", 1),
		-ENOENT);
	rmdir(dir);
}

static void test_save_in_the_thread(void **state)
{
	struct run *r = run_new();
	char dir[] = "/tmp/zb-media-save-XXXXXX";
	char path[128];
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/media.state", dir);
	media_worker_save(r->w, path, strdup("image=c.iso\n"));
	run_until_result(r);
	assert_true(r->got_save);
	assert_int_equal(r->res.save_err, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 12);
	unlink(path);
	rmdir(dir);
	run_free(r);
}

struct job {
	struct media_worker *w;
	char path[128];
	bool saw_save; /* the state file appeared while the job ran */
	atomic_bool running;
	bool stopped; /* media_worker_stopping() ended it */
};

/* Waits (at most 5 s) for the pending save, done through yield. */
static void job_wait_save(struct media_worker *w, void *arg)
{
	struct job *j = arg;
	struct stat st;

	for (int i = 0; i < 5000 && !j->saw_save; i++) {
		media_worker_yield(w);
		j->saw_save = !stat(j->path, &st);
		usleep(1000);
	}
}

static void test_job_in_the_thread(void **state)
{
	struct run *r = run_new();
	struct job j = {.w = r->w};
	char dir[] = "/tmp/zb-media-job-XXXXXX";

	assert_non_null(mkdtemp(dir));
	snprintf(j.path, sizeof(j.path), "%s/media.state", dir);
	assert_int_equal(media_worker_run(r->w, job_wait_save, &j), 0);
	assert_int_equal(media_worker_run(r->w, job_wait_save, &j), -EBUSY);
	media_worker_save(r->w, j.path, strdup("image=d.iso\n"));
	r->want_job = true;
	run_until_result(r);
	assert_ptr_equal(r->job, &j);
	assert_true(j.saw_save);
	unlink(j.path);
	rmdir(dir);
	run_free(r);
}

/* Runs until the worker is freed. */
static void job_until_stopped(struct media_worker *w, void *arg)
{
	struct job *j = arg;

	atomic_store(&j->running, true);
	for (int i = 0; i < 10000 && !media_worker_stopping(w); i++)
		usleep(1000);
	j->stopped = media_worker_stopping(w);
}

static void test_free_ends_a_job(void **state)
{
	struct run *r = run_new();
	struct job j = {.w = r->w};

	assert_int_equal(media_worker_run(r->w, job_until_stopped, &j), 0);
	for (int i = 0; i < 5000 && !atomic_load(&j.running); i++)
		usleep(1000);
	assert_true(atomic_load(&j.running));
	run_free(r); /* joins the thread: the job has ended */
	assert_true(j.stopped);
}

/* Waits (at most 5 s) until the file is grown, through yield. */
static void job_wait_size(struct media_worker *w, void *arg)
{
	struct job *j = arg;
	struct stat st;

	for (int i = 0; i < 5000 && !j->saw_save; i++) {
		media_worker_yield(w);
		j->saw_save = !stat(j->path, &st) && st.st_size == 200 << 20;
		usleep(1000);
	}
}

/* A create's sizing: in steps, during a running job, one at a time. */
static void test_size_during_a_job(void **state)
{
	struct run *r = run_new();
	struct job j = {.w = r->w};
	int fd = temp_file("", 0, j.path);

	assert_int_equal(media_worker_run(r->w, job_wait_size, &j), 0);
	assert_int_equal(media_worker_size(r->w, fd, 200 << 20), 0);
	r->want_job = true;
	run_until_result(r);
	assert_ptr_equal(r->job, &j);
	assert_true(j.saw_save);
	/* The size's own result came with or before the job's. */
	assert_true(r->got_size);
	assert_int_equal(r->res.size_err, 0);
	unlink(j.path);
	run_free(r);
}

static void test_size_refused_while_pending(void **state)
{
	struct run *r = run_new();
	struct job j = {.w = r->w};
	char path[64];
	int fd = temp_file("", 0, path), fd2 = dup(fd);

	/* The worker is busy with a job that does not yield for a while. */
	assert_int_equal(media_worker_run(r->w, job_until_stopped, &j), 0);
	for (int i = 0; i < 5000 && !atomic_load(&j.running); i++)
		usleep(1000);
	assert_int_equal(media_worker_size(r->w, fd, 1 << 20), 0);
	assert_int_equal(media_worker_size(r->w, fd2, 1 << 20), -EBUSY);
	close(fd2);
	run_free(r); /* closes the pending descriptor */
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_more_than_one_window),
		cmocka_unit_test(test_file_cut_short_while_hashing),
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_save_in_the_thread),
		cmocka_unit_test(test_job_in_the_thread),
		cmocka_unit_test(test_free_ends_a_job),
		cmocka_unit_test(test_size_during_a_job),
		cmocka_unit_test(test_size_refused_while_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
