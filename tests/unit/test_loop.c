/*
 * The event loop: events go to the registration that was polled, not to
 * whatever holds the same fd number by the time they are dispatched, and
 * the loop measures how late it serves timers and fds, and its longest
 * round of CPU work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/core/loop.h"

static struct {
	struct loop *l;
	int victim;    /* the fd number closed and reused in one round */
	int reused[2]; /* the pipe whose read end takes that number */
	int new_calls;
	int old_calls;
} t;

static void on_new(int fd, short revents, void *data)
{
	t.new_calls++;
}

static void on_old(int fd, short revents, void *data)
{
	t.old_calls++;
}

/* Closes the victim and opens an idle pipe under the same number. */
static void on_first(int fd, short revents, void *data)
{
	char c;

	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(loop_fd_del(t.l, t.victim), 0);
	close(t.victim);
	assert_int_equal(pipe(t.reused), 0);
	/* The kernel hands out the lowest free number: usually the same. */
	if (t.reused[0] != t.victim) {
		assert_int_equal(dup2(t.reused[0], t.victim), t.victim);
		close(t.reused[0]);
	}
	assert_int_equal(loop_fd_add(t.l, t.victim, POLLIN, on_new, NULL), 0);
}

static void on_quit(void *data)
{
	loop_quit(t.l);
}

static void test_reused_fd_gets_no_old_events(void **state)
{
	int first[2], victim[2];

	t.l = loop_new();
	assert_non_null(t.l);
	assert_int_equal(pipe(first), 0);
	assert_int_equal(pipe(victim), 0);
	t.victim = victim[0];
	assert_int_equal(write(first[1], "x", 1), 1);
	assert_int_equal(write(victim[1], "x", 1), 1);
	assert_int_equal(loop_fd_add(t.l, first[0], POLLIN, on_first, NULL), 0);
	assert_int_equal(loop_fd_add(t.l, t.victim, POLLIN, on_old, NULL), 0);
	assert_true(loop_timer_add(t.l, 50, on_quit, NULL) > 0);
	assert_int_equal(loop_run(t.l), 0);
	/* The old pipe was readable; the new one never was. */
	assert_int_equal(t.old_calls, 0);
	assert_int_equal(t.new_calls, 0);
	loop_fd_del(t.l, first[0]);
	loop_fd_del(t.l, t.victim);
	close(first[0]);
	close(first[1]);
	close(victim[1]);
	close(t.victim);
	close(t.reused[1]);
	loop_free(t.l);
}

static void on_slow(void *data)
{
	struct timespec ts = {0, 30 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

static void test_lag_is_measured(void **state)
{
	struct loop *l = loop_new();

	t.l = l;
	assert_non_null(l);
	assert_int_equal(loop_max_lag_ms(l), 0);
	/* Two timers due together: the second is served 30 ms late. */
	assert_true(loop_timer_add(l, 1, on_slow, NULL) > 0);
	assert_true(loop_timer_add(l, 1, on_slow, NULL) > 0);
	assert_true(loop_timer_add(l, 80, on_quit, NULL) > 0);
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_max_lag_ms(l) >= 30);
	assert_true(loop_max_lag_ms(l) < 1000);
	loop_free(l);
}

static uint64_t thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_busy(void *data)
{
	uint64_t until = thread_cpu_ms() + 30;

	while (thread_cpu_ms() < until)
		;
}

/* CPU work counts in max_busy; sleeping (the slow timer) does not. */
static void test_busy_is_measured(void **state)
{
	struct loop *l = loop_new();

	t.l = l;
	assert_non_null(l);
	assert_true(loop_timer_add(l, 1, on_slow, NULL) > 0);
	assert_true(loop_timer_add(l, 60, on_quit, NULL) > 0);
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_max_busy_ms(l) < 30);
	loop_free(l);

	l = loop_new();
	t.l = l;
	assert_non_null(l);
	assert_true(loop_timer_add(l, 1, on_busy, NULL) > 0);
	assert_true(loop_timer_add(l, 60, on_quit, NULL) > 0);
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_max_busy_ms(l) >= 29);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reused_fd_gets_no_old_events),
		cmocka_unit_test(test_lag_is_measured),
		cmocka_unit_test(test_busy_is_measured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
