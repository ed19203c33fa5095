/*
 * Power through the GPIO ops seam with the fake backend, on a real loop:
 * press timing, lines never active at start, busy, state checks, the
 * inference table, the LED, Wake-on-LAN bytes and USB remote wakeup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/core/addr.h"
#include "firmware/power/power.h"
#include "tests/fake/power_fake.h"

/* Timer slack allowed on a loaded 2-core machine. */
#define SLACK_MS 60

struct run {
	struct loop *loop;
	struct power *p;
	int calls;
	int err;
	char msg[400];
	cJSON *extra;
	int changed;
	int guard;
};

static void on_done(void *data, int err, const char *msg, cJSON *extra)
{
	struct run *r = data;

	r->calls++;
	r->err = err;
	snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
	cJSON_Delete(r->extra);
	r->extra = extra;
	loop_quit(r->loop);
}

static void on_changed(void *data)
{
	((struct run *)data)->changed++;
}

static void on_guard(void *data)
{
	struct run *r = data;

	r->guard = 0;
	loop_quit(r->loop);
}

/* Run the loop until done() or quit after ms. */
static void run_for(struct run *r, uint64_t ms)
{
	r->guard = loop_timer_add(r->loop, ms, on_guard, r);
	loop_run(r->loop);
	if (r->guard)
		loop_timer_cancel(r->loop, r->guard);
	r->guard = 0;
}

static struct power_cfg fake_cfg(int power, int reset, int led)
{
	struct power_cfg c = {
		.ops = &power_fake_ops,
		.gpio = {.chip = "/dev/gpiochip-fake",
			 .line = {power, reset, led},
			 .consumer = "test"},
		.short_press_ms = 60,
		.long_press_ms = 200,
		.cycle_wait_ms = 100,
		.wake_wait_ms = 150,
	};
	return c;
}

static void setup_run(struct run *r, const struct power_cfg *c)
{
	char err[400];

	memset(r, 0, sizeof(*r));
	r->loop = loop_new();
	assert_non_null(r->loop);
	assert_int_equal(
		power_new(r->loop, c, on_changed, r, &r->p, err, sizeof(err)),
		0);
	assert_string_equal(err, "");
}

static void teardown_run(struct run *r)
{
	power_free(r->p);
	loop_free(r->loop);
	cJSON_Delete(r->extra);
}

static const struct power_fake_rec *recs(struct run *r, size_t *n)
{
	return power_fake_records(power_gpio_ctx(r->p), n);
}

/* The sets (not requests) of one line, in order. */
static size_t sets_of(struct run *r, enum power_line line,
		      struct power_fake_rec *out, size_t max)
{
	size_t n, k = 0;
	const struct power_fake_rec *rec = recs(r, &n);

	for (size_t i = 0; i < n; i++)
		if (!rec[i].request && rec[i].line == line && k < max)
			out[k++] = rec[i];
	return k;
}

static long ms_between(const struct power_fake_rec *a,
		       const struct power_fake_rec *b)
{
	return (long)((b->t_us - a->t_us) / 1000);
}

static void assert_held(long ms, long want)
{
	if (ms < want || ms > want + SLACK_MS)
		fail_msg("held %ld ms, wanted %ld (+%d)", ms, want, SLACK_MS);
}

