#include "firmware/macro/macro_run_priv.h"
#include "firmware/console/console_last.h"
#include "firmware/host/phase.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A console line is matched on its first MACRO_MATCH_MAX bytes (after
 * escape sequences are taken out of its first MACRO_LINE_KEEP): the cost
 * of a bad pattern grows with the square of the text (see regex_cost()
 * in macro_parse.c), and prompts are short.
 */
#define MACRO_MATCH_MAX 1024
#define MACRO_LINE_KEEP 4096

static void macro_run_advance(struct macro_run *r);

static uint64_t macro_run_now(const struct macro_run *r)
{
	return r->env->now_ms(r->env->data);
}

static const struct macro_op *macro_run_op(const struct macro_run *r)
{
	return r->pc < r->s->n ? &r->s->ops[r->pc] : NULL;
}

uint32_t macro_run_line(const struct macro_run *r)
{
	const struct macro_op *op = macro_run_op(r);

	if (op)
		return op->line;
	return r->s && r->s->n ? r->s->ops[r->s->n - 1].line : 0;
}

bool macro_run_active(const struct macro_run *r)
{
	return r->env && r->phase != MACRO_PH_DONE;
}

/* The end: stop the keyboard and let every key go. */
static void macro_run_end(struct macro_run *r, enum macro_status st)
{
	const struct macro_env *e = r->env;

	r->status = st;
	r->phase = MACRO_PH_DONE;
	r->spam.on = false;
	if (r->kb_job) {
		r->kb_job = false;
		e->kb_cancel(e->data);
	}
	hid_report_clear(&r->held);
	e->kb_release(e->data);
}

void macro_run_fail(struct macro_run *r, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->phase == MACRO_PH_DONE)
		return;
	r->err_line = line;
	n = snprintf(r->msg, sizeof(r->msg), "line %u: ", (unsigned)line);
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	macro_run_end(r, MACRO_ERROR);
}

static void macro_run_progress(struct macro_run *r)
{
	if (r->env->progress)
		r->env->progress(r->env->data);
}

/* One run of the current op is over: the next run, or the next op. */
static void macro_run_op_done(struct macro_run *r)
{
	const struct macro_op *op = macro_run_op(r);

	r->steps++;
	r->phase = MACRO_PH_NEXT;
	if (op && ++r->run < op->runs)
		return;
	r->pc++;
	r->run = 0;
	macro_run_progress(r);
}

bool macro_run_is_wait(const struct macro_op *op)
{
	return op && (op->kind == MACRO_OP_WAIT_USB ||
		      op->kind == MACRO_OP_WAIT_LED ||
		      op->kind == MACRO_OP_WAIT_CONSOLE ||
		      op->kind == MACRO_OP_WAIT_PHASE ||
		      op->kind == MACRO_OP_WAIT_MEDIA_READ);
}

static uint32_t macro_run_wait_timeout(const struct macro_op *op)
{
	switch (op->kind) {
	case MACRO_OP_WAIT_USB:
		return op->u.usb.timeout_ms;
	case MACRO_OP_WAIT_LED:
		return op->u.led.timeout_ms;
	case MACRO_OP_WAIT_PHASE:
		return op->u.phase.timeout_ms;
	case MACRO_OP_WAIT_MEDIA_READ:
		return op->u.media_read.timeout_ms;
	default:
		return op->u.console.timeout_ms;
	}
}

