/*
 * The macro runner, driven by a small simulation: a clock the test moves,
 * one timer, a fake keyboard that records every report with the time the
 * host would take it (each report costs SIM_REPORT_MS, then its gap), and
 * fake state sources (UDC state, LEDs, console lines) changed by events
 * at given times. Checks the reports a script produces, DEFAULT_DELAY and
 * DELAY timing, HOLD/RELEASE, waits that succeed and time out, SPAM along
 * a wait or alone, cancel, keyboard errors, preflight refusals, built-in
 * macros and the runtime bound.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/macro/macro_run.h"
#include "firmware/macro/macro_store.h"

#define SIM_REPORT_MS 8
#define SIM_REPORTS_MAX 16384
#define SIM_JOBS_MAX 4096
#define SIM_EVENTS_MAX 64
#define T0 1000 /* the clock starts here */

enum sim_ev_kind {
	EV_USB,
	EV_LEDS,
	EV_LINE,
	EV_CANCEL,
};

struct sim_ev {
	uint64_t at;
	enum sim_ev_kind kind;
	int v;
	const char *line;
};

struct sim {
	uint64_t now;
	uint64_t timer_at; /* 0: none */
	bool job;
	uint64_t job_end;
	int job_err;	 /* the running job ends with this */
	int fail_next;	 /* the next job ends with this error */
	int refuse_next; /* the next kb_run returns this */
	bool sync_jobs;	 /* jobs end inside kb_run */

	struct hid_report rep[SIM_REPORTS_MAX];
	uint64_t rep_at[SIM_REPORTS_MAX];
	size_t nrep;
	uint64_t job_start[SIM_JOBS_MAX];
	size_t jobs;
	size_t cancels, releases;

	bool usb_known;
	enum udc_state usb;
	uint64_t usb_since;
	uint8_t leds;
	bool console;
	char media[8][64];
	size_t nmedia;
	int hard_resets;

	bool done;
	int dones;
	enum macro_status st;
	uint32_t line;
	char msg[400];
	uint64_t done_at;

	struct sim_ev ev[SIM_EVENTS_MAX];
	size_t nev, evi;

	struct macro_env env;
	struct macro_run run;
	struct macro_script s;
};

static uint64_t sim_now(void *d)
{
	return ((struct sim *)d)->now;
}

static void sim_timer(void *d, uint64_t at)
{
	((struct sim *)d)->timer_at = at;
}

static int sim_kb_run(void *d, struct typing_plan *p)
{
	struct sim *s = d;
	uint64_t t = s->now;

	assert_false(s->job);
	if (s->refuse_next) {
		int r = s->refuse_next;

		s->refuse_next = 0;
		return r;
	}
	assert_true(s->jobs < SIM_JOBS_MAX);
	s->job_start[s->jobs++] = s->now;
	for (size_t i = 0; i < p->n; i++) {
		assert_true(s->nrep < SIM_REPORTS_MAX);
		t += SIM_REPORT_MS;
		s->rep[s->nrep] = p->steps[i].r;
		s->rep_at[s->nrep++] = t;
		t += p->steps[i].gap_us / 1000;
	}
	typing_plan_free(p);
	s->job_err = s->fail_next;
	s->fail_next = 0;
	if (s->sync_jobs) {
		macro_run_kb_done(&s->run, s->job_err,
				  s->job_err ? "fake failure" : NULL);
		return 0;
	}
	s->job = true;
	s->job_end = t;
	return 0;
}

static void sim_kb_cancel(void *d)
{
	struct sim *s = d;

	s->cancels++;
	if (!s->job)
		return;
	s->job = false;
	macro_run_kb_done(&s->run, -ECANCELED, "cancelled");
}

static void sim_kb_release(void *d)
{
	((struct sim *)d)->releases++;
}

static int sim_sysrq(void *d, struct typing_plan *p)
{
	struct hid_report r;

	(void)d;
	hid_report_clear(&r);
	r.b[0] = HID_MOD_LALT;
	r.b[2] = 0x46;
	typing_plan_report(p, &r, 10);
	hid_report_clear(&r);
	return typing_plan_report(p, &r, 10);
}

