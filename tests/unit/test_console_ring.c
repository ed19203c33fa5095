#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/console/console_history.h"
#include "firmware/console/console_out.h"
#include "firmware/console/console_ring.h"

static void test_fifo_and_wrap(void **state)
{
	struct console_ring r;
	char buf[64];
	size_t dropped = 0;
	int next = 0;

	assert_int_equal(console_ring_init(&r, 100), 0);
	/* Push and pop many more bytes than the capacity: records wrap
	 * around the end, headers included, and stay in order. */
	for (int i = 0; i < 1000; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %d", i);

		assert_int_equal(
			console_ring_push(&r, line, (size_t)n, &dropped), 0);
		if (i % 3 == 2) {
			while (r.count) {
				ssize_t got =
					console_ring_peek(&r, buf, sizeof(buf));

				n = snprintf(line, sizeof(line), "line %d",
					     next++);
				assert_int_equal(got, n);
				assert_memory_equal(buf, line, (size_t)n);
				console_ring_pop(&r);
			}
		}
	}
	assert_int_equal(dropped, 0);
	console_ring_free(&r);
}

static void test_overflow_drops_oldest(void **state)
{
	struct console_ring r;
	char buf[64];
	size_t dropped = 0;

	assert_int_equal(console_ring_init(&r, 40), 0);
	/* Records of 4 + 6 bytes: four fit. */
	for (int i = 0; i < 10; i++) {
		char line[8];

		snprintf(line, sizeof(line), "abc%03d", i);
		assert_int_equal(console_ring_push(&r, line, 6, &dropped), 0);
		assert_true(r.used <= r.cap);
	}
	assert_int_equal(dropped, 6);
	assert_int_equal(r.count, 4);
	assert_int_equal(console_ring_peek(&r, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "abc006", 6);
	assert_int_equal(console_ring_push(&r, buf, 37, &dropped), -E2BIG);
	/* A big record drops as many as it needs. */
	assert_int_equal(console_ring_push(&r, buf, 30, &dropped), 0);
	assert_int_equal(dropped, 10);
	assert_int_equal(r.count, 1);
	console_ring_pop(&r);
	assert_int_equal(r.used, 0);
	assert_int_equal(console_ring_peek(&r, buf, sizeof(buf)), -ENOENT);
	console_ring_free(&r);
}

static void test_history(void **state)
{
	struct console_history h;
	size_t omitted;
	cJSON *arr;
	char *s;

	assert_int_equal(console_history_init(&h, 3), 0);
	arr = console_history_json(&h, 10, &omitted);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
	console_history_add(&h, "one", 3);
	console_history_add(&h, "two", 3);
	console_history_add(&h, "three", 5);
	console_history_add(&h, "four", 4);
	arr = console_history_json(&h, 10, &omitted);
	s = cJSON_PrintUnformatted(arr);
	assert_string_equal(s, "[\"two\",\"three\",\"four\"]");
	cJSON_free(s);
	cJSON_Delete(arr);
	arr = console_history_json(&h, 2, &omitted);
	s = cJSON_PrintUnformatted(arr);
	assert_string_equal(s, "[\"three\",\"four\"]");
	cJSON_free(s);
	cJSON_Delete(arr);
	console_history_free(&h);
	/* No history kept at all. */
	assert_int_equal(console_history_init(&h, 0), 0);
	console_history_add(&h, "x", 1);
	arr = console_history_json(&h, 5, &omitted);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
	console_history_free(&h);
}

/* A reply carries at most CONSOLE_HISTORY_REPLY_MAX bytes of lines: the
 * newest, and the count of those left out. */
static void test_history_capped_by_bytes(void **state)
{
	struct console_history h;
	char line[1000];
	size_t omitted, bytes = 0;
	cJSON *arr, *last;
	int n;

	memset(line, 'x', sizeof(line));
	assert_int_equal(console_history_init(&h, 1000), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "%04d", i);
		line[4] = 'x';
		console_history_add(&h, line, sizeof(line));
	}
	arr = console_history_json(&h, 1000, &omitted);
	n = cJSON_GetArraySize(arr);
	for (int i = 0; i < n; i++)
		bytes += strlen(cJSON_GetArrayItem(arr, i)->valuestring);
	assert_true(bytes <= CONSOLE_HISTORY_REPLY_MAX);
	assert_int_equal((size_t)n + omitted, 1000);
	assert_true(omitted > 0);
	last = cJSON_GetArrayItem(arr, n - 1);
	assert_memory_equal(last->valuestring, "0999", 4);
	cJSON_Delete(arr);
	console_history_free(&h);
}

struct done {
	int calls;
	int err[8];
	size_t written[8], total[8];
	void *req[8];
};

static void on_done(void *data, void *req, int err, size_t written,
		    size_t total)
{
	struct done *d = data;

	d->req[d->calls] = req;
	d->err[d->calls] = err;
	d->written[d->calls] = written;
	d->total[d->calls] = total;
	d->calls++;
}

static void test_out_deadline(void **state)
{
	struct console_out o;
	struct done d = {0};
	int a = 1, b = 2, c = 3;

	console_out_init(&o, on_done, &d);
	assert_int_equal(console_out_add(&o, &a, "abc", 3, 100), 0);
	assert_int_equal(console_out_add(&o, &b, "de", 2, 200), 0);
	assert_int_equal(console_out_add(&o, &c, "", 0, 300), 0);
	assert_int_equal(console_out_deadline(&o), 100);
	console_out_expire(&o, 150);
	assert_int_equal(d.calls, 1);
	assert_ptr_equal(d.req[0], &a);
	assert_int_equal(d.err[0], -ETIMEDOUT);
	assert_int_equal(d.written[0], 0);
	assert_int_equal(d.total[0], 3);
	console_out_fail_all(&o, -EPIPE);
	assert_int_equal(d.calls, 3);
	assert_int_equal(d.err[2], -EPIPE);
	assert_false(console_out_pending(&o));
	assert_int_equal(
		console_out_add(&o, &a, "x", CONSOLE_OUT_BYTES_MAX + 1, 0),
		-ENOSPC);
}

static void test_out_write(void **state)
{
	struct console_out o;
	struct done d = {0};
	int fds[2], a = 1, b = 2;
	char buf[16];

	assert_int_equal(pipe(fds), 0);
	console_out_init(&o, on_done, &d);
	assert_int_equal(console_out_add(&o, &a, "ls\r", 3, 100), 0);
	assert_int_equal(console_out_add(&o, &b, "\x03", 1, 100), 0);
	assert_int_equal(console_out_write(&o, fds[1]), 0);
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.err[0], 0);
	assert_int_equal(d.written[0], 3);
	assert_int_equal(read(fds[0], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ls\r\x03", 4);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_wrap),
		cmocka_unit_test(test_overflow_drops_oldest),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_history_capped_by_bytes),
		cmocka_unit_test(test_out_deadline),
		cmocka_unit_test(test_out_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
