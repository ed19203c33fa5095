/*
 * Boot once from the virtual media: the plan of attempts and the state
 * machine that runs them. Each attempt is a small macro script (reboot,
 * the firmware's keys, the proof) run by the macro runner, so its keys,
 * waits and deadlines behave exactly as docs/MACROS.md says. The proof
 * comes after the script: [boot] proof_reads reads of the medium after
 * the re-enumeration and after the last key, within the deadline.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware/boot/boot_priv.h"
#include "firmware/host/timeline.h"
#include "firmware/keyboard/keyboard_cap.h"

const char *const boot_strategy_names[BOOT_STRATEGY_COUNT] = {
	[BOOT_MEDIA_FIRST] = "media-first",
	[BOOT_MENU] = "boot-menu",
	[BOOT_SETUP_MANAGER] = "setup-boot-manager",
	[BOOT_SETUP] = "setup",
};

static const char *const boot_reboot_lines[] = {
	[BOOT_REBOOT_HARD] = "hard",
	[BOOT_REBOOT_SOFT] = "soft",
	[BOOT_REBOOT_SYSRQ] = "sysrq",
};

static void boot_plan_add(struct boot_job *job, enum boot_strategy s,
			  int position)
{
	struct boot_attempt *a;

	if (job->n_plan == BOOT_ATTEMPTS_MAX)
		return;
	a = &job->plan[job->n_plan++];
	a->strategy = s;
	a->position = position;
	a->outcome[0] = '\0';
	a->ms = 0;
}

/* The remembered position first, then the others up to b->positions. */
static void boot_plan_menu(const struct boot *b, struct boot_job *job,
			   enum boot_strategy s)
{
	int first =
		b->calib[s] >= 0 ? b->calib[s] : (int)b->profile->usb_position;
	unsigned int n = 1;

	boot_plan_add(job, s, first);
	for (int p = 0; n < b->positions && p < 32; p++)
		if (p != first) {
			boot_plan_add(job, s, p);
			n++;
		}
}

int boot_once_plan(struct boot *b, struct boot_job *job)
{
	job->n_plan = 0;
	if (job->target == BOOT_TARGET_SETUP) {
		boot_plan_add(job, BOOT_SETUP, -1);
		return 0;
	}
	boot_plan_add(job, BOOT_MEDIA_FIRST, -1);
	boot_plan_menu(b, job, BOOT_MENU);
	/* Firmware whose setup has no boot list reachable blind (the
	 * profile gives no way there) skips that strategy. */
	if (b->profile->setup_nav[0])
		boot_plan_menu(b, job, BOOT_SETUP_MANAGER);
	return 0;
}

/* Count the lines of text so far: the number of the next one. */
static uint32_t boot_next_line(const char *text)
{
	uint32_t n = 1;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

#define BOOT_ADD(...)                                                          \
	do {                                                                   \
		if (off < len)                                                 \
			off += (size_t)snprintf(buf + off, len - off,          \
						__VA_ARGS__);                  \
	} while (0)

/*
 * The script of one attempt. Keys are spammed from the reboot until the
 * USB comes back and for key_window_ms after (the firmware's hotkey
 * window follows its own enumeration), then the menu settles.
 */
static int boot_script(const struct boot *b, struct boot_job *job,
		       const struct boot_attempt *a, char *buf, size_t len)
{
	const char *keys = a->strategy == BOOT_MENU ? b->profile->menu_keys
						    : b->profile->setup_keys;
	const char *nav = a->strategy == BOOT_MENU ? b->profile->menu_nav
						   : b->profile->setup_nav;
	uint32_t t = job->timeout_ms;
	size_t off = 0;

	BOOT_ADD("PROFILE bios\nREBOOT %s\n", boot_reboot_lines[job->reboot]);
	if (a->strategy != BOOT_MEDIA_FIRST)
		BOOT_ADD("SPAM %s 100ms %ums\n", keys, t);
	job->wait_usb_line = boot_next_line(buf);
	BOOT_ADD("WAIT_USB configured %ums\n", t);
	if (a->strategy != BOOT_MEDIA_FIRST)
		BOOT_ADD("SPAM %s 100ms %ums\nDELAY %ums\n", keys,
			 b->key_window_ms, b->settle_ms);
	if (a->strategy != BOOT_MEDIA_FIRST && a->strategy != BOOT_SETUP) {
		if (nav[0])
			BOOT_ADD("%sDELAY %ums\n", nav, b->settle_ms);
		if (a->position > 0)
			BOOT_ADD("DOWN\n");
		if (a->position > 1)
			BOOT_ADD("REPEAT %d\n", a->position - 1);
		BOOT_ADD("ENTER\n");
	}
	return off < len ? 0 : -E2BIG;
}

static void boot_next_cb(void *data);

static void boot_schedule_next(struct boot *b)
{
	loop_timer_rearm(b->loop, &b->next_timer, 0, boot_next_cb, b);
}

/* Start the attempt at job->cur, or answer when none is left. */
static void boot_next_cb(void *data)
{
	struct boot *b = data;
	struct boot_job *job = b->job;
	struct boot_attempt *a;
	struct macro_error err;
	char text[BOOT_SCRIPT_MAX];
	int r;

	b->next_timer = 0;
	if (!job)
		return;
	if (job->cur == job->n_plan) {
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "no strategy booted from the media: %zu attempts "
			 "failed (see attempts)",
			 job->n_plan);
		boot_finish(b, RESULT_ERROR, msg, -1);
		return;
	}
	a = &job->plan[job->cur];
	a->reboot = job->reboot;
	job->attempt_ms = loop_now_ms();
	macro_script_free(&job->s);
	r = boot_script(b, job, a, text, sizeof(text));
	if (!r)
		r = macro_parse(text, strlen(text), keyboard_cap_layout(b->kb),
				&job->s, &err);
	else
		snprintf(err.msg, sizeof(err.msg), "attempt script too long");
	if (!r)
		r = macro_run_start(&b->run, &b->env, &job->s, &err);
	if (r) {
		/* A profile row the runner refuses is a bug of the table:
		 * record it and go on with the next strategy. */
		macro_error_format(&err, a->outcome, sizeof(a->outcome));
		a->ms = 0;
		job->cur++;
		boot_schedule_next(b);
		return;
	}
	job->running = true;
	cap_state_dirty(b->c);
}

