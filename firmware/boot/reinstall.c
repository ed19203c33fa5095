/*
 * cmd/reinstall: boot once from the installer (boot_once.c), wait for
 * the installer's done signal (a console line, or a marker file it
 * writes on the writable medium, read with mtype from the backing file),
 * eject, reboot, and wait for the installed OS's signal (a console line,
 * or the timeline's phase "os": the OS's USB driver re-enumerating the
 * gadget). The console and phase waits are one-line macros run by the
 * boot capability's runner, so their regex limits and deadlines are
 * those of docs/MACROS.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/boot/boot_priv.h"
#include "firmware/boot/reinstall_priv.h"
#include "firmware/host/timeline.h"
#include "firmware/keyboard/keyboard_cap.h"
#include "firmware/media/media.h"
#include "firmware/media/media_cap.h"

#define REINSTALL_BUSY                                                         \
	"cmd/reinstall is running (cmd/reinstall cancel stops it)"
#define REINSTALL_POLL_MS 2000
#define REINSTALL_TIMELINE 50

static const char *const reinstall_phase_names[RI_PHASES] = {
	[RI_BOOT] = "boot",
	[RI_INSTALL] = "install",
	[RI_REBOOT] = "reboot",
	[RI_OS] = "os",
};

static void reinstall_job_free(struct reinstall_job *j)
{
	boot_task_release(&j->t);
	free(j);
}

static enum reinstall_phase reinstall_phase(const struct reinstall_job *j)
{
	return (enum reinstall_phase)j->t.clock.cur;
}

static void reinstall_finish(struct boot *b, enum result_status st,
			     const char *error)
{
	struct reinstall_job *j = b->reinstall;
	cJSON *x = cJSON_CreateObject();

	if (j->os_timer)
		loop_timer_cancel(b->loop, j->os_timer);
	j->os_timer = 0;
	if (j->reboot_note[0])
		cJSON_AddStringToObject(x, "reboot", j->reboot_note);
	cJSON_AddItemToObject(
		x, "timeline",
		timeline_history(b->timeline, REINSTALL_TIMELINE));
	b->reinstall = NULL;
	if (boot_task_answer(b, &j->t, st, error, x))
		reinstall_job_free(j);
}

static void reinstall_eject(struct boot *b, char *msg, size_t len)
{
	struct media_done done;

	msg[0] = '\0';
	media_eject(media_cap_media(b->media), &done, msg, len);
}

/* Run a one-line wait (or the reboot) on the boot capability's runner. */
static int reinstall_run(struct boot *b, struct reinstall_job *j,
			 const char *text, char *msg, size_t len)
{
	return boot_run_text(b, &j->t.s, text, msg, len);
}

static void reinstall_os_timeout(void *data)
{
	struct boot *b = data;
	char e[200];

	b->reinstall->os_timer = 0;
	snprintf(e, sizeof(e),
		 "the installed OS's signal: the phase did not become \"os\" "
		 "after the reboot within %u ms (it is %s)",
		 b->reinstall->os_timeout_ms,
		 phase_name(timeline_phase(b->timeline)));
	reinstall_finish(b, RESULT_ERROR, e);
}

/*
 * The phase "os" counts only when it comes back after the reboot: the
 * installer's own console lines made the phase "os" before.
 */
void reinstall_on_timeline(struct boot *b)
{
	struct reinstall_job *j = b->reinstall;

	if (!j || !j->os_usb ||
	    (reinstall_phase(j) != RI_REBOOT && reinstall_phase(j) != RI_OS))
		return;
	if (timeline_phase(b->timeline) != PHASE_OS)
		j->left_os = true;
	else if (j->left_os && reinstall_phase(j) == RI_OS)
		reinstall_finish(b, RESULT_OK, NULL);
}

static void reinstall_os(struct boot *b, struct reinstall_job *j)
{
	char msg[300];

	boot_task_enter(&j->t, RI_OS);
	cap_state_dirty(b->c);
	if (j->os_usb) {
		loop_timer_rearm(b->loop, &j->os_timer, j->os_timeout_ms,
				 reinstall_os_timeout, b);
		reinstall_on_timeline(b);
		return;
	}
	if (reinstall_run(b, j, j->os_wait, msg, sizeof(msg)))
		reinstall_finish(b, RESULT_ERROR, msg);
}

