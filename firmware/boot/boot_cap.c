/*
 * The boot capability's row: cmd/boot (checked, then handed to
 * boot_once.c), its answer with every attempt, and state.boot.
 */
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/boot/boot_priv.h"
#include "firmware/console/console.h"
#include "firmware/host/hostwatch.h"
#include "firmware/host/timeline.h"
#include "firmware/keyboard/keyboard.h"
#include "firmware/keyboard/keyboard_cap.h"
#include "firmware/media/media.h"
#include "firmware/media/media_cap.h"
#include "firmware/power/power.h"
#include "firmware/power/power_cap.h"

/* What key, type, reboot and macro answer while a boot runs. */
#define BOOT_BUSY "cmd/boot is running (cmd/boot cancel stops it)"
#define BOOT_TIMEOUT_MAX_S 3600

static const char *const boot_target_names[] = {
	[BOOT_TARGET_MEDIA] = "media",
	[BOOT_TARGET_SETUP] = "setup",
};

static cJSON *boot_attempts_json(const struct boot_job *job)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < job->cur && i < job->n_plan; i++) {
		const struct boot_attempt *a = &job->plan[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "strategy",
					boot_strategy_names[a->strategy]);
		if (a->position >= 0)
			cJSON_AddNumberToObject(o, "position", a->position);
		cJSON_AddStringToObject(o, "reboot",
					a->reboot == BOOT_REBOOT_HARD ? "hard"
					: a->reboot == BOOT_REBOOT_SOFT
						? "soft"
						: "sysrq");
		cJSON_AddStringToObject(o, "outcome", a->outcome);
		if (a->proof)
			cJSON_AddNumberToObject(o, "reads", (double)a->reads);
		cJSON_AddNumberToObject(o, "ms", (double)a->ms);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void boot_finish(struct boot *b, enum result_status st, const char *error,
		 int strategy_ok)
{
	struct boot_job *job = b->job;
	struct cmd_req *req = job->req;
	boot_done_fn on_done = job->on_done;
	cJSON *x = cJSON_CreateObject();

	if (strategy_ok >= 0) {
		const struct boot_attempt *a = &job->plan[strategy_ok];

		cJSON_AddStringToObject(x, "strategy",
					boot_strategy_names[a->strategy]);
		/* A menu position that media reads proved is kept. */
		if (a->position >= 0 && b->calib[a->strategy] != a->position) {
			b->calib[a->strategy] = a->position;
			cJSON_AddBoolToObject(x, "calibrated",
					      boot_calib_save(b) == 0);
		}
	} else {
		cJSON_AddNullToObject(x, "strategy");
	}
	cJSON_AddStringToObject(x, "target", boot_target_names[job->target]);
	if (job->image[0])
		cJSON_AddStringToObject(x, "media", job->image);
	cJSON_AddItemToObject(x, "attempts", boot_attempts_json(job));
	cJSON_AddNumberToObject(x, "ms",
				(double)(loop_now_ms() - job->start_ms));
	b->job = NULL;
	macro_script_free(&job->s);
	free(job);
	on_done(b, req, st, error, x);
	cap_state_dirty(b->c);
}

/* The end of a cmd/boot: its answer. */
static void boot_cmd_done(struct boot *b, struct cmd_req *req,
			  enum result_status st, const char *error,
			  cJSON *extra)
{
	keyboard_cap_unclaim(b->kb);
	cap_reply(b->c, req, st, error, extra);
}

void boot_start_job(struct boot *b, struct boot_job *job)
{
	boot_once_plan(b, job);
	b->job = job;
	boot_once_start(b);
	cap_state_dirty(b->c);
}

static cJSON *boot_state_json(void *data)
{
	struct boot *b = data;
	struct boot_job *job = b->job;
	cJSON *o = cJSON_CreateObject();
	cJSON *cal = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "running", job != NULL);
	if (job) {
		const struct boot_attempt *a =
			&job->plan[job->cur < job->n_plan ? job->cur
							  : job->n_plan - 1];

		cJSON_AddStringToObject(o, "target",
					boot_target_names[job->target]);
		cJSON_AddStringToObject(o, "strategy",
					boot_strategy_names[a->strategy]);
		cJSON_AddNumberToObject(o, "attempt", (double)job->cur + 1);
	}
	cJSON_AddStringToObject(o, "firmware", b->profile->name);
	for (int s = BOOT_MENU; s <= BOOT_SETUP_MANAGER; s++) {
		if (b->calib[s] >= 0)
			cJSON_AddNumberToObject(cal, boot_strategy_names[s],
						b->calib[s]);
		else
			cJSON_AddNullToObject(cal, boot_strategy_names[s]);
	}
	cJSON_AddItemToObject(o, "calibration", cal);
	return o;
}