void boot_once_start(struct boot *b)
{
	struct boot_job *job = b->job;

	job->start_ms = loop_now_ms();
	job->cur = 0;
	job->reboot = b->env.hard_reset ? BOOT_REBOOT_HARD : BOOT_REBOOT_SOFT;
	boot_schedule_next(b);
}

/* Closes the attempt whose proof is awaited, with its figures. */
static void boot_attempt_close(struct boot *b, bool reads, const char *outcome)
{
	struct boot_job *job = b->job;
	struct boot_attempt *a = &job->plan[job->cur];

	job->proving = false;
	if (job->proof_timer)
		loop_timer_cancel(b->loop, job->proof_timer);
	job->proof_timer = 0;
	a->ms = loop_now_ms() - job->attempt_ms;
	if (reads)
		a->reads = timeline_media_reads(b->timeline) - job->reads_base;
	snprintf(a->outcome, sizeof(a->outcome), "%s", outcome);
	job->cur++;
}

/* The attempt's end: proven, or on to the next one. */
static void boot_attempt_end(struct boot *b, bool ok)
{
	struct boot_job *job = b->job;

	boot_attempt_close(b, job->plan[job->cur].proof,
			   ok ? "ok" : "no-media-reads");
	if (ok)
		boot_finish(b, RESULT_OK, NULL, (int)job->cur - 1);
	else
		boot_schedule_next(b);
}

static void boot_proof_timeout(void *data)
{
	struct boot *b = data;

	b->job->proof_timer = 0;
	boot_attempt_end(b, false);
}

void boot_once_poke(struct boot *b)
{
	struct boot_job *job = b->job;

	if (job && job->proving &&
	    timeline_media_reads(b->timeline) - job->reads_base >=
		    b->proof_reads)
		boot_attempt_end(b, true);
}

void boot_once_done(void *data, enum macro_status st, uint32_t line,
		    const char *msg)
{
	struct boot *b = data;
	struct boot_job *job = b->job;
	struct boot_attempt *a = &job->plan[job->cur];

	job->running = false;
	a->ms = loop_now_ms() - job->attempt_ms;
	if (st == MACRO_OK && a->strategy == BOOT_SETUP) {
		boot_attempt_end(b, true);
		return;
	}
	if (st == MACRO_OK) {
		/* The keys are done: from here, reads of the medium are the
		 * server booting it (a scan before the last key is not). */
		a->proof = true;
		job->proving = true;
		job->reads_base = timeline_media_reads(b->timeline);
		loop_timer_rearm(b->loop, &job->proof_timer, job->timeout_ms,
				 boot_proof_timeout, b);
		return;
	}
	if (st == MACRO_CANCELLED) {
		snprintf(a->outcome, sizeof(a->outcome), "cancelled");
		job->cur++;
		boot_finish(b, RESULT_CANCELLED,
			    job->stopping ? "the agent stopped" : "cancelled",
			    -1);
		return;
	}
	snprintf(a->outcome, sizeof(a->outcome), "%s", msg);
	/* Ctrl+Alt+Del that brought no re-enumeration: the OS ignores it
	 * (hung, or a Windows logon screen); SysRq from here on. */
	if (line && line == job->wait_usb_line &&
	    job->reboot == BOOT_REBOOT_SOFT)
		job->reboot = BOOT_REBOOT_SYSRQ;
	job->cur++;
	boot_schedule_next(b);
}

void boot_once_cancel(struct boot *b, bool stopping)
{
	struct boot_job *job = b->job;

	if (!job)
		return;
	job->cancelling = true;
	job->stopping = stopping;
	if (job->running) {
		macro_run_cancel(&b->run);
		return;
	}
	if (job->proving)
		boot_attempt_close(b, true, "cancelled");
	if (b->next_timer)
		loop_timer_cancel(b->loop, b->next_timer);
	b->next_timer = 0;
	boot_finish(b, RESULT_CANCELLED,
		    stopping ? "the agent stopped" : "cancelled", -1);
}