static const char *extra_str(struct run *r, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(r->extra, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- start-up and release ---- */

static void test_never_active_at_start(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, 22);
	const struct power_fake_rec *rec;
	struct run r;
	size_t n;

	setup_run(&r, &c);
	/* Both outputs were claimed, at their inactive value. */
	rec = recs(&r, &n);
	assert_int_equal(n, 2);
	assert_true(rec[0].request && rec[0].line == POWER_LINE_POWER);
	assert_true(rec[1].request && rec[1].line == POWER_LINE_RESET);
	assert_false(rec[0].active);
	assert_false(rec[1].active);
	assert_true(power_wired(r.p, POWER_LINE_POWER));
	assert_true(power_wired(r.p, POWER_LINE_RESET));
	assert_true(power_wired(r.p, POWER_LINE_LED));
	/* Idle time drives nothing. */
	run_for(&r, 100);
	rec = recs(&r, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_false(rec[i].active);
	teardown_run(&r);
}

/* The fake's record file outlives the context: read it after free. */
static void test_release_mid_press_goes_inactive(void **unused)
{
	struct power_cfg c = fake_cfg(17, -1, -1);
	char path[] = "/tmp/zbpowerchipXXXXXX";
	char text[1024] = "", err[200], *last;
	struct run r;
	ssize_t n;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	c.gpio.chip = path;
	setup_run(&r, &c);
	assert_int_equal(power_start(r.p, POWER_ACT_FORCE_OFF, true, on_done,
				     &r, err, sizeof(err)),
			 0);
	assert_ptr_equal(power_pending(r.p), &r);
	run_for(&r, 50);
	assert_int_equal(r.calls, 0);
	/* Stopping mid-press lets go of the button, with no callback. */
	teardown_run(&r);
	assert_int_equal(r.calls, 0);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	text[n] = '\0';
	assert_non_null(strstr(text, " power req 0\n"));
	assert_non_null(strstr(text, " power set 1\n"));
	text[n - 1] = '\0';
	last = strrchr(text, '\n');
	assert_non_null(last);
	assert_non_null(strstr(last, " power set 0"));
}

static void cancel_now(void *data)
{
	power_cancel(((struct run *)data)->p);
}

static void test_cancel_mid_press(void **unused)
{
	struct power_cfg c = fake_cfg(17, -1, -1);
	struct power_fake_rec s[8];
	char err[200];
	struct run r;

	setup_run(&r, &c);
	assert_int_equal(power_start(r.p, POWER_ACT_FORCE_OFF, true, on_done,
				     &r, err, sizeof(err)),
			 0);
	loop_timer_add(r.loop, 30, cancel_now, &r);
	run_for(&r, 2000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, -ECANCELED);
	assert_false(power_busy(r.p));
	assert_int_equal(sets_of(&r, POWER_LINE_POWER, s, 8), 2);
	assert_false(s[1].active);
	if (ms_between(&s[0], &s[1]) >= 200)
		fail_msg("the press ran its course");
	teardown_run(&r);
}

/* ---- press timing ---- */

static void test_on_short_press(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	struct power_fake_rec s[8];
	char err[200];
	struct run r;

	setup_run(&r, &c);
	power_set_usb(r.p, UDC_STATE_NOT_ATTACHED);
	assert_int_equal(power_start(r.p, POWER_ACT_ON, false, on_done, &r, err,
				     sizeof(err)),
			 0);
	assert_true(power_busy(r.p));
	run_for(&r, 2000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, 0);
	assert_false(power_busy(r.p));
	assert_int_equal(sets_of(&r, POWER_LINE_POWER, s, 8), 2);
	assert_true(s[0].active);
	assert_false(s[1].active);
	assert_held(ms_between(&s[0], &s[1]), 60);
	assert_int_equal(sets_of(&r, POWER_LINE_RESET, s, 8), 0);
	assert_string_equal(extra_str(&r, "action"), "on");
	assert_string_equal(extra_str(&r, "state_before"), "off");
	assert_string_equal(extra_str(&r, "source"), "usb");
	teardown_run(&r);
}

static void test_force_off_long_press(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	struct power_fake_rec s[8];
	char err[200];
	struct run r;

	setup_run(&r, &c);
	power_set_usb(r.p, UDC_STATE_NOT_ATTACHED); /* not checked */
	assert_int_equal(power_start(r.p, POWER_ACT_FORCE_OFF, false, on_done,
				     &r, err, sizeof(err)),
			 0);
	run_for(&r, 2000);
	assert_int_equal(r.err, 0);
	assert_int_equal(sets_of(&r, POWER_LINE_POWER, s, 8), 2);
	assert_held(ms_between(&s[0], &s[1]), 200);
	teardown_run(&r);
}

static void test_reset_uses_reset_line(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	struct power_fake_rec s[8];
	char err[200];
	struct run r;

	setup_run(&r, &c);
	power_set_usb(r.p, UDC_STATE_CONFIGURED);
	assert_int_equal(power_start(r.p, POWER_ACT_RESET, false, on_done, &r,
				     err, sizeof(err)),
			 0);
	run_for(&r, 2000);
	assert_int_equal(r.err, 0);
	assert_int_equal(sets_of(&r, POWER_LINE_POWER, s, 8), 0);
	assert_int_equal(sets_of(&r, POWER_LINE_RESET, s, 8), 2);
	assert_true(s[0].active);
	assert_held(ms_between(&s[0], &s[1]), 60);
	teardown_run(&r);
}

static void test_cycle_sequence(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	struct power_fake_rec s[8];
	char err[200];
	struct run r;

	setup_run(&r, &c);
	power_set_usb(r.p, UDC_STATE_CONFIGURED);
	assert_int_equal(power_start(r.p, POWER_ACT_CYCLE, false, on_done, &r,
				     err, sizeof(err)),
			 0);
	run_for(&r, 3000);
	assert_int_equal(r.err, 0);
	assert_int_equal(sets_of(&r, POWER_LINE_POWER, s, 8), 4);
	assert_true(s[0].active && !s[1].active && s[2].active && !s[3].active);
	assert_held(ms_between(&s[0], &s[1]), 200); /* long press */
	assert_held(ms_between(&s[1], &s[2]), 100); /* cycle wait */
	assert_held(ms_between(&s[2], &s[3]), 60);  /* short press */
	teardown_run(&r);
}

static void test_cycle_of_an_off_server_only_presses_on(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	struct power_fake_rec s[8];
	char err[200];
	struct run r;

	setup_run(&r, &c);
	power_set_usb(r.p, UDC_STATE_NOT_ATTACHED);
	assert_int_equal(power_start(r.p, POWER_ACT_CYCLE, false, on_done, &r,
				     err, sizeof(err)),
			 0);
	run_for(&r, 3000);
	assert_int_equal(sets_of(&r, POWER_LINE_POWER, s, 8), 2);
	assert_held(ms_between(&s[0], &s[1]), 60);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		r.extra, "skipped_force_off")));
	teardown_run(&r);
}