/* Start the op at pc; false if it has to wait for the keyboard. */
static bool macro_run_next(struct macro_run *r, uint64_t now)
{
	const struct macro_env *e = r->env;
	const struct macro_op *op = macro_run_op(r);
	char err[200];
	int rc;

	if (!op) {
		/* A SPAM press may still be on its way. */
		if (r->kb_job)
			return false;
		snprintf(r->msg, sizeof(r->msg), "%zu lines run",
			 (size_t)r->s->n);
		macro_run_end(r, MACRO_OK);
		return true;
	}
	switch (op->kind) {
	case MACRO_OP_DELAY:
		r->phase = MACRO_PH_DELAY;
		r->due_ms = now + op->u.ms;
		return true;
	case MACRO_OP_REBOOT:
		if (op->u.reboot == MACRO_REBOOT_HARD) {
			r->reboot_ms = now;
			err[0] = '\0';
			rc = e->hard_reset(e->data, err, sizeof(err));
			if (rc)
				macro_run_fail(r, op->line, "REBOOT hard: %s",
					       err[0] ? err : strerror(-rc));
			else
				macro_run_op_done(r);
			return true;
		}
		/* fall through */
	case MACRO_OP_TYPE:
	case MACRO_OP_CHORD:
	case MACRO_OP_HOLD:
	case MACRO_OP_RELEASE:
		if (r->kb_job)
			return false;
		if (op->kind == MACRO_OP_REBOOT)
			r->reboot_ms = now;
		macro_run_kb_op(r, op);
		return true;
	case MACRO_OP_WAIT_USB:
	case MACRO_OP_WAIT_LED:
	case MACRO_OP_WAIT_CONSOLE:
	case MACRO_OP_WAIT_PHASE:
	case MACRO_OP_WAIT_MEDIA_READ:
		r->phase = MACRO_PH_WAIT;
		r->due_ms = now + macro_run_wait_timeout(op);
		r->wait_met = false;
		r->led_at_start = e->leds ? e->leds(e->data) : 0;
		r->reads_at_start =
			e->media_reads ? e->media_reads(e->data) : 0;
		return true;
	case MACRO_OP_SPAM:
		r->spam.on = true;
		r->spam.op = op;
		r->spam.idx = 0;
		r->spam.next_ms = now;
		r->spam.end_ms = now + op->u.spam.for_ms;
		r->spam.with_wait = r->pc + 1 < r->s->n &&
				    macro_run_is_wait(&r->s->ops[r->pc + 1]);
		if (r->spam.with_wait)
			macro_run_op_done(r);
		else
			r->phase = MACRO_PH_SPAM;
		return true;
	case MACRO_OP_MEDIA:
		err[0] = '\0';
		rc = e->media(e->data, op->u.media.name, err, sizeof(err));
		if (rc)
			macro_run_fail(r, op->line, "MEDIA: %s",
				       err[0] ? err : strerror(-rc));
		else
			macro_run_op_done(r);
		return true;
	default:
		macro_run_fail(r, op->line, "unknown operation %d",
			       (int)op->kind);
		return true;
	}
}

/* Press the next SPAM key when it is due and the keyboard is free. */
static bool macro_run_spam(struct macro_run *r, uint64_t now)
{
	const struct macro_op *op = r->spam.op;
	struct typing_plan plan = {0};
	int err;

	if (!r->spam.on)
		return false;
	if (now >= r->spam.end_ms) {
		r->spam.on = false;
		return true;
	}
	if (r->kb_job || now < r->spam.next_ms)
		return false;
	err = typing_plan_chords(&plan, &op->u.spam.keys[r->spam.idx], 1,
				 macro_run_profile(r, op));
	r->spam.idx = (uint8_t)((r->spam.idx + 1) % op->u.spam.n);
	r->spam.next_ms += op->u.spam.every_ms;
	if (r->spam.next_ms <= now)
		r->spam.next_ms = now + op->u.spam.every_ms;
	if (err) {
		typing_plan_free(&plan);
		return false;
	}
	macro_run_overlay(r, &plan);
	r->spam.presses++;
	r->kb_job = true;
	r->kb_is_spam = true;
	if (r->env->kb_run(r->env->data, &plan)) {
		/* No keyboard now: the next press tries again. */
		r->kb_job = false;
		typing_plan_free(&plan);
	}
	return true;
}