static int sim_usb(void *d, enum udc_state *st, uint64_t *since)
{
	struct sim *s = d;

	if (!s->usb_known)
		return -ENODEV;
	*st = s->usb;
	*since = s->usb_since;
	return 0;
}

static uint8_t sim_leds(void *d)
{
	return ((struct sim *)d)->leds;
}

static int sim_media(void *d, const char *name, char *err, size_t len)
{
	struct sim *s = d;

	if (name && !strcmp(name, "missing.iso")) {
		snprintf(err, len, "no image \"%s\"", name);
		return -ENOENT;
	}
	snprintf(s->media[s->nmedia++ % 8], 64, "%s", name ? name : "(eject)");
	return 0;
}

static int sim_hard(void *d, char *err, size_t len)
{
	(void)err;
	(void)len;
	((struct sim *)d)->hard_resets++;
	return 0;
}

static void sim_done(void *d, enum macro_status st, uint32_t line,
		     const char *msg)
{
	struct sim *s = d;

	s->done = true;
	s->dones++;
	s->st = st;
	s->line = line;
	s->done_at = s->now;
	snprintf(s->msg, sizeof(s->msg), "%s", msg ? msg : "");
}

static struct sim *sim_new(void)
{
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->now = T0;
	s->usb_known = true;
	s->usb = UDC_STATE_CONFIGURED;
	s->usb_since = 10;
	s->console = true;
	s->env = (struct macro_env){
		.data = s,
		.now_ms = sim_now,
		.timer = sim_timer,
		.kb_run = sim_kb_run,
		.kb_cancel = sim_kb_cancel,
		.kb_release = sim_kb_release,
		.sysrq_plan = sim_sysrq,
		.usb = sim_usb,
		.leds = sim_leds,
		.has_console = true,
		.media = sim_media,
		.hard_reset = sim_hard,
		.done = sim_done,
		.layout = layout_find("us"),
		.profile = TYPING_FAST,
	};
	return s;
}

static void sim_free(struct sim *s)
{
	macro_script_free(&s->s);
	free(s);
}

static void sim_event(struct sim *s, uint64_t after, enum sim_ev_kind kind,
		      int v, const char *line)
{
	assert_true(s->nev < SIM_EVENTS_MAX);
	s->ev[s->nev++] = (struct sim_ev){T0 + after, kind, v, line};
}

/* Parse and start; returns macro_run_start's value. */
static int sim_start(struct sim *s, const char *script, struct macro_error *e)
{
	struct macro_error err;

	if (macro_parse(script, strlen(script), layout_find("us"), &s->s, &err))
		fail_msg("parse: line %u: %s", (unsigned)err.line, err.msg);
	return macro_run_start(&s->run, &s->env, &s->s, e ? e : &err);
}

/* Run the world until the macro ends or the clock passes T0 + until. */
static void sim_run(struct sim *s, uint64_t until)
{
	until += T0;
	while (!s->done) {
		uint64_t t = UINT64_MAX;
		int what = -1;

		if (s->evi < s->nev && s->ev[s->evi].at < t) {
			t = s->ev[s->evi].at;
			what = 0;
		}
		if (s->job && s->job_end < t) {
			t = s->job_end;
			what = 1;
		}
		if (s->timer_at && s->timer_at < t) {
			t = s->timer_at;
			what = 2;
		}
		if (what < 0 || t > until)
			break;
		if (t > s->now)
			s->now = t;
		if (what == 0) {
			struct sim_ev *e = &s->ev[s->evi++];

			switch (e->kind) {
			case EV_USB:
				s->usb = (enum udc_state)e->v;
				s->usb_since = s->now;
				macro_run_poke(&s->run);
				break;
			case EV_LEDS:
				s->leds = (uint8_t)e->v;
				macro_run_poke(&s->run);
				break;
			case EV_LINE:
				macro_run_console(&s->run, e->line,
						  strlen(e->line));
				break;
			case EV_CANCEL:
				macro_run_cancel(&s->run);
				break;
			}
		} else if (what == 1) {
			s->job = false;
			macro_run_kb_done(&s->run, s->job_err,
					  s->job_err ? "fake failure" : NULL);
		} else {
			s->timer_at = 0;
			macro_run_tick(&s->run);
		}
	}
	if (s->now < until && !s->done)
		s->now = until;
}

