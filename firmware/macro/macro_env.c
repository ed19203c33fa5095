/* The macro runner's world: the keyboard, USB state, LEDs, media, power
 * and timeline a running macro drives and waits on, and its start and
 * end. */
#include "firmware/macro/macro_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/host/hostwatch.h"
#include "firmware/host/timeline.h"
#include "firmware/keyboard/keyboard.h"
#include "firmware/keyboard/keyboard_cap.h"
#include "firmware/media/media.h"
#include "firmware/media/media_cap.h"
#include "firmware/power/power.h"
#include "firmware/power/power_cap.h"

static uint64_t macros_now(void *data)
{
	(void)data;
	return loop_now_ms();
}

static void macros_run_timer_cb(void *data)
{
	struct macros *m = data;

	m->run_timer = 0;
	macro_run_tick(&m->run);
}

static void macros_timer(void *data, uint64_t at_ms)
{
	struct macros *m = data;
	uint64_t now = loop_now_ms();

	if (!at_ms) {
		if (m->run_timer)
			loop_timer_cancel(m->loop, m->run_timer);
		m->run_timer = 0;
		return;
	}
	loop_timer_rearm(m->loop, &m->run_timer, at_ms > now ? at_ms - now : 0,
			 macros_run_timer_cb, m);
}

static void macros_kb_done(void *data, int err, const char *msg)
{
	struct macros *m = data;

	macro_run_kb_done(&m->run, err, msg);
}

static int macros_kb_run(void *data, struct typing_plan *plan)
{
	struct macros *m = data;

	/* Keys that HOLD keeps down stay down until RELEASE or the end of
	 * the macro, which releases everything. */
	return keyboard_run(keyboard_cap_device(m->kb), plan,
			    (uint32_t)MACRO_RUNTIME_MAX_MS, macros_kb_done, m);
}

static void macros_kb_cancel(void *data)
{
	struct macros *m = data;

	keyboard_cancel(keyboard_cap_device(m->kb));
}

static void macros_kb_release(void *data)
{
	struct macros *m = data;

	keyboard_release(keyboard_cap_device(m->kb));
}

static int macros_sysrq(void *data, struct typing_plan *plan)
{
	(void)data;
	return typing_plan_sysrq(plan);
}

static int macros_usb(void *data, enum udc_state *st, uint64_t *since_ms)
{
	struct macros *m = data;

	if (!m->host)
		return -ENODEV;
	*st = hostwatch_state(m->host);
	*since_ms = hostwatch_since_ms(m->host);
	return 0;
}

static uint8_t macros_leds(void *data)
{
	struct macros *m = data;

	return keyboard_leds(keyboard_cap_device(m->kb));
}

static int macros_media(void *data, const char *name, char *err, size_t len)
{
	struct macros *m = data;
	struct media_insert_req rq = {.mode = -1, .readonly = -1};
	struct media_done done;

	if (!name)
		return media_eject(media_cap_media(m->media), &done, err, len);
	rq.name = name;
	rq.len = strlen(name);
	return media_insert(media_cap_media(m->media), &rq, &done, err, len);
}

static void macros_reset_done(void *data, int err, const char *msg,
			      cJSON *extra)
{
	/* The press ends on its own; the macro goes on with its next line
	 * (usually a WAIT_USB) and does not wait for it. */
	(void)data;
	(void)err;
	(void)msg;
	cJSON_Delete(extra);
}

static int macros_hard_reset(void *data, char *err, size_t len)
{
	struct macros *m = data;

	struct power *p = power_cap_power(m->power);

	if (!power_wired(p, POWER_LINE_RESET)) {
		snprintf(err, len,
			 "the reset pin is not wired ([power] gpio_chip and "
			 "reset_line)");
		return -ENODEV;
	}
	return power_start(p, POWER_ACT_RESET, true, macros_reset_done, m, err,
			   len);
}

static int macros_phase(void *data)
{
	struct macros *m = data;

	return (int)timeline_phase(m->timeline);
}

static uint64_t macros_media_reads(void *data)
{
	struct macros *m = data;

	return timeline_media_reads(m->timeline);
}

void macros_on_timeline(void *data)
{
	struct macros *m = data;

	macro_run_poke(&m->run);
}