static bool macro_run_wait_met(struct macro_run *r, const struct macro_op *op)
{
	const struct macro_env *e = r->env;
	enum udc_state st;
	uint64_t since;
	uint8_t l;

	switch (op->kind) {
	case MACRO_OP_WAIT_USB:
		if (e->usb(e->data, &st, &since))
			return false;
		return st == op->u.usb.want &&
		       (!r->reboot_ms || since >= r->reboot_ms);
	case MACRO_OP_WAIT_LED:
		l = e->leds(e->data);
		if (op->u.led.want == MACRO_LED_ON)
			return l & op->u.led.bit;
		if (op->u.led.want == MACRO_LED_OFF)
			return !(l & op->u.led.bit);
		return (l ^ r->led_at_start) & op->u.led.bit;
	case MACRO_OP_WAIT_PHASE:
		return e->phase(e->data) == op->u.phase.want;
	case MACRO_OP_WAIT_MEDIA_READ:
		return e->media_reads(e->data) > r->reads_at_start;
	default:
		return r->wait_met;
	}
}

static void macro_run_wait(struct macro_run *r, uint64_t now)
{
	const struct macro_op *op = macro_run_op(r);
	enum udc_state st;
	uint64_t since;

	if (macro_run_wait_met(r, op)) {
		if (r->spam.with_wait)
			r->spam.on = false;
		macro_run_op_done(r);
		return;
	}
	if (now < r->due_ms)
		return;
	if (r->spam.with_wait)
		r->spam.on = false;
	switch (op->kind) {
	case MACRO_OP_WAIT_USB:
		if (r->env->usb(r->env->data, &st, &since))
			st = UDC_STATE_UNKNOWN;
		macro_run_fail(
			r, op->line,
			"WAIT_USB %s: timed out after %u ms (the host's USB "
			"state is %s)",
			udc_state_name(op->u.usb.want), op->u.usb.timeout_ms,
			udc_state_name(st));
		break;
	case MACRO_OP_WAIT_LED:
		macro_run_fail(r, op->line, "WAIT_LED: timed out after %u ms",
			       op->u.led.timeout_ms);
		break;
	case MACRO_OP_WAIT_PHASE:
		macro_run_fail(
			r, op->line,
			"WAIT_PHASE %s: timed out after %u ms (the server "
			"phase is %s)",
			phase_name((enum phase)op->u.phase.want),
			op->u.phase.timeout_ms,
			phase_name((enum phase)r->env->phase(r->env->data)));
		break;
	case MACRO_OP_WAIT_MEDIA_READ:
		macro_run_fail(
			r, op->line,
			"WAIT_MEDIA_READ: the host did not read the virtual "
			"media within %u ms",
			op->u.media_read.timeout_ms);
		break;
	default:
		macro_run_fail(
			r, op->line,
			"WAIT_CONSOLE /%s/: no matching console line within "
			"%u ms",
			op->u.console.pattern, op->u.console.timeout_ms);
		break;
	}
}

/* The op's keyboard job ended. */
static void macro_run_kb_finished(struct macro_run *r, uint64_t now)
{
	const struct macro_op *op = macro_run_op(r);

	if (r->kb_err &&
	    !(op->kind == MACRO_OP_REBOOT &&
	      (r->kb_err == -ETIMEDOUT || r->kb_err == -ESHUTDOWN))) {
		/* A host that stops polling after Ctrl+Alt+Del did reboot. */
		macro_run_fail(r, op->line, "%s: %s", macro_op_name(op->kind),
			       r->kb_msg[0] ? r->kb_msg : strerror(-r->kb_err));
		return;
	}
	if (op->after_ms) {
		r->phase = MACRO_PH_DELAY;
		r->due_ms = now + op->after_ms;
		return;
	}
	macro_run_op_done(r);
}