static void sim_run_ok(struct sim *s, const char *script, uint64_t until)
{
	assert_int_equal(sim_start(s, script, NULL), 0);
	sim_run(s, until);
	if (!s->done)
		fail_msg("not done after %llu ms", (unsigned long long)until);
	if (s->st != MACRO_OK)
		fail_msg("status %d: %s", s->st, s->msg);
	assert_int_equal(s->dones, 1);
	assert_false(macro_run_active(&s->run));
}

/* Presses of usage (reports where it appears and did not before). */
static size_t sim_presses(const struct sim *s, uint8_t usage)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nrep; i++) {
		bool now = memchr(s->rep[i].b + 2, usage, 6) != NULL;
		bool before = i && memchr(s->rep[i - 1].b + 2, usage, 6);

		if (now && !before)
			n++;
	}
	return n;
}

static void rep_is(const struct sim *s, size_t i, uint8_t mods, uint8_t k0,
		   uint8_t k1)
{
	const uint8_t *b;

	if (i >= s->nrep)
		fail_msg("report %zu of %zu", i, s->nrep);
	b = s->rep[i].b;
	if (b[0] != mods || b[2] != k0 || b[3] != k1)
		fail_msg("report %zu: %02x %02x %02x, want %02x %02x %02x", i,
			 b[0], b[2], b[3], mods, k0, k1);
}

/* ---- reports ---- */

static void test_reports(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_run_ok(s,
		   "REM open Run, type, Enter\n"
		   "GUI r\n"
		   "STRING aB\n"
		   "ENTER\n"
		   "CTRL ALT DELETE\n",
		   10000);
	/* GUI r: the modifier first, then the key, then all up. */
	rep_is(s, 0, HID_MOD_LGUI, 0, 0);
	rep_is(s, 1, HID_MOD_LGUI, 0x15, 0);
	rep_is(s, 2, 0, 0, 0);
	/* aB */
	rep_is(s, 3, 0, 0x04, 0);
	rep_is(s, 4, 0, 0, 0);
	rep_is(s, 5, HID_MOD_LSHIFT, 0, 0);
	rep_is(s, 6, HID_MOD_LSHIFT, 0x05, 0);
	rep_is(s, 7, 0, 0, 0);
	rep_is(s, 8, 0, 0x28, 0);
	rep_is(s, 9, 0, 0, 0);
	rep_is(s, 10, HID_MOD_LCTRL | HID_MOD_LALT, 0, 0);
	rep_is(s, 11, HID_MOD_LCTRL | HID_MOD_LALT, 0x4c, 0);
	rep_is(s, 12, 0, 0, 0);
	assert_int_equal(s->nrep, 13);
	assert_int_equal(s->jobs, 4);
	assert_int_equal(s->run.steps, 4);
	assert_true(s->releases >= 1);
	sim_free(s);
}

static void test_stringln_repeat(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_run_ok(s, "STRINGLN a\nREPEAT 2\nTAB\nREPEAT 3\n", 10000);
	assert_int_equal(sim_presses(s, 0x04), 3);
	assert_int_equal(sim_presses(s, 0x28), 3);
	assert_int_equal(sim_presses(s, 0x2b), 4);
	assert_int_equal(s->jobs, 7);
	assert_int_equal(s->run.steps, 7);
	sim_free(s);
}

