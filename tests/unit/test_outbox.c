/*
 * The outbox against a stand-in session: this file defines the two
 * mqtt_* functions the outbox calls, so the linker takes these instead
 * of the Paho session.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/core/loop.h"
#include "firmware/net/mqtt.h"
#include "firmware/net/outbox.h"

#define SENT_MAX 256

static struct {
	int answer; /* what mqtt_publish returns: 0, -EAGAIN, -ENOTCONN */
	bool window_full;
	char sent[SENT_MAX][32];
	int qos[SENT_MAX];
	int n_sent;
	int space_calls;
} fake;

int mqtt_publish(struct mqtt *m, const char *topic, const void *payload,
		 size_t len, int qos, bool retain, const void *correlation,
		 size_t correlation_len)
{
	if (fake.answer)
		return fake.answer;
	assert_true(fake.n_sent < SENT_MAX);
	snprintf(fake.sent[fake.n_sent], sizeof(fake.sent[0]), "%.*s", (int)len,
		 (const char *)payload);
	fake.qos[fake.n_sent++] = qos;
	return 0;
}

bool mqtt_window_full(const struct mqtt *m)
{
	return fake.window_full;
}

/* QoS 1 goes this way: acknowledged at once, or held for the test. */
static struct {
	bool hold;
	mqtt_acked_fn fn;
	void *data;
	uint64_t tag[SENT_MAX];
	int n;
	unsigned int session;
} acks;

int mqtt_publish_tracked(struct mqtt *m, const char *topic, const void *payload,
			 size_t len, bool retain, const void *correlation,
			 size_t correlation_len, mqtt_acked_fn fn, void *data,
			 uint64_t tag, bool quiet)
{
	int r = mqtt_publish(m, topic, payload, len, 1, retain, correlation,
			     correlation_len);

	if (r)
		return r;
	if (!acks.hold) {
		fn(data, tag, true);
		return 0;
	}
	acks.fn = fn;
	acks.data = data;
	acks.tag[acks.n++] = tag;
	return 0;
}

unsigned int mqtt_session(const struct mqtt *m)
{
	return acks.session;
}

static void on_space(void *data)
{
	fake.space_calls++;
}

/* Each test gets a fresh stand-in, a loop and an outbox on it. */
static struct loop *loop;

static int setup(void **state)
{
	struct outbox *o;

	memset(&fake, 0, sizeof(fake));
	memset(&acks, 0, sizeof(acks));
	loop = loop_new();
	if (!loop || outbox_new(loop, NULL, &o))
		return -1;
	*state = o;
	return 0;
}

static int teardown(void **state)
{
	outbox_free(*state);
	loop_free(loop);
	return 0;
}

static void put(struct outbox *o, int i, int qos)
{
	char p[32];
	int n = snprintf(p, sizeof(p), "%s%d", qos ? "r" : "e", i);

	assert_int_equal(
		outbox_publish(o, "t", p, (size_t)n, qos, false, NULL, 0), 0);
}

static void test_direct_when_empty(void **state)
{
	struct outbox *o = *state;

	put(o, 1, 1);
	assert_int_equal(fake.n_sent, 1);
	assert_string_equal(fake.sent[0], "r1");
	assert_int_equal(outbox_pending(o), 0);
}

static void test_kept_in_order_then_flushed(void **state)
{
	struct outbox *o = *state;

	outbox_on_space(o, on_space, NULL);
	fake.answer = -EAGAIN;
	for (int i = 0; i < OUTBOX_BUSY; i++) {
		assert_false(outbox_busy(o));
		put(o, i, 1);
	}
	/* Busy: the agent takes no more commands now. */
	assert_true(outbox_busy(o));
	assert_int_equal(fake.n_sent, 0);
	/* A publish while messages wait goes behind them. */
	fake.answer = 0;
	put(o, 99, 1);
	assert_int_equal(fake.n_sent, 0);
	outbox_flush(o);
	assert_int_equal(fake.n_sent, OUTBOX_BUSY + 1);
	for (int i = 0; i < OUTBOX_BUSY; i++) {
		char want[8];

		snprintf(want, sizeof(want), "r%d", i);
		assert_string_equal(fake.sent[i], want);
	}
	assert_string_equal(fake.sent[OUTBOX_BUSY], "r99");
	assert_int_equal(fake.space_calls, 1);
	assert_int_equal(outbox_dropped(o), 0);
}

static void test_full_drops_events_before_results(void **state)
{
	struct outbox *o = *state;
	int results = 0;

	fake.answer = -ENOTCONN;
	/* Half results, half events, then more results than room. */
	for (int i = 0; i < OUTBOX_MAX; i++)
		put(o, i, i % 2);
	for (int i = 0; i < OUTBOX_MAX / 2; i++)
		put(o, 100 + i, 1);
	assert_int_equal(outbox_pending(o), OUTBOX_MAX);
	assert_int_equal(outbox_dropped(o), OUTBOX_MAX / 2);
	fake.answer = 0;
	outbox_flush(o);
	assert_int_equal(fake.n_sent, OUTBOX_MAX);
	/* Every event went; every result stayed, in order. */
	for (int i = 0; i < fake.n_sent; i++) {
		assert_int_equal(fake.qos[i], 1);
		results++;
	}
	assert_int_equal(results, OUTBOX_MAX);
	assert_string_equal(fake.sent[0], "r1");
	assert_string_equal(fake.sent[OUTBOX_MAX / 2 - 1], "r63");
	assert_string_equal(fake.sent[OUTBOX_MAX / 2], "r100");
	/* With nothing but results, the oldest result goes. */
	fake.answer = -ENOTCONN;
	for (int i = 0; i < OUTBOX_MAX + 1; i++)
		put(o, 200 + i, 1);
	fake.answer = 0;
	fake.n_sent = 0;
	outbox_flush(o);
	assert_string_equal(fake.sent[0], "r201");
	assert_int_equal(outbox_dropped(o), OUTBOX_MAX / 2 + 1);
}

static void test_waits_for_window(void **state)
{
	struct outbox *o = *state;

	fake.window_full = true;
	/* Results wait for the broker's window; events do not. */
	put(o, 1, 1);
	assert_int_equal(fake.n_sent, 0);
	assert_int_equal(outbox_pending(o), 1);
	outbox_flush(o);
	assert_int_equal(fake.n_sent, 0);
	fake.window_full = false;
	outbox_flush(o);
	assert_int_equal(fake.n_sent, 1);
	fake.window_full = true;
	put(o, 2, 0);
	assert_int_equal(fake.n_sent, 2);
	assert_string_equal(fake.sent[1], "e2");
}

/* A result stays until the broker acknowledges it, and goes again in a
 * new session if the old one ended first (a cut link must not lose it). */
static void test_result_kept_until_acknowledged(void **state)
{
	struct outbox *o = *state;

	acks.hold = true;
	put(o, 1, 1);
	put(o, 2, 0);
	outbox_flush(o);
	assert_int_equal(fake.n_sent, 2);
	assert_int_equal(outbox_pending(o), 1);
	/* The link drops; a new session begins: r1 goes again. */
	acks.session++;
	acks.n = 0;
	outbox_flush(o);
	assert_int_equal(fake.n_sent, 3);
	assert_string_equal(fake.sent[2], "r1");
	assert_int_equal(outbox_pending(o), 1);
	acks.fn(acks.data, acks.tag[0], true);
	assert_int_equal(outbox_pending(o), 0);
	assert_int_equal(outbox_dropped(o), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_direct_when_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kept_in_order_then_flushed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_full_drops_events_before_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_window, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_result_kept_until_acknowledged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