static void reinstall_reboot(struct boot *b, struct reinstall_job *j)
{
	char msg[300], text[64];

	reinstall_eject(b, msg, sizeof(msg));
	if (msg[0]) {
		char e[340];

		snprintf(e, sizeof(e), "ejecting the installer: %s", msg);
		reinstall_finish(b, RESULT_ERROR, e);
		return;
	}
	boot_task_enter(&j->t, RI_REBOOT);
	j->left_os = false;
	cap_state_dirty(b->c);
	snprintf(text, sizeof(text), "PROFILE bios\nREBOOT %s\n",
		 boot_reboot_line(b));
	if (reinstall_run(b, j, text, msg, sizeof(msg))) {
		snprintf(j->reboot_note, sizeof(j->reboot_note), "%s", msg);
		reinstall_os(b, j);
	}
}

void reinstall_run_done(struct boot *b, enum macro_status st, uint32_t line,
			const char *msg)
{
	struct reinstall_job *j = b->reinstall;
	char e[400];

	(void)line;
	if (!j)
		return;
	if (st == MACRO_CANCELLED) {
		/* reinstall_finish cancelled the run: it answers. */
		return;
	}
	switch (reinstall_phase(j)) {
	case RI_INSTALL:
		if (st != MACRO_OK) {
			snprintf(e, sizeof(e),
				 "the installer's done signal: %s", msg);
			reinstall_finish(b, RESULT_ERROR, e);
			return;
		}
		reinstall_reboot(b, j);
		break;
	case RI_REBOOT:
		/* An installer that rebooted by itself leaves a keyboard
		 * that takes no reports: not an error, the OS's signal
		 * decides. */
		if (st != MACRO_OK)
			snprintf(j->reboot_note, sizeof(j->reboot_note), "%s",
				 msg);
		reinstall_os(b, j);
		break;
	case RI_OS:
		if (st != MACRO_OK) {
			snprintf(e, sizeof(e), "the installed OS's signal: %s",
				 msg);
			reinstall_finish(b, RESULT_ERROR, e);
			return;
		}
		reinstall_finish(b, RESULT_OK, NULL);
		break;
	default:
		break;
	}
}

/* ---- the marker file ---- */

static void reinstall_poll_cb(void *data);

static void reinstall_marker_done(void *data, struct boot_work *w)
{
	struct boot *b = data;
	struct reinstall_job *j =
		(struct reinstall_job *)((char *)w -
					 offsetof(struct reinstall_job,
						  t.work));

	if (boot_task_work_ended(&j->t)) {
		reinstall_job_free(j);
		return;
	}
	if (!w->err) {
		reinstall_reboot(b, j);
		return;
	}
	loop_timer_rearm(b->loop, &j->t.poll_timer, REINSTALL_POLL_MS,
			 reinstall_poll_cb, b);
}

static void reinstall_poll_cb(void *data)
{
	struct boot *b = data;
	struct reinstall_job *j = b->reinstall;

	j->t.poll_timer = 0;
	if (loop_now_ms() >= j->deadline_ms) {
		char e[300];

		snprintf(e, sizeof(e),
			 "the installer's done signal: no %s on the medium "
			 "within %u ms",
			 j->marker + 3, j->install_timeout_ms);
		reinstall_finish(b, RESULT_ERROR, e);
		return;
	}
	j->t.work.done = reinstall_marker_done;
	j->t.work.n_steps = 1;
	j->t.work.steps[0] = (struct boot_work_step){
		{"mtype", "-i", j->img_path, j->marker, NULL}};
	if (boot_task_submit(b, &j->t))
		loop_timer_rearm(b->loop, &j->t.poll_timer, REINSTALL_POLL_MS,
				 reinstall_poll_cb, b);
}

/* ---- booting ---- */