/* ---- refusals ---- */

/*
 * loop_run() returns for good after loop_quit(), so each test runs its
 * loop once; several phases are driven by timers within that run.
 */
static void test_busy(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	struct power_fake_rec s[8];
	char err[200];
	struct run r;

	setup_run(&r, &c);
	assert_int_equal(power_start(r.p, POWER_ACT_FORCE_OFF, true, on_done,
				     &r, err, sizeof(err)),
			 0);
	assert_int_equal(power_start(r.p, POWER_ACT_RESET, true, on_done, &r,
				     err, sizeof(err)),
			 -EBUSY);
	assert_non_null(strstr(err, "force_off is in progress"));
	assert_int_equal(power_start(r.p, POWER_ACT_WAKE, true, on_done, &r,
				     err, sizeof(err)),
			 -EBUSY);
	run_for(&r, 2000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, 0);
	/* The refused reset never touched its line. */
	assert_int_equal(sets_of(&r, POWER_LINE_RESET, s, 8), 0);
	/* Free again: the next action starts and presses at once. */
	assert_false(power_busy(r.p));
	assert_int_equal(power_start(r.p, POWER_ACT_RESET, true, on_done, &r,
				     err, sizeof(err)),
			 0);
	assert_int_equal(sets_of(&r, POWER_LINE_RESET, s, 8), 1);
	assert_true(s[0].active);
	teardown_run(&r);
}

static void test_state_checks(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	struct power_fake_rec s[8];
	char err[300];
	struct run r;

	setup_run(&r, &c);
	power_set_usb(r.p, UDC_STATE_CONFIGURED);
	assert_int_equal(power_start(r.p, POWER_ACT_ON, false, on_done, &r, err,
				     sizeof(err)),
			 -EALREADY);
	assert_non_null(strstr(err, "looks on"));
	assert_non_null(strstr(err, "\"force\": true"));
	power_set_usb(r.p, UDC_STATE_NOT_ATTACHED);
	assert_int_equal(power_start(r.p, POWER_ACT_OFF, false, on_done, &r,
				     err, sizeof(err)),
			 -EALREADY);
	assert_non_null(strstr(err, "looks off"));
	power_set_usb(r.p, UDC_STATE_SUSPENDED);
	assert_int_equal(power_start(r.p, POWER_ACT_OFF, false, on_done, &r,
				     err, sizeof(err)),
			 -EALREADY);
	assert_non_null(strstr(err, "asleep"));
	/* Nothing was pressed by any refusal. */
	assert_int_equal(sets_of(&r, POWER_LINE_POWER, s, 8), 0);
	/* An unknown state does not block. */
	power_set_usb(r.p, UDC_STATE_UNKNOWN);
	assert_int_equal(power_start(r.p, POWER_ACT_OFF, false, on_done, &r,
				     err, sizeof(err)),
			 0);
	run_for(&r, 2000);
	assert_int_equal(r.calls, 1);
	assert_string_equal(extra_str(&r, "state_before"), "unknown");
	assert_string_equal(extra_str(&r, "source"), "none");
	/* force overrides what the state says. */
	power_set_usb(r.p, UDC_STATE_CONFIGURED);
	assert_int_equal(power_start(r.p, POWER_ACT_ON, true, on_done, &r, err,
				     sizeof(err)),
			 0);
	assert_int_equal(sets_of(&r, POWER_LINE_POWER, s, 8), 3);
	assert_true(s[2].active);
	teardown_run(&r);
}