/* One step of the state machine; true if anything moved. */
static bool macro_run_step(struct macro_run *r)
{
	uint64_t now = macro_run_now(r);
	enum macro_phase ph = r->phase;
	size_t pc = r->pc;
	uint64_t steps = r->steps;
	bool moved;

	if (r->phase == MACRO_PH_DONE)
		return false;
	if (r->cancel) {
		snprintf(r->msg, sizeof(r->msg), "cancelled at line %u",
			 (unsigned)macro_run_line(r));
		r->err_line = macro_run_line(r);
		macro_run_end(r, MACRO_CANCELLED);
		return true;
	}
	if (now >= r->deadline_ms) {
		macro_run_fail(
			r, macro_run_line(r),
			"the macro ran longer than %llu s",
			(unsigned long long)(MACRO_RUNTIME_MAX_MS / 1000));
		return true;
	}
	moved = macro_run_spam(r, now);
	switch (r->phase) {
	case MACRO_PH_NEXT:
		moved |= macro_run_next(r, now);
		break;
	case MACRO_PH_KB:
		if (!r->kb_job)
			macro_run_kb_finished(r, now);
		break;
	case MACRO_PH_DELAY:
		if (now >= r->due_ms)
			macro_run_op_done(r);
		break;
	case MACRO_PH_WAIT:
		macro_run_wait(r, now);
		break;
	case MACRO_PH_SPAM:
		if (!r->spam.on)
			macro_run_op_done(r);
		break;
	case MACRO_PH_DONE:
		break;
	}
	return moved || ph != r->phase || pc != r->pc || steps != r->steps;
}

static void macro_run_arm(struct macro_run *r)
{
	const struct macro_env *e = r->env;
	uint64_t t = r->deadline_ms;

	if (r->phase == MACRO_PH_DONE) {
		e->timer(e->data, 0);
		return;
	}
	if ((r->phase == MACRO_PH_DELAY || r->phase == MACRO_PH_WAIT) &&
	    r->due_ms < t)
		t = r->due_ms;
	if (r->spam.on) {
		if (r->spam.end_ms < t)
			t = r->spam.end_ms;
		if (!r->kb_job && r->spam.next_ms < t)
			t = r->spam.next_ms;
	}
	/* 0 means "no timer": a due time of 0 is simply due. */
	e->timer(e->data, t ? t : 1);
}

/*
 * Run steps until nothing moves. Events that arrive while steps run
 * (a keyboard job that ends inside kb_run) only ask for another round.
 */
static void macro_run_advance(struct macro_run *r)
{
	if (!r->env)
		return;
	if (r->busy) {
		r->again = true;
		return;
	}
	r->busy = true;
	do {
		r->again = false;
		while (macro_run_step(r))
			;
	} while (r->again);
	r->busy = false;
	macro_run_arm(r);
	if (r->phase == MACRO_PH_DONE) {
		const struct macro_env *e = r->env;

		/* Nothing touches r after done(): it may be reused. */
		r->env = NULL;
		e->done(e->data, r->status, r->err_line, r->msg);
	}
}