static void reinstall_booted(struct boot *b, struct cmd_req *req,
			     enum result_status st, const char *error,
			     cJSON *extra)
{
	struct reinstall_job *j = b->reinstall;
	char msg[300];

	(void)req;
	j->t.boot = extra;
	if (st != RESULT_OK) {
		reinstall_finish(b, st, error);
		return;
	}
	boot_task_enter(&j->t, RI_INSTALL);
	cap_state_dirty(b->c);
	if (j->marker[0]) {
		j->deadline_ms = loop_now_ms() + j->install_timeout_ms;
		loop_timer_rearm(b->loop, &j->t.poll_timer, REINSTALL_POLL_MS,
				 reinstall_poll_cb, b);
		return;
	}
	if (reinstall_run(b, j, j->done_wait, msg, sizeof(msg)))
		reinstall_finish(b, RESULT_ERROR, msg);
}

/* ---- the command ---- */

/* The image in the LUN: the one given, or what is inserted. */
static int reinstall_insert(struct boot *b, struct reinstall_job *j, char *msg,
			    size_t len)
{
	struct media_insert_req rq = {.name = j->image,
				      .len = strlen(j->image),
				      .mode = j->mode,
				      .readonly = j->marker[0] ? 0 : -1};
	struct media_done done;
	cJSON *st;
	const cJSON *img;

	if (j->image[0])
		return media_insert(media_cap_media(b->media), &rq, &done, msg,
				    len);
	st = media_state_json(media_cap_media(b->media));
	img = cJSON_GetObjectItemCaseSensitive(st, "image");
	if (!cJSON_IsString(img)) {
		cJSON_Delete(st);
		snprintf(msg, len,
			 "no image is inserted: give one in \"media\"");
		return -ENOENT;
	}
	snprintf(j->image, sizeof(j->image), "%s", img->valuestring);
	cJSON_Delete(st);
	return 0;
}

void reinstall_cmd(void *self, struct cmd_req *req)
{
	struct boot *b = self;
	struct reinstall_job *j;
	struct boot_job *bj;
	const char *busy;
	char msg[400];

	if (boot_task_cancel_cmd(b, req, b->reinstall != NULL,
				 reinstall_cancel))
		return;
	j = calloc(1, sizeof(*j));
	bj = calloc(1, sizeof(*bj));
	if (!j || !bj) {
		free(j);
		free(bj);
		cap_reply(b->c, req, RESULT_ERROR, "out of memory", NULL);
		return;
	}
	if (reinstall_parse(b, req, j, msg, sizeof(msg)))
		goto refuse;
	busy = boot_busy(b);
	if (!busy && boot_worker_busy(b->worker))
		busy = "the agent's image worker is still busy";
	if (busy) {
		free(bj);
		reinstall_job_free(j);
		cap_reply(b->c, req, RESULT_BUSY, busy, NULL);
		return;
	}
	if (reinstall_insert(b, j, msg, sizeof(msg)))
		goto refuse;
	snprintf(j->img_path, sizeof(j->img_path), "%s/%s",
		 b->c->cfg->media.dir, j->image);
	b->reinstall = j;
	boot_task_begin(b, &j->t, req, reinstall_phase_names, RI_PHASES,
			REINSTALL_BUSY);
	bj->target = BOOT_TARGET_MEDIA;
	bj->timeout_ms = j->boot_timeout_ms;
	bj->on_done = reinstall_booted;
	boot_start_job(b, bj);
	return;
refuse:
	free(bj);
	reinstall_job_free(j);
	cap_reply(b->c, req, RESULT_ERROR, msg, NULL);
}

void reinstall_cancel(struct boot *b, bool stopping)
{
	if (!b->reinstall)
		return;
	if (reinstall_phase(b->reinstall) == RI_BOOT && b->job) {
		/* The boot answers through reinstall_booted. */
		boot_once_cancel(b, stopping);
		return;
	}
	reinstall_finish(b, RESULT_CANCELLED,
			 stopping ? "the agent stopped" : "cancelled");
}

cJSON *reinstall_state_json(void *data)
{
	struct boot *b = data;

	return boot_task_state_json(b->reinstall ? &b->reinstall->t : NULL);
}
