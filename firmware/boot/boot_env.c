/*
 * The macro runner's world for cmd/boot: the keyboard, the UDC state,
 * the timeline's media reads and the reset pin, as macro.c wires them
 * for cmd/macro, for boot attempts and reinstall's waits (no MEDIA
 * lines).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware/boot/boot_priv.h"
#include "firmware/host/hostwatch.h"
#include "firmware/host/timeline.h"
#include "firmware/keyboard/keyboard.h"
#include "firmware/keyboard/keyboard_cap.h"
#include "firmware/power/power.h"
#include "firmware/power/power_cap.h"

static uint64_t boot_env_now(void *data)
{
	(void)data;
	return loop_now_ms();
}

static void boot_env_timer_cb(void *data)
{
	struct boot *b = data;

	b->run_timer = 0;
	macro_run_tick(&b->run);
}

static void boot_env_timer(void *data, uint64_t at_ms)
{
	struct boot *b = data;
	uint64_t now = loop_now_ms();

	if (!at_ms) {
		if (b->run_timer)
			loop_timer_cancel(b->loop, b->run_timer);
		b->run_timer = 0;
		return;
	}
	loop_timer_rearm(b->loop, &b->run_timer, at_ms > now ? at_ms - now : 0,
			 boot_env_timer_cb, b);
}

static void boot_env_kb_done(void *data, int err, const char *msg)
{
	struct boot *b = data;

	macro_run_kb_done(&b->run, err, msg);
}

static int boot_env_kb_run(void *data, struct typing_plan *plan)
{
	struct boot *b = data;

	return keyboard_run(keyboard_cap_device(b->kb), plan,
			    (uint32_t)MACRO_RUNTIME_MAX_MS, boot_env_kb_done,
			    b);
}

static void boot_env_kb_cancel(void *data)
{
	struct boot *b = data;

	keyboard_cancel(keyboard_cap_device(b->kb));
}

static void boot_env_kb_release(void *data)
{
	struct boot *b = data;

	keyboard_release(keyboard_cap_device(b->kb));
}

static int boot_env_sysrq(void *data, struct typing_plan *plan)
{
	(void)data;
	return typing_plan_sysrq(plan);
}

static int boot_env_usb(void *data, enum udc_state *st, uint64_t *since_ms)
{
	struct boot *b = data;

	*st = hostwatch_state(b->host);
	*since_ms = hostwatch_since_ms(b->host);
	return 0;
}

static uint8_t boot_env_leds(void *data)
{
	struct boot *b = data;

	return keyboard_leds(keyboard_cap_device(b->kb));
}

static int boot_env_phase(void *data)
{
	struct boot *b = data;

	return (int)timeline_phase(b->timeline);
}

static uint64_t boot_env_media_reads(void *data)
{
	struct boot *b = data;

	return timeline_media_reads(b->timeline);
}

static void boot_env_reset_done(void *data, int err, const char *msg,
				cJSON *extra)
{
	/* The press ends on its own; the attempt waits for the USB. */
	(void)data;
	(void)err;
	(void)msg;
	cJSON_Delete(extra);
}

static int boot_env_hard_reset(void *data, char *err, size_t len)
{
	struct boot *b = data;
	struct power *p = power_cap_power(b->power);

	if (!power_wired(p, POWER_LINE_RESET)) {
		snprintf(err, len, "the reset pin is not wired");
		return -ENODEV;
	}
	return power_start(p, POWER_ACT_RESET, true, boot_env_reset_done, b,
			   err, len);
}

/* The runner serves a boot's attempts, a reinstall's or a UEFI script's. */
static void boot_env_done(void *data, enum macro_status st, uint32_t line,
			  const char *msg)
{
	struct boot *b = data;

	if (b->job)
		boot_once_done(b, st, line, msg);
	else if (b->reinstall)
		reinstall_run_done(b, st, line, msg);
	else if (b->uefi)
		uefi_run_done(b, st, msg);
}

int boot_run_text(struct boot *b, struct macro_script *s, const char *text,
		  char *msg, size_t len)
{
	struct macro_error err;
	int r;

	macro_script_free(s);
	r = macro_parse(text, strlen(text), keyboard_cap_layout(b->kb), s,
			&err);
	if (!r)
		r = macro_run_start(&b->run, &b->env, s, &err);
	if (r)
		macro_error_format(&err, msg, len);
	return r;
}

const char *boot_reboot_line(const struct boot *b)
{
	return b->env.hard_reset ? "hard" : "soft";
}

static void boot_env_progress(void *data)
{
	(void)data;
}

void boot_env_init(struct boot *b)
{
	b->env = (struct macro_env){
		.data = b,
		.now_ms = boot_env_now,
		.timer = boot_env_timer,
		.kb_run = boot_env_kb_run,
		.kb_cancel = boot_env_kb_cancel,
		.kb_release = boot_env_kb_release,
		.sysrq_plan = boot_env_sysrq,
		.usb = boot_env_usb,
		.leds = boot_env_leds,
		.phase = boot_env_phase,
		.media_reads = boot_env_media_reads,
		.has_console = b->console != NULL,
		.media = NULL,
		.hard_reset = b->power ? boot_env_hard_reset : NULL,
		.progress = boot_env_progress,
		.done = boot_env_done,
		.layout = keyboard_cap_layout(b->kb),
		.profile = keyboard_cap_profile(b->kb),
	};
}