static void test_delays(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_run_ok(s,
		   "DELAY 500\n"
		   "ENTER\n"
		   "DEFAULT_DELAY 100\n"
		   "TAB\n"
		   "TAB\n"
		   "DELAY 1s\n"
		   "ESC\n",
		   10000);
	assert_int_equal(s->jobs, 4);
	assert_int_equal(s->job_start[0], T0 + 500);
	/* Enter: two reports; no default delay yet. */
	assert_int_equal(s->job_start[1], T0 + 500 + 2 * SIM_REPORT_MS);
	/* Each TAB is followed by 100 ms. */
	assert_int_equal(s->job_start[2],
			 s->job_start[1] + 2 * SIM_REPORT_MS + 100);
	assert_int_equal(s->job_start[3],
			 s->job_start[2] + 2 * SIM_REPORT_MS + 100 + 1000);
	/* ESC comes after DEFAULT_DELAY, so 100 ms more follow it. */
	assert_int_equal(s->done_at, s->job_start[3] + 2 * SIM_REPORT_MS + 100);
	sim_free(s);
}

static void test_hold_release(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_run_ok(s, "HOLD SHIFT\nSTRING a\nHOLD x\nRELEASE SHIFT\nRELEASE\n",
		   10000);
	rep_is(s, 0, HID_MOD_LSHIFT, 0, 0);
	/* Typed while Shift is held: Shift stays in every report. */
	rep_is(s, 1, HID_MOD_LSHIFT, 0x04, 0);
	rep_is(s, 2, HID_MOD_LSHIFT, 0, 0);
	rep_is(s, 3, HID_MOD_LSHIFT, 0x1b, 0);
	rep_is(s, 4, 0, 0x1b, 0);
	rep_is(s, 5, 0, 0, 0);
	assert_int_equal(s->nrep, 6);
	sim_free(s);
}

static void test_sync_keyboard(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	/* A keyboard that finishes inside kb_run. */
	s->sync_jobs = true;
	sim_run_ok(s, "ENTER\nREPEAT 50\nSTRING hello\nDELAY 10\nTAB\n", 1000);
	assert_int_equal(sim_presses(s, 0x28), 51);
	assert_int_equal(s->jobs, 53);
	sim_free(s);
}

/* ---- waits ---- */

static void test_wait_usb(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	/* No REBOOT before: the state now counts. */
	sim_run_ok(s, "WAIT_USB configured 1s\nENTER\n", 100);
	assert_int_equal(s->job_start[0], T0);
	sim_free(s);

	/* After a REBOOT, only a state entered since counts. */
	s = sim_new();
	sim_event(s, 500, EV_USB, UDC_STATE_NOT_ATTACHED, NULL);
	sim_event(s, 1200, EV_USB, UDC_STATE_DEFAULT, NULL);
	sim_event(s, 3000, EV_USB, UDC_STATE_CONFIGURED, NULL);
	sim_run_ok(s, "REBOOT soft\nWAIT_USB configured 10s\nSTRING x\n",
		   20000);
	rep_is(s, 1, HID_MOD_LCTRL | HID_MOD_LALT, 0x4c, 0);
	assert_int_equal(s->jobs, 2);
	assert_int_equal(s->job_start[1], T0 + 3000);
	sim_free(s);

	/* Waiting for not_attached, then configured again. */
	s = sim_new();
	sim_event(s, 700, EV_USB, UDC_STATE_NOT_ATTACHED, NULL);
	sim_event(s, 5000, EV_USB, UDC_STATE_CONFIGURED, NULL);
	sim_run_ok(s,
		   "REBOOT\nWAIT_USB not_attached 2s\nWAIT_USB configured "
		   "10s\nENTER\n",
		   20000);
	assert_int_equal(s->job_start[1], T0 + 5000);
	sim_free(s);
}

static void test_wait_usb_timeout(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	/* The host never re-enumerates after the reboot. */
	assert_int_equal(sim_start(s,
				   "REM a reboot nobody sees\n"
				   "REBOOT soft\n"
				   "\n"
				   "WAIT_USB configured 30s\n"
				   "STRING never\n",
				   NULL),
			 0);
	sim_run(s, 60000);
	assert_true(s->done);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_int_equal(s->line, 4);
	assert_non_null(strstr(s->msg, "line 4: WAIT_USB configured: timed "
				       "out after 30000 ms"));
	assert_non_null(strstr(s->msg, "state is configured"));
	/* It failed at the timeout, not before or long after. */
	assert_true(s->done_at >= T0 + 30000 && s->done_at < T0 + 30100);
	assert_int_equal(s->jobs, 1);
	assert_true(s->releases >= 1);
	sim_free(s);
}

