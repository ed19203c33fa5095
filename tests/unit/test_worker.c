/*
 * The helper thread of core/worker.c: work handed over under its lock is
 * done in the thread and comes back in the loop; worker_free finishes
 * what was handed over, ends a long job through worker_stopping and
 * joins; each step of worker_new that fails (the eventfd, its place in
 * the loop, the thread) leaves nothing behind. pthread_create is wrapped
 * (-Wl,--wrap, see CMakeLists.txt) so that a test can make it fail.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/core/loop.h"
#include "firmware/core/worker.h"

int __real_pthread_create(pthread_t *th, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg);

static struct {
	bool fail_create;
	struct loop *l;
	struct worker *wk;
	pthread_t main;
	/* Under the worker's lock. */
	bool has_in, has_out;
	int in, out;
	/* The thread's. */
	bool entered_elsewhere;
	bool long_job; /* the job runs until the worker stops */
	atomic_bool running;
	bool saw_stopping;
	/* The loop's. */
	int done_calls;
	bool done_in_main;
	int got;
} t;

int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg)
{
	if (t.fail_create)
		return EAGAIN;
	return __real_pthread_create(th, attr, fn, arg);
}

static void on_enter(void *data)
{
	t.entered_elsewhere = !pthread_equal(pthread_self(), t.main);
}

static bool on_work(struct worker *wk, void *data)
{
	int in = t.in;

	if (!t.has_in)
		return false;
	t.has_in = false;
	worker_unlock(wk);
	atomic_store(&t.running, true);
	while (t.long_job && !worker_stopping(wk))
		usleep(1000);
	t.saw_stopping = worker_stopping(wk);
	worker_lock(wk);
	t.out = 2 * in;
	t.has_out = true;
	worker_notify(wk);
	return true;
}

static void on_done(void *data)
{
	t.done_calls++;
	t.done_in_main = pthread_equal(pthread_self(), t.main);
	worker_lock(t.wk);
	if (t.has_out)
		t.got = t.out;
	t.has_out = false;
	worker_unlock(t.wk);
	loop_quit(t.l);
}

static void on_timeout(void *data)
{
	loop_quit(t.l);
}

static const struct worker_ops ops = {
	.enter = on_enter,
	.work = on_work,
	.done = on_done,
};

static int setup(void **state)
{
	memset(&t, 0, sizeof(t));
	t.main = pthread_self();
	t.l = loop_new();
	assert_non_null(t.l);
	return 0;
}

static int teardown(void **state)
{
	worker_free(t.wk);
	loop_free(t.l);
	return 0;
}

static void hand_over(int in)
{
	worker_lock(t.wk);
	t.in = in;
	t.has_in = true;
	worker_wake(t.wk);
	worker_unlock(t.wk);
}

/* The lowest free descriptor: the number the next eventfd gets. */
static int next_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static void test_work_comes_back_in_the_loop(void **state)
{
	int timer;

	assert_int_equal(worker_new(t.l, &ops, NULL, &t.wk), 0);
	timer = loop_timer_add(t.l, 20000, on_timeout, NULL);
	hand_over(21);
	assert_int_equal(loop_run(t.l), 0);
	loop_timer_cancel(t.l, timer);
	assert_true(t.entered_elsewhere);
	assert_int_equal(t.done_calls, 1);
	assert_true(t.done_in_main);
	assert_int_equal(t.got, 42);
	assert_false(t.saw_stopping);
}

static void test_free_finishes_what_was_handed_over(void **state)
{
	assert_int_equal(worker_new(t.l, &ops, NULL, &t.wk), 0);
	hand_over(5);
	worker_free(t.wk);
	t.wk = NULL;
	/* Done in the thread; the loop, no longer listening, was not told. */
	assert_true(t.has_out);
	assert_int_equal(t.out, 10);
	assert_int_equal(t.done_calls, 0);
}

static void test_free_ends_a_long_job(void **state)
{
	assert_int_equal(worker_new(t.l, &ops, NULL, &t.wk), 0);
	t.long_job = true;
	hand_over(1);
	for (int i = 0; i < 5000 && !atomic_load(&t.running); i++)
		usleep(1000);
	assert_true(atomic_load(&t.running));
	assert_false(worker_stopping(t.wk));
	worker_free(t.wk);
	t.wk = NULL;
	assert_true(t.saw_stopping);
	assert_true(t.has_out);
}

static void test_no_eventfd(void **state)
{
	struct rlimit old, low;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)next_fd();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(worker_new(t.l, &ops, NULL, &t.wk), -EMFILE);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_null(t.wk);
}

static void on_never(int fd, short revents, void *data)
{
	fail();
}

static void test_no_place_in_the_loop(void **state)
{
	int fd = next_fd();

	/* The number the eventfd will get is taken in the loop already. */
	assert_int_equal(loop_fd_add(t.l, fd, POLLIN, on_never, NULL), 0);
	assert_int_equal(worker_new(t.l, &ops, NULL, &t.wk), -EEXIST);
	assert_null(t.wk);
	/* The eventfd was closed. */
	assert_int_equal(next_fd(), fd);
	assert_int_equal(loop_fd_del(t.l, fd), 0);
}

static void test_no_thread(void **state)
{
	int fd = next_fd();

	t.fail_create = true;
	assert_int_equal(worker_new(t.l, &ops, NULL, &t.wk), -EAGAIN);
	assert_null(t.wk);
	/* The eventfd was taken out of the loop and closed. */
	assert_int_equal(loop_fd_del(t.l, fd), -ENOENT);
	assert_int_equal(next_fd(), fd);
	assert_false(t.entered_elsewhere);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_work_comes_back_in_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_free_finishes_what_was_handed_over, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_free_ends_a_long_job,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_eventfd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_place_in_the_loop,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_thread, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