static void test_not_wired(void **unused)
{
	struct power_cfg c = fake_cfg(-1, -1, -1);
	char err[300];
	struct run r;

	c.gpio.chip = "";
	setup_run(&r, &c);
	assert_int_equal(power_start(r.p, POWER_ACT_ON, true, on_done, &r, err,
				     sizeof(err)),
			 -ENODEV);
	assert_string_equal(
		err,
		"no power pin wired: set [power] gpio_chip and power_line");
	assert_int_equal(power_start(r.p, POWER_ACT_RESET, true, on_done, &r,
				     err, sizeof(err)),
			 -ENODEV);
	assert_string_equal(
		err,
		"no reset pin wired: set [power] gpio_chip and reset_line");
	assert_false(power_busy(r.p));
	teardown_run(&r);

	/* Configured, but no backend in this build. */
	c = fake_cfg(17, -1, -1);
	c.ops = NULL;
	memset(&r, 0, sizeof(r));
	r.loop = loop_new();
	assert_int_equal(
		power_new(r.loop, &c, NULL, NULL, &r.p, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "without libgpiod"));
	assert_int_equal(power_start(r.p, POWER_ACT_FORCE_OFF, true, on_done,
				     &r, err, sizeof(err)),
			 -ENODEV);
	assert_non_null(strstr(err, "without GPIO support"));
	power_free(r.p);
	loop_free(r.loop);
}

/* The libgpiod backend, where this build has it: a missing chip is an
 * error naming the key and the path, and the module runs on unwired. */
static void test_gpiod_missing_chip(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	char err[400];
	struct run r;

	c.ops = power_gpiod_ops();
	if (!c.ops)
		skip();
	c.gpio.chip = "/dev/gpiochip-zerobmc-test-none";
	memset(&r, 0, sizeof(r));
	r.loop = loop_new();
	assert_int_equal(
		power_new(r.loop, &c, NULL, NULL, &r.p, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "[power] gpio_chip "
				    "/dev/gpiochip-zerobmc-test-none"));
	assert_false(power_wired(r.p, POWER_LINE_POWER));
	assert_int_equal(power_start(r.p, POWER_ACT_RESET, true, on_done, &r,
				     err, sizeof(err)),
			 -ENODEV);
	assert_non_null(strstr(err, "could not be claimed at start"));
	power_free(r.p);
	loop_free(r.loop);
}

static void test_set_failure(void **unused)
{
	struct power_cfg c = fake_cfg(17, 27, -1);
	char err[300];
	bool v = true;
	struct run r;

	setup_run(&r, &c);
	power_fake_fail_next(power_gpio_ctx(r.p), EIO);
	assert_int_equal(power_start(r.p, POWER_ACT_FORCE_OFF, true, on_done,
				     &r, err, sizeof(err)),
			 -EIO);
	assert_non_null(strstr(err, "power line active failed"));
	assert_false(power_busy(r.p));
	power_fake_ops.get(power_gpio_ctx(r.p), POWER_LINE_POWER, &v);
	assert_false(v);
	teardown_run(&r);
}

/* ---- state ---- */