int macro_run_start(struct macro_run *r, const struct macro_env *env,
		    const struct macro_script *s, struct macro_error *err)
{
	enum udc_state st;
	uint64_t since;

	memset(err, 0, sizeof(*err));
	for (size_t i = 0; i < s->n; i++) {
		const struct macro_op *op = &s->ops[i];
		const char *why = NULL;

		if (op->kind == MACRO_OP_REBOOT &&
		    op->u.reboot == MACRO_REBOOT_HARD && !env->hard_reset)
			why = "REBOOT hard needs the reset pin wired ([power] "
			      "gpio_chip and reset_line)";
		else if (op->kind == MACRO_OP_REBOOT &&
			 op->u.reboot == MACRO_REBOOT_SYSRQ && !env->sysrq_plan)
			why = "REBOOT sysrq is not available";
		else if (op->kind == MACRO_OP_MEDIA && !env->media)
			why = "MEDIA: virtual media is not available on this "
			      "agent";
		else if (op->kind == MACRO_OP_WAIT_USB &&
			 (!env->usb || env->usb(env->data, &st, &since)))
			why = "WAIT_USB: the server's USB state is not known "
			      "here ([gadget] udc or udc_state)";
		else if (op->kind == MACRO_OP_WAIT_LED && !env->leds)
			why = "WAIT_LED: the keyboard LEDs are not known here";
		else if (op->kind == MACRO_OP_WAIT_PHASE && !env->phase)
			why = "WAIT_PHASE: the server phase is not known here";
		else if (op->kind == MACRO_OP_WAIT_MEDIA_READ &&
			 !env->media_reads)
			why = "WAIT_MEDIA_READ: media reads are not watched "
			      "here "
			      "(no virtual media)";
		else if (op->kind == MACRO_OP_WAIT_CONSOLE && !env->has_console)
			why = "WAIT_CONSOLE: the console is off ([console] "
			      "device)";
		if (why) {
			err->line = op->line;
			snprintf(err->msg, sizeof(err->msg), "%s", why);
			return -ENOTSUP;
		}
	}
	memset(r, 0, sizeof(*r));
	r->env = env;
	r->s = s;
	r->phase = MACRO_PH_NEXT;
	r->start_ms = macro_run_now(r);
	r->deadline_ms = r->start_ms + MACRO_RUNTIME_MAX_MS;
	/* The first step runs from the timer, never inside the caller. */
	env->timer(env->data, r->start_ms ? r->start_ms : 1);
	return 0;
}

void macro_run_cancel(struct macro_run *r)
{
	if (!r->env)
		return;
	r->cancel = true;
	macro_run_advance(r);
}

void macro_run_tick(struct macro_run *r)
{
	macro_run_advance(r);
}

void macro_run_kb_done(struct macro_run *r, int err, const char *msg)
{
	if (!r->env || !r->kb_job)
		return;
	r->kb_job = false;
	/* Someone else stopped the keyboard (the agent shutting down). */
	if (err == -ECANCELED)
		r->cancel = true;
	if (!r->kb_is_spam) {
		r->kb_err = err;
		snprintf(r->kb_msg, sizeof(r->kb_msg), "%s", msg ? msg : "");
	}
	macro_run_advance(r);
}

void macro_run_poke(struct macro_run *r)
{
	if (r->env && r->phase == MACRO_PH_WAIT)
		macro_run_advance(r);
}

/* Escape sequences out, by the grammar of the console's "last" line. */
static size_t macro_run_strip_ansi(char *s, size_t len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (s[i] == 0x1b)
			i += console_ansi_len(s + i, len - i);
		else
			s[o++] = s[i++];
	}
	s[o] = '\0';
	return o;
}

static bool macro_run_match(const regex_t *re, char *buf, size_t len)
{
	char keep;
	bool hit;

	if (len > MACRO_MATCH_MAX)
		len = MACRO_MATCH_MAX;
	keep = buf[len];
	buf[len] = '\0';
	hit = !regexec(re, buf, 0, NULL, 0);
	buf[len] = keep;
	return hit;
}

void macro_run_console(struct macro_run *r, const char *line, size_t len)
{
	const struct macro_op *op;
	char *buf;

	if (!r->env || r->phase != MACRO_PH_WAIT || r->wait_met)
		return;
	op = macro_run_op(r);
	if (!op || op->kind != MACRO_OP_WAIT_CONSOLE)
		return;
	if (len > MACRO_LINE_KEEP)
		len = MACRO_LINE_KEEP;
	buf = malloc(len + 1);
	if (!buf)
		return;
	memcpy(buf, line, len);
	buf[len] = '\0';
	/* A NUL inside the line ends it for regexec: fine, it is rare. */
	if (macro_run_match(op->u.console.re, buf, len))
		r->wait_met = true;
	else if (memchr(buf, 0x1b, len))
		r->wait_met =
			macro_run_match(op->u.console.re, buf,
					macro_run_strip_ansi(buf, strlen(buf)));
	free(buf);
	if (r->wait_met)
		macro_run_advance(r);
}