static void test_wait_led(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_event(s, 200, EV_LEDS, HID_LED_CAPS, NULL);
	sim_event(s, 900, EV_LEDS, HID_LED_CAPS | HID_LED_NUM, NULL);
	sim_event(s, 1500, EV_LEDS, HID_LED_NUM, NULL);
	sim_run_ok(s,
		   "WAIT_LED num 5s\n"
		   "ENTER\n"
		   "WAIT_LED caps off\n"
		   "TAB\n",
		   10000);
	assert_int_equal(s->job_start[0], T0 + 900);
	assert_int_equal(s->job_start[1], T0 + 1500);
	sim_free(s);

	/* change: any flip of the LED from what it was when the wait began */
	s = sim_new();
	s->leds = HID_LED_SCROLL;
	sim_event(s, 300, EV_LEDS, HID_LED_SCROLL | HID_LED_NUM, NULL);
	sim_event(s, 800, EV_LEDS, 0, NULL);
	sim_run_ok(s, "WAIT_LED scroll change 2s\nENTER\n", 10000);
	assert_int_equal(s->job_start[0], T0 + 800);
	sim_free(s);

	s = sim_new();
	assert_int_equal(
		sim_start(s, "ENTER\nWAIT_LED caps 250ms\nTAB\n", NULL), 0);
	sim_run(s, 10000);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_int_equal(s->line, 2);
	assert_non_null(strstr(s->msg, "WAIT_LED: timed out after 250 ms"));
	sim_free(s);
}

static void test_wait_console(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_event(s, 100, EV_LINE, 0, "Debian GNU/Linux 12 server ttyACM0");
	sim_event(s, 200, EV_LINE, 0, "xlogin: ");
	sim_event(s, 300, EV_LINE, 0, "\x1b[1mserver login: \x1b[0m");
	sim_event(s, 400, EV_LINE, 0, "server login: ");
	sim_run_ok(s,
		   "WAIT_CONSOLE /^server login: ?$/ 5s\n"
		   "STRINGLN root\n",
		   10000);
	/* The line with escape sequences matched once they were taken out. */
	assert_int_equal(s->job_start[0], T0 + 300);
	sim_free(s);

	/* A line is matched on its first 1024 bytes. */
	s = sim_new();
	{
		static char late[3000], early[1100];

		memset(late, 'x', sizeof(late) - 1);
		memcpy(late + 2000, "READY", 5);
		memset(early, 'x', sizeof(early) - 1);
		memcpy(early + 1000, "READY", 5);
		sim_event(s, 100, EV_LINE, 0, late);
		sim_event(s, 200, EV_LINE, 0, early);
	}
	sim_run_ok(s, "WAIT_CONSOLE /READY/ 1s\nENTER\n", 10000);
	assert_int_equal(s->job_start[0], T0 + 200);
	sim_free(s);

	/* Lines before the wait began do not count. */
	s = sim_new();
	sim_event(s, 10, EV_LINE, 0, "ready");
	sim_event(s, 900, EV_LINE, 0, "ready again");
	sim_run_ok(s, "DELAY 500\nWAIT_CONSOLE /ready/ 1s\nENTER\n", 10000);
	assert_int_equal(s->job_start[0], T0 + 900);
	sim_free(s);

	s = sim_new();
	sim_event(s, 100, EV_LINE, 0, "nothing to see");
	assert_int_equal(
		sim_start(s, "\nWAIT_CONSOLE /Press F2/ 2s\nF2\n", NULL), 0);
	sim_run(s, 10000);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_int_equal(s->line, 2);
	assert_non_null(strstr(s->msg, "WAIT_CONSOLE /Press F2/: no matching "
				       "console line within 2000 ms"));
	assert_int_equal(s->jobs, 0);
	sim_free(s);
}

/* ---- SPAM ---- */