/* Is there an image in the LUN? The media state says. */
static bool boot_media_present(struct boot *b)
{
	cJSON *st = media_state_json(media_cap_media(b->media));
	const cJSON *img = cJSON_GetObjectItemCaseSensitive(st, "image");
	bool present = cJSON_IsString(img);

	cJSON_Delete(st);
	return present;
}

static const char *const boot_fields[] = {"media",     "mode",	 "target",
					  "timeout_s", "cancel", NULL};

/* Fill job from the payload, or say what is wrong in msg. */
static int boot_parse(struct boot *b, struct cmd_req *req, struct boot_job *job,
		      int *mode, char *msg, size_t len)
{
	const char *image, *target, *mode_s;
	bool bad1, bad2, bad3;
	long t = b->c->cfg->boot.timeout_s;
	int r;

	if (payload_check_fields(&req->p, boot_fields, msg, len))
		return -EINVAL;
	image = payload_str(&req->p, "media", true, &bad1);
	target = payload_str(&req->p, "target", false, &bad2);
	mode_s = payload_str(&req->p, "mode", false, &bad3);
	if (bad1 || bad2 || bad3) {
		snprintf(msg, len,
			 "\"media\", \"target\" and \"mode\" must be strings");
		return -EINVAL;
	}
	job->target = BOOT_TARGET_MEDIA;
	if (target && !strcmp(target, "setup")) {
		job->target = BOOT_TARGET_SETUP;
	} else if (target && strcmp(target, "media")) {
		snprintf(msg, len, "\"target\" must be \"media\" or \"setup\"");
		return -EINVAL;
	}
	*mode = -1;
	if (mode_s) {
		enum media_mode m;

		if (media_mode_parse(mode_s, &m)) {
			snprintf(msg, len,
				 "\"mode\" must be \"cdrom\" or \"disk\"");
			return -EINVAL;
		}
		*mode = (int)m;
	}
	r = payload_int(&req->p, "timeout_s", 1, BOOT_TIMEOUT_MAX_S, &t);
	if (r == -EINVAL) {
		snprintf(msg, len,
			 "\"timeout_s\" must be a whole number of "
			 "seconds from 1 to 3600");
		return -EINVAL;
	}
	job->timeout_ms = (uint32_t)t * 1000;
	if (image && image[0]) {
		if (job->target == BOOT_TARGET_SETUP) {
			snprintf(msg, len,
				 "\"media\" goes with target \"media\" only");
			return -EINVAL;
		}
		if (strlen(image) >= sizeof(job->image)) {
			snprintf(msg, len, "image name too long");
			return -EINVAL;
		}
		snprintf(job->image, sizeof(job->image), "%s", image);
	}
	return 0;
}

const char *boot_busy(struct boot *b)
{
	const char *claim = keyboard_cap_claimed(b->kb);

	if (b->job || b->uefi || b->reinstall)
		return claim ? claim : BOOT_BUSY;
	if (claim)
		return claim;
	if (keyboard_busy(keyboard_cap_device(b->kb)))
		return "another keyboard job is running";
	return NULL;
}

static void boot_cmd(void *self, struct cmd_req *req)
{
	struct boot *b = self;
	struct boot_job *job;
	struct media_done done;
	const char *busy;
	char msg[256];
	bool cancel = false;
	int mode;

	if ((req->p.text && !strcmp(req->p.text, "cancel")) ||
	    (payload_bool(&req->p, "cancel", &cancel) == 0 && cancel)) {
		cJSON *x = cJSON_CreateObject();

		/* A cmd/uefi's boot is cancelled with cmd/uefi. */
		cJSON_AddBoolToObject(x, "cancelled",
				      b->job && !b->uefi && !b->reinstall);
		if (!b->uefi && !b->reinstall)
			boot_once_cancel(b, false);
		cap_reply(b->c, req, RESULT_OK, NULL, x);
		return;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		cap_reply(b->c, req, RESULT_ERROR, "out of memory", NULL);
		return;
	}
	if (boot_parse(b, req, job, &mode, msg, sizeof(msg)))
		goto refuse;
	busy = boot_busy(b);
	if (busy) {
		free(job);
		cap_reply(b->c, req, RESULT_BUSY, busy, NULL);
		return;
	}
	if (job->image[0]) {
		struct media_insert_req rq = {.name = job->image,
					      .len = strlen(job->image),
					      .mode = mode,
					      .readonly = -1};

		if (media_insert(media_cap_media(b->media), &rq, &done, msg,
				 sizeof(msg)))
			goto refuse;
	} else if (job->target == BOOT_TARGET_MEDIA && !boot_media_present(b)) {
		snprintf(msg, sizeof(msg),
			 "no image is inserted: give one in \"media\"");
		goto refuse;
	}
	job->req = req;
	job->on_done = boot_cmd_done;
	keyboard_cap_claim(b->kb, BOOT_BUSY);
	boot_start_job(b, job);
	return;
refuse:
	free(job);
	cap_reply(b->c, req, RESULT_ERROR, msg, NULL);
}