static void test_inference_table(void **unused)
{
	static const struct {
		enum udc_state usb;
		enum power_state want;
	} expect[] = {
		{UDC_STATE_NOT_ATTACHED, POWER_STATE_OFF},
		{UDC_STATE_ATTACHED, POWER_STATE_OFF},
		{UDC_STATE_POWERED, POWER_STATE_OFF},
		{UDC_STATE_DEFAULT, POWER_STATE_OFF},
		{UDC_STATE_ADDRESSED, POWER_STATE_ON},
		{UDC_STATE_CONFIGURED, POWER_STATE_ON},
		{UDC_STATE_SUSPENDED, POWER_STATE_ASLEEP},
		{UDC_STATE_RECONNECTING, POWER_STATE_UNKNOWN},
		{UDC_STATE_UNKNOWN, POWER_STATE_UNKNOWN},
	};
	const struct power_infer_row *t;
	struct power_status st;
	size_t n;

	t = power_infer_table(&n);
	assert_int_equal(n, UDC_STATE_COUNT);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(t[i].usb, i); /* rows in enum order */
		assert_non_null(t[i].detail);
	}
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		power_status_from(POWER_LED_UNKNOWN, expect[i].usb, &st);
		assert_int_equal(st.state, expect[i].want);
	}
	/* Inferred from USB, and said so. */
	power_status_from(POWER_LED_UNKNOWN, UDC_STATE_SUSPENDED, &st);
	assert_string_equal(power_state_name(st.state), "asleep");
	assert_string_equal(power_source_name(st.source), "usb");
	assert_true(st.inferred);
	/* No evidence at all. */
	power_status_from(POWER_LED_UNKNOWN, UDC_STATE_UNKNOWN, &st);
	assert_string_equal(power_state_name(st.state), "unknown");
	assert_string_equal(power_source_name(st.source), "none");
	assert_false(st.inferred);
	/* The LED wins over USB and is a measurement. */
	power_status_from(POWER_LED_LIT, UDC_STATE_NOT_ATTACHED, &st);
	assert_string_equal(power_state_name(st.state), "on");
	assert_string_equal(power_source_name(st.source), "power_led");
	assert_false(st.inferred);
	power_status_from(POWER_LED_OFF, UDC_STATE_CONFIGURED, &st);
	assert_string_equal(power_state_name(st.state), "off");
	power_status_from(POWER_LED_BLINKING, UDC_STATE_CONFIGURED, &st);
	assert_string_equal(power_state_name(st.state), "asleep");
}

struct led_script {
	struct run *r;
	enum power_state at_lit;
	int refuse;
	char err[300];
};

static void led_lit(void *data)
{
	struct led_script *ls = data;

	power_fake_set_led(power_gpio_ctx(ls->r->p), true);
}

static void led_check_then_dark(void *data)
{
	struct led_script *ls = data;
	struct power_status st;

	power_status(ls->r->p, &st);
	ls->at_lit = st.state;
	ls->refuse = power_start(ls->r->p, POWER_ACT_ON, false, on_done, ls->r,
				 ls->err, sizeof(ls->err));
	power_fake_set_led(power_gpio_ctx(ls->r->p), false);
}

static void test_led_input(void **unused)
{
	struct power_cfg c = fake_cfg(17, -1, 22);
	struct led_script ls = {0};
	struct power_status st;
	struct run r;
	cJSON *j;

	setup_run(&r, &c);
	ls.r = &r;
	power_set_usb(r.p, UDC_STATE_CONFIGURED);
	power_status(r.p, &st);
	assert_int_equal(st.state, POWER_STATE_OFF); /* dark LED wins */
	assert_int_equal(st.source, POWER_SOURCE_LED);
	/* Lit, then dark, then lit: three edges within the window. */
	loop_timer_add(r.loop, 10, led_lit, &ls);
	loop_timer_add(r.loop, 50, led_check_then_dark, &ls);
	loop_timer_add(r.loop, 90, led_lit, &ls);
	run_for(&r, 130);
	assert_int_equal(ls.at_lit, POWER_STATE_ON);
	/* Measured on: `on` was refused, with the LED named. */
	assert_int_equal(ls.refuse, -EALREADY);
	assert_non_null(strstr(ls.err, "is on (the power LED is lit)"));
	power_status(r.p, &st);
	assert_int_equal(st.state, POWER_STATE_ASLEEP);
	j = power_state_json(r.p);
	assert_string_equal(
		cJSON_GetObjectItemCaseSensitive(j, "led")->valuestring,
		"blinking");
	assert_string_equal(
		cJSON_GetObjectItemCaseSensitive(j, "source")->valuestring,
		"power_led");
	assert_true(
		cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "inferred")));
	cJSON_Delete(j);
	assert_true(r.changed >= 3);
	teardown_run(&r);
}