static void test_spam_until_wait(void **state)
{
	struct sim *s = sim_new();
	size_t f2;

	(void)state;
	sim_event(s, 400, EV_USB, UDC_STATE_NOT_ATTACHED, NULL);
	sim_event(s, 2000, EV_USB, UDC_STATE_CONFIGURED, NULL);
	sim_run_ok(s,
		   "REBOOT soft\n"
		   "SPAM F2 100ms 30s\n"
		   "WAIT_USB configured 30s\n"
		   "STRING done\n",
		   60000);
	f2 = sim_presses(s, 0x3b);
	/* From the reboot (at T0 + 24) to the wait's success at 2000. */
	if (f2 < 18 || f2 > 21)
		fail_msg("%zu F2 presses", f2);
	/* No F2 after the wait succeeded; "done" was typed after it. */
	for (size_t i = 0; i < s->nrep; i++)
		if (s->rep[i].b[2] == 0x3b)
			assert_true(s->rep_at[i] <= T0 + 2000);
	assert_int_equal(sim_presses(s, 0x07), 1); /* d */
	assert_true(s->done_at < T0 + 2200);
	sim_free(s);
}

static void test_spam_alone(void **state)
{
	struct sim *s = sim_new();
	size_t esc;

	(void)state;
	sim_run_ok(s, "SPAM ESC 100ms 1s\nENTER\n", 10000);
	esc = sim_presses(s, 0x29);
	assert_int_equal(esc, 10);
	/* Enter came after SPAM's second. */
	assert_int_equal(s->job_start[s->jobs - 1], T0 + 1000);
	sim_free(s);

	/* Several keys are pressed in turn. */
	s = sim_new();
	sim_run_ok(s, "SPAM DELETE F2 50ms 500ms\n", 10000);
	assert_int_equal(sim_presses(s, 0x4c), 5);
	assert_int_equal(sim_presses(s, 0x3b), 5);
	rep_is(s, 0, 0, 0x4c, 0);
	rep_is(s, 2, 0, 0x3b, 0);
	sim_free(s);
}

static void test_spam_wait_outlives(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	/* SPAM stops after its for_ms; the wait goes on alone. */
	sim_event(s, 3000, EV_LINE, 0, "GRUB loading");
	sim_run_ok(s, "SPAM F12 100ms 1s\nWAIT_CONSOLE /GRUB/ 10s\nENTER\n",
		   10000);
	assert_int_equal(sim_presses(s, 0x45), 10);
	assert_int_equal(s->job_start[s->jobs - 1], T0 + 3000);
	sim_free(s);
}

static void test_spam_errors_ignored(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	/* Presses that fail (a host rebooting does not poll) are no error. */
	sim_event(s, 1000, EV_USB, UDC_STATE_DEFAULT, NULL);
	sim_event(s, 1500, EV_USB, UDC_STATE_CONFIGURED, NULL);
	s->fail_next = -ETIMEDOUT;
	assert_int_equal(sim_start(s,
				   "REBOOT\nSPAM F2 100ms 5s\nWAIT_USB "
				   "configured 5s\n",
				   NULL),
			 0);
	/* The reboot's own job fails like a host that went away: fine. */
	sim_run(s, 300);
	s->fail_next = -ESHUTDOWN;
	sim_run(s, 700);
	s->refuse_next = -ENODEV;
	sim_run(s, 10000);
	assert_true(s->done);
	assert_int_equal(s->st, MACRO_OK);
	sim_free(s);
}

static void test_spam_wait_timeout(void **state)
{
	struct sim *s = sim_new();
	size_t n;

	(void)state;
	assert_int_equal(sim_start(s,
				   "SPAM F2 100ms 1m\nWAIT_USB suspended "
				   "2s\nENTER\n",
				   NULL),
			 0);
	sim_run(s, 120000);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_int_equal(s->line, 2);
	n = sim_presses(s, 0x3b);
	assert_true(n >= 19 && n <= 21);
	assert_int_equal(s->done_at, T0 + 2000);
	sim_free(s);
}

/* ---- the rest ---- */

