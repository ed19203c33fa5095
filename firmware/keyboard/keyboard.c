#include "firmware/keyboard/keyboard.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/core/backoff.h"
#include "gadget/hid.h"

/* Reports written in one go before other sources get a turn. */
#define KEYBOARD_BURST 128
/* Retry interval while the function is unbound (no POLLOUT to wait on). */
#define KEYBOARD_RETRY_MS 500
/* Reopen interval after the device disappeared: doubling up to a cap,
 * so a device that never comes back costs no idle CPU. */
#define KEYBOARD_REOPEN_MS 1000
#define KEYBOARD_REOPEN_MAX_MS 30000
/* How far behind its timeline a job may fall and still catch up: one
 * EDK2 keyboard tick (see keyboard_next_due). */
#define KEYBOARD_CATCHUP_US 20000

struct keyboard {
	struct loop *loop;
	struct keyboard_cbs cbs;
	void *cb_data;
	int fd;
	int write_timeout_ms, hold_timeout_ms;

	struct typing_plan plan;
	size_t idx;
	bool running;
	uint32_t hold_ms;
	keyboard_done_cb done;
	void *done_data;

	uint64_t next_due_us;
	uint64_t eagain_since_ms;
	int timer; /* pacing, retry or deadline */
	int hold_timer;
	int reopen_timer;
	uint32_t reopen_ms;
	char path[256];
	bool release_pending;
	bool want_out;
	struct hid_report cur; /* the last report the device took */
	uint8_t leds;
};

static void keyboard_pump(struct keyboard *kb);

static void keyboard_set_out(struct keyboard *kb, bool on)
{
	if (kb->fd < 0 || kb->want_out == on)
		return;
	kb->want_out = on;
	loop_fd_events(kb->loop, kb->fd, POLLIN | (on ? POLLOUT : 0));
}

static void keyboard_timer_cb(void *data)
{
	struct keyboard *kb = data;

	kb->timer = 0;
	keyboard_pump(kb);
}

static void keyboard_arm(struct keyboard *kb, uint64_t ms)
{
	loop_timer_rearm(kb->loop, &kb->timer, ms, keyboard_timer_cb, kb);
}

static bool keyboard_report_zero(const struct hid_report *r)
{
	static const struct hid_report zero;

	return !memcmp(r, &zero, sizeof(zero));
}

static void keyboard_finish(struct keyboard *kb, int err, const char *msg)
{
	keyboard_done_cb done = kb->done;
	void *data = kb->done_data;

	kb->running = false;
	kb->done = NULL;
	typing_plan_free(&kb->plan);
	kb->idx = 0;
	if (err)
		kb->release_pending = true;
	if (done)
		done(data, err, msg);
}

static void keyboard_hold_cb(void *data)
{
	struct keyboard *kb = data;

	kb->hold_timer = 0;
	if (!kb->running)
		keyboard_release(kb);
}

static int keyboard_write(struct keyboard *kb, const struct hid_report *r)
{
	int err = hid_report_write(kb->fd, r);

	if (err == 0) {
		kb->cur = *r;
		kb->eagain_since_ms = 0;
	}
	return err;
}

void keyboard_release(struct keyboard *kb)
{
	struct hid_report zero;
	int err;

	if (kb->fd < 0)
		return;
	hid_report_clear(&zero);
	if (kb->running)
		return;
	if (!kb->release_pending && keyboard_report_zero(&kb->cur))
		return;
	err = keyboard_write(kb, &zero);
	if (err == 0) {
		kb->release_pending = false;
		keyboard_set_out(kb, false);
		if (kb->cbs.host)
			kb->cbs.host(kb->cb_data, true);
		return;
	}
	kb->release_pending = true;
	if (err == -EAGAIN) {
		keyboard_set_out(kb, true);
	} else {
		/* Unbound or gone: POLLOUT would spin, so retry by time. */
		keyboard_set_out(kb, false);
		keyboard_arm(kb, KEYBOARD_RETRY_MS);
	}
}