/* ---- Wake-on-LAN ---- */

static void test_mac_and_packet(void **unused)
{
	uint8_t mac[6], pkt[POWER_WOL_LEN];
	struct sockaddr_in sa;

	assert_int_equal(addr_mac_parse("00:1A:2b:3c:4D:5e", mac), 0);
	assert_memory_equal(mac, "\x00\x1a\x2b\x3c\x4d\x5e", 6);
	assert_int_equal(addr_mac_parse("00-1a-2b-3c-4d-5e", mac), 0);
	assert_int_equal(addr_mac_parse("00:1a-2b:3c:4d:5e", mac), -EINVAL);
	assert_int_equal(addr_mac_parse("00:1a:2b:3c:4d", mac), -EINVAL);
	assert_int_equal(addr_mac_parse("00:1a:2b:3c:4d:5g", mac), -EINVAL);
	assert_int_equal(addr_mac_parse("001a2b3c4d5e", mac), -EINVAL);
	assert_int_equal(addr_mac_parse(NULL, mac), -EINVAL);
	addr_mac_parse("00:1a:2b:3c:4d:5e", mac);
	power_wol_packet(mac, pkt);
	for (int i = 0; i < 6; i++)
		assert_int_equal(pkt[i], 0xff);
	for (int i = 0; i < 16; i++)
		assert_memory_equal(pkt + 6 + 6 * i, mac, 6);
	assert_int_equal(addr_ipv4("192.168.1.255", 9, &sa), 0);
	assert_int_equal(ntohs(sa.sin_port), 9);
	assert_int_equal(addr_ipv4("broadcast.lan", 9, &sa), -EINVAL);
	assert_int_equal(addr_ipv4("10.0.0.1", 0, &sa), -EINVAL);
}

static void test_wake_wol_on_loopback(void **unused)
{
	struct power_cfg c = fake_cfg(-1, -1, -1);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	uint8_t want[POWER_WOL_LEN], got[200];
	char err[300];
	struct run r;
	cJSON *sent;
	int s;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	c.gpio.chip = "";
	c.wol = true;
	assert_int_equal(addr_mac_parse("52:54:00:12:34:56", c.wol_mac), 0);
	assert_int_equal(addr_ipv4("127.0.0.1", ntohs(sa.sin_port), &c.wol_to),
			 0);
	setup_run(&r, &c);
	assert_int_equal(power_start(r.p, POWER_ACT_WAKE, false, on_done, &r,
				     err, sizeof(err)),
			 0);
	run_for(&r, 2000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, 0);
	sent = cJSON_GetObjectItemCaseSensitive(r.extra, "sent");
	assert_int_equal(cJSON_GetArraySize(sent), 1);
	assert_string_equal(cJSON_GetArrayItem(sent, 0)->valuestring, "wol");
	assert_non_null(extra_str(&r, "usb")); /* why USB was not tried */
	assert_int_equal(recv(s, got, sizeof(got), MSG_DONTWAIT),
			 POWER_WOL_LEN);
	power_wol_packet(c.wol_mac, want);
	assert_memory_equal(got, want, POWER_WOL_LEN);
	close(s);
	teardown_run(&r);
}

/* ---- USB remote wakeup ---- */

static void resume_later(void *data)
{
	power_set_usb(((struct run *)data)->p, UDC_STATE_CONFIGURED);
}