static void test_cancel(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	/* During a DELAY. */
	sim_event(s, 1500, EV_CANCEL, 0, NULL);
	assert_int_equal(sim_start(s, "ENTER\n\nDELAY 10s\nENTER\n", NULL), 0);
	sim_run(s, 60000);
	assert_int_equal(s->st, MACRO_CANCELLED);
	assert_int_equal(s->line, 3);
	assert_string_equal(s->msg, "cancelled at line 3");
	assert_int_equal(s->done_at, T0 + 1500);
	assert_int_equal(s->jobs, 1);
	assert_true(s->releases >= 1);
	sim_free(s);

	/* During a keyboard job: the job is cancelled too. */
	s = sim_new();
	s->env.profile = TYPING_BIOS;
	sim_event(s, 100, EV_CANCEL, 0, NULL);
	assert_int_equal(
		sim_start(s, "STRING a long text, typed slowly\n", NULL), 0);
	sim_run(s, 60000);
	assert_int_equal(s->st, MACRO_CANCELLED);
	assert_int_equal(s->cancels, 1);
	assert_false(s->job);
	assert_int_equal(s->dones, 1);
	sim_free(s);

	/* The keyboard stopped by someone else (agent shutdown). */
	s = sim_new();
	s->env.profile = TYPING_BIOS;
	assert_int_equal(sim_start(s, "STRING slow text\nENTER\n", NULL), 0);
	sim_run(s, 50);
	assert_true(s->job);
	s->job = false;
	macro_run_kb_done(&s->run, -ECANCELED, "cancelled");
	assert_true(s->done);
	assert_int_equal(s->st, MACRO_CANCELLED);
	sim_free(s);

	/* Cancel after the end does nothing. */
	s = sim_new();
	sim_run_ok(s, "ENTER\n", 1000);
	macro_run_cancel(&s->run);
	assert_int_equal(s->dones, 1);
	sim_free(s);
}

static void test_keyboard_error(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	assert_int_equal(sim_start(s, "ENTER\nREM\nTAB\nESC\n", NULL), 0);
	sim_run(s, 10);
	s->fail_next = -ETIMEDOUT;
	sim_run(s, 10000);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_int_equal(s->line, 3);
	assert_string_equal(s->msg, "line 3: keys: fake failure");
	sim_free(s);

	s = sim_new();
	s->refuse_next = -ENODEV;
	assert_int_equal(sim_start(s, "STRING x\n", NULL), 0);
	sim_run(s, 10000);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_string_equal(s->msg,
			    "line 1: STRING: no keyboard device is open");
	sim_free(s);
}