static void macros_progress_cb(void *data)
{
	struct macros *m = data;

	m->progress_timer = 0;
	cap_state_dirty(m->c);
}

/* A macro of many quick lines must not flood the retained state. */
static void macros_progress(void *data)
{
	struct macros *m = data;

	if (!m->progress_timer)
		loop_timer_rearm(m->loop, &m->progress_timer, MACRO_STATE_MS,
				 macros_progress_cb, m);
}

static void macros_done(void *data, enum macro_status st, uint32_t line,
			const char *msg)
{
	struct macros *m = data;
	struct macro_job *job = m->cur;
	cJSON *x = cJSON_CreateObject();
	static const enum result_status rs[] = {
		[MACRO_OK] = RESULT_OK,
		[MACRO_ERROR] = RESULT_ERROR,
		[MACRO_CANCELLED] = RESULT_CANCELLED,
	};

	m->cur = NULL;
	keyboard_cap_unclaim(m->kb);
	m->last.set = true;
	snprintf(m->last.name, sizeof(m->last.name), "%s", job->name);
	m->last.st = st;
	m->last.line = line;
	snprintf(m->last.msg, sizeof(m->last.msg), "%s",
		 st == MACRO_OK ? "" : msg);
	cJSON_AddStringToObject(x, "name", job->name);
	if (st != MACRO_OK)
		cJSON_AddNumberToObject(x, "line", line);
	cJSON_AddNumberToObject(x, "steps", (double)m->run.steps);
	cJSON_AddNumberToObject(x, "total", (double)job->s.runs);
	cJSON_AddNumberToObject(x, "ms",
				(double)(loop_now_ms() - m->cur_start_ms));
	cap_reply(m->c, job->req, rs[st], st == MACRO_OK ? NULL : msg, x);
	job->req = NULL;
	macros_job_free(job);
	if (m->nq)
		loop_timer_rearm(m->loop, &m->next_timer, 0, macros_next_cb, m);
	cap_state_dirty(m->c);
}

/* ---- starting ---- */

void macros_start(struct macros *m, struct macro_job *job)
{
	struct macro_error err;
	int r;

	m->env = (struct macro_env){
		.data = m,
		.now_ms = macros_now,
		.timer = macros_timer,
		.kb_run = macros_kb_run,
		.kb_cancel = macros_kb_cancel,
		.kb_release = macros_kb_release,
		.sysrq_plan = macros_sysrq,
		.usb = m->host ? macros_usb : NULL,
		.leds = macros_leds,
		.has_console = m->console,
		.media = m->media ? macros_media : NULL,
		.hard_reset = m->power ? macros_hard_reset : NULL,
		.phase = m->timeline ? macros_phase : NULL,
		.media_reads =
			m->timeline && m->media ? macros_media_reads : NULL,
		.progress = macros_progress,
		.done = macros_done,
		.layout = keyboard_cap_layout(m->kb),
		.profile = keyboard_cap_profile(m->kb),
	};
	r = macro_run_start(&m->run, &m->env, &job->s, &err);
	if (r) {
		char msg[MACRO_ERROR_MAX + 32];

		macro_error_format(&err, msg, sizeof(msg));
		macros_job_refuse(m, job, RESULT_ERROR, err.line, msg);
		if (m->nq)
			loop_timer_rearm(m->loop, &m->next_timer, 0,
					 macros_next_cb, m);
		return;
	}
	m->cur = job;
	m->cur_start_ms = loop_now_ms();
	keyboard_cap_claim(m->kb, MACRO_BUSY);
	cap_state_dirty(m->c);
}

void macros_next_cb(void *data)
{
	struct macros *m = data;
	struct macro_job *job;

	m->next_timer = 0;
	if (m->cur || !m->nq)
		return;
	if (keyboard_busy(keyboard_cap_device(m->kb)) ||
	    keyboard_cap_claimed(m->kb)) {
		/* A key or type job runs; the keyboard does not say when it
		 * ends to anyone but its command. */
		loop_timer_rearm(m->loop, &m->next_timer, MACRO_KB_RETRY_MS,
				 macros_next_cb, m);
		return;
	}
	job = m->queue[0];
	memmove(m->queue, m->queue + 1, --m->nq * sizeof(m->queue[0]));
	macros_start(m, job);
	cap_state_dirty(m->c);
}