static void keyboard_fail(struct keyboard *kb, int err)
{
	char msg[200];

	if (err == -ETIMEDOUT)
		snprintf(msg, sizeof(msg),
			 "the host is not taking keyboard reports (no poll "
			 "for %d ms): server off, asleep or unplugged; "
			 "stopped after %zu of %zu reports",
			 kb->write_timeout_ms, kb->idx, kb->plan.n);
	else if (err == -ESHUTDOWN)
		snprintf(msg, sizeof(msg),
			 "the keyboard function is not bound to a host "
			 "(ESHUTDOWN); stopped after %zu of %zu reports",
			 kb->idx, kb->plan.n);
	else if (err == -ENODEV)
		snprintf(msg, sizeof(msg),
			 "the keyboard device went away; stopped after %zu "
			 "of %zu reports",
			 kb->idx, kb->plan.n);
	else
		snprintf(msg, sizeof(msg),
			 "keyboard write failed: %s; stopped after %zu of "
			 "%zu reports",
			 strerror(-err), kb->idx, kb->plan.n);
	keyboard_set_out(kb, false);
	if (kb->cbs.host)
		kb->cbs.host(kb->cb_data, false);
	keyboard_finish(kb, err, msg);
	keyboard_release(kb);
}

/*
 * When the report after one due at due (0: the first) that went out at now
 * is due: gap after its due time, so the timer's rounding to milliseconds,
 * the loop's lateness and a host that took a report late do not add up
 * over a plan. A report more than KEYBOARD_CATCHUP_US behind its due time
 * moves the timeline instead, so a host that took no reports for a while
 * gets at most that much of the missed pauses back as a burst.
 */
static uint64_t keyboard_next_due(uint64_t due, uint64_t now, uint32_t gap)
{
	if (!due || now > due + KEYBOARD_CATCHUP_US)
		due = due ? now - KEYBOARD_CATCHUP_US : now;
	return due + gap;
}

static void keyboard_pump(struct keyboard *kb)
{
	int burst = 0;

	if (!kb->running) {
		if (kb->release_pending)
			keyboard_release(kb);
		return;
	}
	while (kb->idx < kb->plan.n) {
		const struct typing_step *s = &kb->plan.steps[kb->idx];
		uint64_t now = loop_now_us();
		int err;

		if (now < kb->next_due_us) {
			keyboard_set_out(kb, false);
			keyboard_arm(kb, (kb->next_due_us - now + 999) / 1000);
			return;
		}
		if (burst++ == KEYBOARD_BURST) {
			keyboard_set_out(kb, false);
			keyboard_arm(kb, 0);
			return;
		}
		err = keyboard_write(kb, &s->r);
		if (err == -EAGAIN) {
			uint64_t ms = loop_now_ms();

			if (!kb->eagain_since_ms)
				kb->eagain_since_ms = ms;
			if (ms - kb->eagain_since_ms >=
			    (uint64_t)kb->write_timeout_ms) {
				keyboard_fail(kb, -ETIMEDOUT);
				return;
			}
			keyboard_set_out(kb, true);
			keyboard_arm(kb,
				     kb->eagain_since_ms +
					     (uint64_t)kb->write_timeout_ms -
					     ms);
			return;
		}
		if (err) {
			keyboard_fail(kb, err);
			return;
		}
		kb->idx++;
		kb->next_due_us = keyboard_next_due(kb->next_due_us,
						    loop_now_us(), s->gap_us);
	}
	keyboard_set_out(kb, false);
	if (kb->timer) {
		loop_timer_cancel(kb->loop, kb->timer);
		kb->timer = 0;
	}
	if (!keyboard_report_zero(&kb->cur))
		loop_timer_rearm(kb->loop, &kb->hold_timer,
				 kb->hold_ms ? kb->hold_ms
					     : (uint64_t)kb->hold_timeout_ms,
				 keyboard_hold_cb, kb);
	keyboard_finish(kb, 0, NULL);
}

static void keyboard_reopen_cb(void *data)
{
	struct keyboard *kb = data;

	kb->reopen_timer = 0;
	keyboard_open(kb, kb->path);
}

/*
 * The device vanished (end of file, hang-up): polling it would spin, so
 * close it and try again by time. A running job fails at once.
 */
static void keyboard_gone(struct keyboard *kb)
{
	loop_fd_del(kb->loop, kb->fd);
	close(kb->fd);
	kb->fd = -1;
	kb->want_out = false;
	if (kb->running)
		keyboard_fail(kb, -ENODEV);
	loop_timer_rearm(kb->loop, &kb->reopen_timer, KEYBOARD_REOPEN_MS,
			 keyboard_reopen_cb, kb);
}