static void test_preflight(void **state)
{
	static const struct {
		const char *script;
		uint32_t line;
		const char *text;
	} cases[] = {
		{"ENTER\nMEDIA x.iso\n", 2, "virtual media"},
		{"ENTER\nENTER\nWAIT_CONSOLE /x/\n", 3, "console is off"},
		{"WAIT_USB configured\n", 1, "USB state is not known"},
		{"\nREBOOT hard\n", 2, "reset pin"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim *s = sim_new();
		struct macro_error err;

		s->env.media = NULL;
		s->env.has_console = false;
		s->usb_known = false;
		s->env.hard_reset = NULL;
		assert_int_equal(sim_start(s, cases[i].script, &err), -ENOTSUP);
		assert_int_equal(err.line, cases[i].line);
		assert_non_null(strstr(err.msg, cases[i].text));
		/* Nothing ran and nothing will. */
		assert_int_equal(s->timer_at, 0);
		assert_int_equal(s->jobs, 0);
		assert_false(s->done);
		sim_free(s);
	}
}

static void test_media_reboot(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	sim_run_ok(s,
		   "MEDIA debian.iso\nMEDIA eject\nREBOOT hard\nREBOOT "
		   "sysrq\n",
		   10000);
	assert_int_equal(s->nmedia, 2);
	assert_string_equal(s->media[0], "debian.iso");
	assert_string_equal(s->media[1], "(eject)");
	assert_int_equal(s->hard_resets, 1);
	rep_is(s, 0, HID_MOD_LALT, 0x46, 0);
	sim_free(s);

	s = sim_new();
	assert_int_equal(
		sim_start(s, "ENTER\nMEDIA missing.iso\nENTER\n", NULL), 0);
	sim_run(s, 10000);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_string_equal(s->msg, "line 2: MEDIA: no image \"missing.iso\"");
	assert_int_equal(s->jobs, 1);
	sim_free(s);
}

static void test_runtime_bound(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	assert_int_equal(sim_start(s, "DELAY 50m\nDELAY 50m\nENTER\n", NULL),
			 0);
	sim_run(s, 3 * 3600 * 1000ull);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_int_equal(s->line, 2);
	assert_non_null(strstr(s->msg, "ran longer than 3600 s"));
	assert_int_equal(s->done_at, T0 + MACRO_RUNTIME_MAX_MS);
	sim_free(s);
}

static void test_progress(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	assert_int_equal(sim_start(s, "ENTER\nDELAY 1s\nREPEAT 2\nTAB\n", NULL),
			 0);
	assert_int_equal(macro_run_line(&s->run), 1);
	sim_run(s, 500);
	assert_int_equal(macro_run_line(&s->run), 2);
	assert_int_equal(s->run.steps, 1);
	assert_int_equal(s->s.runs, 5);
	sim_run(s, 1500);
	assert_int_equal(s->run.steps, 2);
	assert_true(macro_run_active(&s->run));
	sim_run(s, 10000);
	assert_int_equal(s->run.steps, 5);
	assert_int_equal(macro_run_line(&s->run), 4);
	sim_free(s);
}

/* The built-in enter_setup: Delete and F2 in turn from the reboot until
 * the host is configured again, then for 15 s more. */
static void test_builtin_enter_setup(void **state)
{
	struct sim *s = sim_new();
	size_t del, f2;

	(void)state;
	sim_event(s, 1000, EV_USB, UDC_STATE_NOT_ATTACHED, NULL);
	sim_event(s, 4000, EV_USB, UDC_STATE_CONFIGURED, NULL);
	sim_run_ok(s, macro_builtin_find("enter_setup")->script, 60000);
	rep_is(s, 0, HID_MOD_LCTRL | HID_MOD_LALT, 0, 0);
	rep_is(s, 1, HID_MOD_LCTRL | HID_MOD_LALT, 0x4c, 0);
	del = sim_presses(s, 0x4c) - 1; /* the reboot's Delete aside */
	f2 = sim_presses(s, 0x3b);
	/* About 19 s of presses every 100 ms, the two keys in turn. */
	if (del + f2 < 180 || del + f2 > 195 || del > f2 + 1 || f2 > del + 1)
		fail_msg("%zu Delete, %zu F2", del, f2);
	assert_true(s->done_at >= T0 + 4000 + 15000);
	assert_true(s->done_at < T0 + 4000 + 15200);
	sim_free(s);

	/* No host coming back: an error at the WAIT_USB line. */
	s = sim_new();
	assert_int_equal(
		sim_start(s, macro_builtin_find("enter_setup")->script, NULL),
		0);
	sim_run(s, 600000);
	assert_int_equal(s->st, MACRO_ERROR);
	assert_int_equal(s->line, 7);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_stringln_repeat),
		cmocka_unit_test(test_delays),
		cmocka_unit_test(test_hold_release),
		cmocka_unit_test(test_sync_keyboard),
		cmocka_unit_test(test_wait_usb),
		cmocka_unit_test(test_wait_usb_timeout),
		cmocka_unit_test(test_wait_led),
		cmocka_unit_test(test_wait_console),
		cmocka_unit_test(test_spam_until_wait),
		cmocka_unit_test(test_spam_alone),
		cmocka_unit_test(test_spam_wait_outlives),
		cmocka_unit_test(test_spam_errors_ignored),
		cmocka_unit_test(test_spam_wait_timeout),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_keyboard_error),
		cmocka_unit_test(test_preflight),
		cmocka_unit_test(test_media_reboot),
		cmocka_unit_test(test_runtime_bound),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_builtin_enter_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