static void make_srp(char *dir, char *srp, size_t len)
{
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(srp, len, "%s/srp", dir);
	fd = open(srp, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void test_wake_usb(void **unused)
{
	struct power_cfg c = fake_cfg(-1, -1, -1);
	char dir[] = "/tmp/zbpowerXXXXXX", srp[PATH_MAX], buf[8] = "";
	char err[300];
	struct run r;
	cJSON *sent;
	int fd;

	make_srp(dir, srp, sizeof(srp));
	c.gpio.chip = "";
	c.srp_path = srp;
	setup_run(&r, &c);

	/* No host session: nothing to send, and no WoL configured. */
	power_set_usb(r.p, UDC_STATE_NOT_ATTACHED);
	assert_int_equal(power_start(r.p, POWER_ACT_WAKE, false, on_done, &r,
				     err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "nothing was sent"));
	assert_non_null(strstr(err, "USB state not attached"));
	assert_false(power_busy(r.p));

	/* Suspended: "1" into srp, and the result waits for the resume. */
	power_set_usb(r.p, UDC_STATE_SUSPENDED);
	assert_int_equal(power_start(r.p, POWER_ACT_WAKE, false, on_done, &r,
				     err, sizeof(err)),
			 0);
	fd = open(srp, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 1);
	close(fd);
	assert_string_equal(buf, "1");
	loop_timer_add(r.loop, 40, resume_later, &r);
	run_for(&r, 2000);
	assert_int_equal(r.calls, 1);
	sent = cJSON_GetObjectItemCaseSensitive(r.extra, "sent");
	assert_string_equal(cJSON_GetArrayItem(sent, 0)->valuestring, "usb");
	assert_true(cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(r.extra, "resumed")));
	assert_string_equal(extra_str(&r, "usb_state"), "configured");
	teardown_run(&r);
	unlink(srp);
	rmdir(dir);
}

/* Configured: signalled blind (the UDC may not report suspend). */
static void test_wake_usb_blind(void **unused)
{
	struct power_cfg c = fake_cfg(-1, -1, -1);
	char dir[] = "/tmp/zbpowerXXXXXX", srp[PATH_MAX], buf[8] = "";
	char err[300];
	struct run r;
	cJSON *sent;
	int fd;

	make_srp(dir, srp, sizeof(srp));
	c.gpio.chip = "";
	c.srp_path = srp;
	setup_run(&r, &c);
	power_set_usb(r.p, UDC_STATE_CONFIGURED);
	assert_int_equal(power_start(r.p, POWER_ACT_WAKE, false, on_done, &r,
				     err, sizeof(err)),
			 0);
	run_for(&r, 2000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, 0);
	sent = cJSON_GetObjectItemCaseSensitive(r.extra, "sent");
	assert_string_equal(cJSON_GetArrayItem(sent, 0)->valuestring, "usb");
	assert_null(cJSON_GetObjectItemCaseSensitive(r.extra, "resumed"));
	assert_non_null(strstr(extra_str(&r, "usb_note"), "configured"));
	fd = open(srp, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 1);
	close(fd);
	teardown_run(&r);
	unlink(srp);
	rmdir(dir);
}

static void test_wake_usb_no_resume(void **unused)
{
	struct power_cfg c = fake_cfg(-1, -1, -1);
	char dir[] = "/tmp/zbpowerXXXXXX", srp[PATH_MAX];
	char err[300];
	struct run r;
	uint64_t t0;

	make_srp(dir, srp, sizeof(srp));
	c.gpio.chip = "";
	c.srp_path = srp;
	setup_run(&r, &c);
	power_set_usb(r.p, UDC_STATE_SUSPENDED);
	t0 = loop_now_ms();
	assert_int_equal(power_start(r.p, POWER_ACT_WAKE, false, on_done, &r,
				     err, sizeof(err)),
			 0);
	run_for(&r, 2000);
	/* Waited wake_wait_ms, then said so; still "sent". */
	assert_true(loop_now_ms() - t0 >= 150);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, 0);
	assert_true(cJSON_IsFalse(
		cJSON_GetObjectItemCaseSensitive(r.extra, "resumed")));
	assert_non_null(extra_str(&r, "usb_note"));
	teardown_run(&r);
	unlink(srp);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_active_at_start),
		cmocka_unit_test(test_release_mid_press_goes_inactive),
		cmocka_unit_test(test_cancel_mid_press),
		cmocka_unit_test(test_on_short_press),
		cmocka_unit_test(test_force_off_long_press),
		cmocka_unit_test(test_reset_uses_reset_line),
		cmocka_unit_test(test_cycle_sequence),
		cmocka_unit_test(test_cycle_of_an_off_server_only_presses_on),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_state_checks),
		cmocka_unit_test(test_not_wired),
		cmocka_unit_test(test_gpiod_missing_chip),
		cmocka_unit_test(test_set_failure),
		cmocka_unit_test(test_inference_table),
		cmocka_unit_test(test_led_input),
		cmocka_unit_test(test_mac_and_packet),
		cmocka_unit_test(test_wake_wol_on_loopback),
		cmocka_unit_test(test_wake_usb),
		cmocka_unit_test(test_wake_usb_blind),
		cmocka_unit_test(test_wake_usb_no_resume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