static void keyboard_on_fd(int fd, short revents, void *data)
{
	struct keyboard *kb = data;

	if (revents & POLLIN) {
		uint8_t leds;
		int r = hid_led_read(fd, &leds);

		if (r == -EPIPE) {
			keyboard_gone(kb);
			return;
		}
		if (r == 0 && leds != kb->leds) {
			kb->leds = leds;
			if (kb->cbs.leds)
				kb->cbs.leds(kb->cb_data, leds);
		}
	}
	if ((revents & (POLLHUP | POLLERR)) && !(revents & POLLOUT)) {
		keyboard_gone(kb);
		return;
	}
	if (revents & (POLLOUT | POLLERR | POLLHUP)) {
		keyboard_pump(kb);
	}
}

int keyboard_new(struct loop *l, int write_timeout_ms, int hold_timeout_ms,
		 const struct keyboard_cbs *cbs, void *data,
		 struct keyboard **out)
{
	struct keyboard *kb = calloc(1, sizeof(*kb));

	if (!kb)
		return -ENOMEM;
	kb->loop = l;
	kb->fd = -1;
	kb->write_timeout_ms = write_timeout_ms;
	kb->hold_timeout_ms = hold_timeout_ms;
	if (cbs)
		kb->cbs = *cbs;
	kb->cb_data = data;
	*out = kb;
	return 0;
}

int keyboard_open(struct keyboard *kb, const char *path)
{
	int fd;

	if (path != kb->path)
		snprintf(kb->path, sizeof(kb->path), "%s", path);
	fd = hid_open(kb->path);
	if (fd < 0) {
		/* It may appear later, e.g. when the gadget binds. */
		loop_timer_rearm(kb->loop, &kb->reopen_timer,
				 backoff_next(&kb->reopen_ms,
					      KEYBOARD_REOPEN_MS,
					      KEYBOARD_REOPEN_MAX_MS),
				 keyboard_reopen_cb, kb);
		return fd;
	}
	kb->reopen_ms = 0;
	if (kb->fd >= 0) {
		loop_fd_del(kb->loop, kb->fd);
		close(kb->fd);
	}
	kb->fd = fd;
	kb->want_out = false;
	return loop_fd_add(kb->loop, fd, POLLIN, keyboard_on_fd, kb);
}

void keyboard_free(struct keyboard *kb)
{
	if (!kb)
		return;
	if (kb->timer)
		loop_timer_cancel(kb->loop, kb->timer);
	if (kb->hold_timer)
		loop_timer_cancel(kb->loop, kb->hold_timer);
	if (kb->reopen_timer)
		loop_timer_cancel(kb->loop, kb->reopen_timer);
	typing_plan_free(&kb->plan);
	if (kb->fd >= 0) {
		loop_fd_del(kb->loop, kb->fd);
		close(kb->fd);
	}
	free(kb);
}

int keyboard_run(struct keyboard *kb, struct typing_plan *plan,
		 uint32_t hold_ms, keyboard_done_cb done, void *data)
{
	if (kb->running)
		return -EBUSY;
	if (kb->fd < 0)
		return -ENODEV;
	if (kb->hold_timer) {
		loop_timer_cancel(kb->loop, kb->hold_timer);
		kb->hold_timer = 0;
	}
	kb->plan = *plan;
	memset(plan, 0, sizeof(*plan));
	kb->idx = 0;
	kb->running = true;
	kb->hold_ms = hold_ms;
	kb->done = done;
	kb->done_data = data;
	kb->next_due_us = 0;
	kb->eagain_since_ms = 0;
	keyboard_pump(kb);
	return 0;
}

void keyboard_cancel(struct keyboard *kb)
{
	if (!kb->running)
		return;
	if (kb->timer) {
		loop_timer_cancel(kb->loop, kb->timer);
		kb->timer = 0;
	}
	keyboard_set_out(kb, false);
	keyboard_finish(kb, -ECANCELED, "cancelled");
	kb->release_pending = true;
	keyboard_release(kb);
}

bool keyboard_busy(const struct keyboard *kb)
{
	return kb->running;
}

uint8_t keyboard_leds(const struct keyboard *kb)
{
	return kb->leds;
}

bool keyboard_keys_down(const struct keyboard *kb)
{
	return !keyboard_report_zero(&kb->cur);
}

void keyboard_progress(const struct keyboard *kb, size_t *done, size_t *total)
{
	*done = kb->idx;
	*total = kb->running ? kb->plan.n : 0;
}