static void boot_on_usb(void *data, enum udc_state old, enum udc_state now)
{
	struct boot *b = data;

	(void)old;
	(void)now;
	if (macro_run_active(&b->run))
		macro_run_poke(&b->run);
}

static void boot_on_console(void *data, const char *line, size_t len)
{
	struct boot *b = data;

	if (macro_run_active(&b->run))
		macro_run_console(&b->run, line, len);
}

static void boot_on_timeline(void *data)
{
	struct boot *b = data;

	if (macro_run_active(&b->run))
		macro_run_poke(&b->run);
	boot_once_poke(b);
	reinstall_on_timeline(b);
}

static int boot_attach(const struct cap *c, void **self, char *msg, size_t len)
{
	const struct boot_profile *profile;
	struct boot *b;
	int r;

	/* Booting needs keys, media, the USB state and the media reads. */
	if (!c->h->keyboard || !c->h->media || !c->h->host || !c->h->timeline)
		return 0;
	profile = boot_profile_find(c->cfg->server.firmware);
	if (!profile) {
		char names[256];

		boot_profile_names(names, sizeof(names));
		snprintf(msg, len,
			 "[server] firmware: unknown \"%s\" (one of %s): "
			 "cmd/boot is off",
			 c->cfg->server.firmware, names);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->c = c;
	b->loop = c->loop;
	b->kb = c->h->keyboard;
	b->host = c->h->host;
	b->media = c->h->media;
	b->power = c->h->power;
	b->timeline = c->h->timeline;
	b->console = c->h->console;
	b->profile = profile;
	b->key_window_ms = (uint32_t)c->cfg->boot.key_window_ms;
	b->settle_ms = (uint32_t)c->cfg->boot.settle_ms;
	b->positions = (unsigned int)c->cfg->boot.positions;
	b->proof_reads = (uint64_t)c->cfg->boot.proof_reads;
	if (b->power &&
	    !power_wired(power_cap_power(b->power), POWER_LINE_RESET))
		b->power = NULL;
	if (c->cfg->media.state_file[0]) {
		char dir[CONFIG_PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", c->cfg->media.state_file);
		snprintf(b->calib_path, sizeof(b->calib_path), "%s/boot.state",
			 dirname(dir));
	}
	boot_calib_load(b);
	boot_env_init(b);
	r = boot_worker_new(c->loop, uefi_work_done, b, &b->worker);
	if (r) {
		free(b);
		return r;
	}
	r = state_provider_add(c->state, "boot", boot_state_json, b);
	if (!r)
		r = state_provider_add(c->state, "uefi", uefi_state_json, b);
	if (!r)
		r = state_provider_add(c->state, "reinstall",
				       reinstall_state_json, b);
	if (r) {
		boot_worker_free(b->worker);
		free(b);
		return r;
	}
	hostwatch_listen(b->host, boot_on_usb, b);
	timeline_listen(b->timeline, boot_on_timeline, b);
	if (b->console)
		console_listen(b->console, boot_on_console, b);
	snprintf(msg, len, "boot: firmware profile %s", profile->name);
	*self = b;
	return 0;
}

/* The agent stops: a running boot or UEFI script is answered cancelled. */
static void boot_stop(void *self)
{
	struct boot *b = self;

	if (b->uefi)
		uefi_cancel(b, true);
	else if (b->reinstall)
		reinstall_cancel(b, true);
	else
		boot_once_cancel(b, true);
}

static void boot_detach(void *self)
{
	struct boot *b = self;

	if (!b)
		return;
	boot_stop(b);
	boot_worker_free(b->worker);
	if (b->run_timer)
		loop_timer_cancel(b->loop, b->run_timer);
	if (b->next_timer)
		loop_timer_cancel(b->loop, b->next_timer);
	free(b);
}

static const struct cap_command boot_commands[] = {
	{"boot", boot_cmd, "boot once from the virtual media, with proof"},
	{"uefi", uefi_cmd, "run a UEFI shell script and read its output"},
	{"reinstall", reinstall_cmd,
	 "boot the installer, wait until done, boot the installed OS"},
	{NULL, NULL, NULL},
};

const struct cap_def boot_cap = {
	.name = "boot",
	.attach = boot_attach,
	.stop = boot_stop,
	.detach = boot_detach,
	.commands = boot_commands,
	.absent = "cmd/boot needs the keyboard, virtual media and the UDC "
		  "state ([gadget] udc or udc_state) on this agent",
	.handle_offset = offsetof(struct cap_handles, boot),
};
