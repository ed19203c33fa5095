/*
 * cmd/uefi: run a UEFI shell script on the server and read its output
 * back. The agent builds a small FAT image (mkfs.vfat -C, mmd, mcopy in
 * its worker thread) holding [uefi] shell as EFI/BOOT/BOOTX64.EFI and a
 * startup.nsh that runs the script with each command's output appended
 * to zerobmc\out.txt, then writes zerobmc\done.txt, waits and resets.
 * The agent boots the image once (boot_once.c), polls the image for the
 * marker with mtype (reading the backing file, which the gadget writes
 * through the same page cache: never a mount, whose cache would be
 * stale), reads the output, and ejects, so the reset boots the server
 * normally. It answers once the server has reset (its USB re-enumerated):
 * until then the script's own reset could boot whatever medium the next
 * command inserts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/boot/boot_priv.h"
#include "firmware/boot/boot_task.h"
#include "firmware/boot/uefi_script.h"
#include "firmware/media/media.h"
#include "firmware/media/media_cap.h"

#define UEFI_BUSY "cmd/uefi is running (cmd/uefi cancel stops it)"
#define UEFI_IMAGE "zerobmc-uefi.img"
#define UEFI_SHELL_MAX (32ll << 20)
#define UEFI_POLL_MS 1000

enum uefi_phase {
	UEFI_BUILD,
	UEFI_BOOT,
	UEFI_SCRIPT,
	UEFI_READ,
	UEFI_RESET,
	UEFI_PHASES
};

static const char *const uefi_phase_names[UEFI_PHASES] = {
	[UEFI_BUILD] = "build",	  [UEFI_BOOT] = "boot",
	[UEFI_SCRIPT] = "script", [UEFI_READ] = "read",
	[UEFI_RESET] = "reset",
};

struct uefi_job {
	struct boot_task t;
	uint32_t timeout_ms;
	uint64_t deadline_ms;
	char tag[32];
	char img[CONFIG_PATH_MAX + 32], tmp[CONFIG_PATH_MAX + 32];
	char nsh[CONFIG_PATH_MAX + 32];
	char kb[16], id_member[64];
	char *output;
	bool truncated;
	char reset_note[200];
};

static const char *const uefi_fields[] = {"script", "timeout_s", "cancel",
					  NULL};

static void uefi_job_free(struct uefi_job *j)
{
	boot_task_release(&j->t);
	free(j->output);
	free(j);
}

static enum uefi_phase uefi_phase(const struct uefi_job *j)
{
	return (enum uefi_phase)j->t.clock.cur;
}

/* Answer the job; it is freed now, or by the worker's end if it runs. */
static void uefi_finish(struct boot *b, enum result_status st,
			const char *error)
{
	struct uefi_job *j = b->uefi;
	cJSON *x = cJSON_CreateObject();

	if (j->output) {
		cJSON_AddStringToObject(x, "output", j->output);
		if (j->truncated)
			cJSON_AddBoolToObject(x, "truncated", true);
	} else {
		cJSON_AddNullToObject(x, "output");
	}
	cJSON_AddStringToObject(x, "image", UEFI_IMAGE);
	if (j->reset_note[0])
		cJSON_AddStringToObject(x, "reset", j->reset_note);
	b->uefi = NULL;
	if (boot_task_answer(b, &j->t, st, error, x))
		uefi_job_free(j);
}

static int uefi_eject(struct boot *b, char *msg, size_t len)
{
	struct media_done done;

	return media_eject(media_cap_media(b->media), &done, msg, len);
}

/* On the way out of a failure, which says what went wrong already. */
static void uefi_eject_quiet(struct boot *b)
{
	char err[128];

	uefi_eject(b, err, sizeof(err));
}

/* ---- the worker's jobs ---- */

static void uefi_work_build(struct boot *b, struct uefi_job *j,
			    const char *shell)
{
	struct boot_work *w = &j->t.work;

	(void)b;
	w->n_steps = 5;
	w->steps[0] = (struct boot_work_step){
		{"mkfs.vfat", "-C", "-n", "ZEROBMC", j->tmp, j->kb, NULL}};
	w->steps[1] =
		(struct boot_work_step){{"mmd", "-i", j->tmp, "::/EFI",
					 "::/EFI/BOOT", "::/zerobmc", NULL}};
	w->steps[2] =
		(struct boot_work_step){{"mcopy", "-i", j->tmp, shell,
					 "::/EFI/BOOT/BOOTX64.EFI", NULL}};
	w->steps[3] = (struct boot_work_step){
		{"mcopy", "-i", j->tmp, j->nsh, "::/startup.nsh", NULL}};
	w->steps[4] = (struct boot_work_step){
		{"mcopy", "-i", j->tmp, j->nsh, j->id_member, NULL}};
}

static void uefi_work_read(struct uefi_job *j, const char *member)
{
	struct boot_work *w = &j->t.work;

	w->n_steps = 1;
	w->steps[0] =
		(struct boot_work_step){{"mtype", "-i", j->img, member, NULL}};
}

static void uefi_poll_cb(void *data)
{
	struct boot *b = data;
	struct uefi_job *j = b->uefi;

	j->t.poll_timer = 0;
	if (loop_now_ms() >= j->deadline_ms) {
		char msg[160];

		uefi_eject_quiet(b);
		snprintf(msg, sizeof(msg),
			 "the script wrote no done marker within %u ms "
			 "(the medium was ejected)",
			 j->timeout_ms);
		uefi_finish(b, RESULT_ERROR, msg);
		return;
	}
	uefi_work_read(j, "::/zerobmc/done.txt");
	if (boot_task_submit(b, &j->t))
		loop_timer_rearm(b->loop, &j->t.poll_timer, UEFI_POLL_MS,
				 uefi_poll_cb, b);
}

/* The boot of the image ended: proven, failed or cancelled. */
static void uefi_boot_done(struct boot *b, struct cmd_req *req,
			   enum result_status st, const char *error,
			   cJSON *extra)
{
	struct uefi_job *j = b->uefi;

	(void)req;
	j->t.boot = extra;
	if (st != RESULT_OK) {
		char msg[300];

		uefi_eject_quiet(b);
		snprintf(msg, sizeof(msg), "%s", error ? error : "boot failed");
		uefi_finish(b, st, msg);
		return;
	}
	boot_task_enter(&j->t, UEFI_SCRIPT);
	j->deadline_ms = loop_now_ms() + j->timeout_ms;
	loop_timer_rearm(b->loop, &j->t.poll_timer, UEFI_POLL_MS, uefi_poll_cb,
			 b);
}

static void uefi_built(struct boot *b, struct uefi_job *j, struct boot_work *w)
{
	struct media_insert_req rq = {.name = UEFI_IMAGE,
				      .len = strlen(UEFI_IMAGE),
				      .mode = MEDIA_MODE_DISK,
				      .readonly = 0};
	struct media_done done;
	struct boot_job *bj;
	char msg[300];

	unlink(j->nsh);
	if (w->err) {
		unlink(j->tmp);
		snprintf(msg, sizeof(msg), "building the image: %s", w->msg);
		uefi_finish(b, RESULT_ERROR, msg);
		return;
	}
	if (rename(j->tmp, j->img)) {
		snprintf(msg, sizeof(msg), "%s: %s", j->img, strerror(errno));
		unlink(j->tmp);
		uefi_finish(b, RESULT_ERROR, msg);
		return;
	}
	if (media_insert(media_cap_media(b->media), &rq, &done, msg,
			 sizeof(msg))) {
		uefi_finish(b, RESULT_ERROR, msg);
		return;
	}
	bj = calloc(1, sizeof(*bj));
	if (!bj) {
		uefi_finish(b, RESULT_ERROR, "out of memory");
		return;
	}
	bj->target = BOOT_TARGET_MEDIA;
	bj->timeout_ms = j->timeout_ms;
	bj->on_done = uefi_boot_done;
	boot_task_enter(&j->t, UEFI_BOOT);
	boot_start_job(b, bj);
}

/*
 * The medium is out: reset the server now (the reset pin, else
 * Ctrl+Alt+Del; the script's own reset follows its stall anyway) and
 * wait for its USB to come back, for the script's stall plus the job's
 * timeout. A server that keeps its USB configured across a reset never
 * shows it: the answer is still ok, with a note.
 */
static void uefi_reset(struct boot *b, struct uefi_job *j)
{
	char text[96], msg[200];

	boot_task_enter(&j->t, UEFI_RESET);
	cap_state_dirty(b->c);
	snprintf(text, sizeof(text),
		 "PROFILE bios\nREBOOT %s\nWAIT_USB configured %ums\n",
		 boot_reboot_line(b),
		 j->timeout_ms + UEFI_RESET_STALL_US / 1000u);
	/* A reset that cannot start ends as one that failed. */
	if (boot_run_text(b, &j->t.s, text, msg, sizeof(msg)))
		uefi_run_done(b, MACRO_ERROR, msg);
}

void uefi_run_done(struct boot *b, enum macro_status st, const char *msg)
{
	struct uefi_job *j = b->uefi;

	/* A cancelled run is uefi_finish's own doing: it answers. */
	if (!j || uefi_phase(j) != UEFI_RESET || st == MACRO_CANCELLED)
		return;
	if (st != MACRO_OK)
		snprintf(j->reset_note, sizeof(j->reset_note), "not seen: %s",
			 msg ? msg : "failed");
	uefi_finish(b, RESULT_OK, NULL);
}

static void uefi_read_done(struct boot *b, struct uefi_job *j,
			   struct boot_work *w)
{
	char err[128] = "";

	/* No out.txt: the script printed nothing. */
	if (!w->err && w->out) {
		j->output = uefi_output_clean(w->out, w->out_len);
		j->truncated = w->truncated;
	} else {
		j->output = strdup("");
	}
	if (uefi_eject(b, err, sizeof(err))) {
		char msg[200];

		snprintf(msg, sizeof(msg), "ejecting the image: %s", err);
		uefi_finish(b, RESULT_ERROR, msg);
		return;
	}
	uefi_reset(b, j);
}

void uefi_work_done(void *data, struct boot_work *w)
{
	struct boot *b = data;
	struct uefi_job *j =
		(struct uefi_job *)((char *)w -
				    offsetof(struct uefi_job, t.work));

	if (boot_task_work_ended(&j->t)) {
		/* Answered already (cancelled); only the files are left. */
		if (uefi_phase(j) == UEFI_BUILD) {
			unlink(j->nsh);
			unlink(j->tmp);
		}
		uefi_job_free(j);
		return;
	}
	switch (uefi_phase(j)) {
	case UEFI_BUILD:
		uefi_built(b, j, w);
		break;
	case UEFI_SCRIPT:
		if (w->err) {
			loop_timer_rearm(b->loop, &j->t.poll_timer,
					 UEFI_POLL_MS, uefi_poll_cb, b);
			break;
		}
		boot_task_enter(&j->t, UEFI_READ);
		uefi_work_read(j, "::/zerobmc/out.txt");
		if (boot_task_submit(b, &j->t))
			uefi_finish(b, RESULT_ERROR, "the worker is busy");
		break;
	case UEFI_READ:
		uefi_read_done(b, j, w);
		break;
	default:
		break;
	}
}

/* ---- the command ---- */

static int uefi_parse(struct boot *b, struct cmd_req *req, const char **script,
		      uint32_t *timeout_ms, char *msg, size_t len)
{
	bool bad;
	long t = b->c->cfg->boot.timeout_s;

	if (payload_check_fields(&req->p, uefi_fields, msg, len))
		return -EINVAL;
	*script = payload_str(&req->p, "script", true, &bad);
	if (bad || !*script) {
		snprintf(msg, len,
			 "give {\"script\":\"...\"} (a string), or "
			 "cancel");
		return -EINVAL;
	}
	if (payload_int(&req->p, "timeout_s", 1, 3600, &t) == -EINVAL) {
		snprintf(msg, len,
			 "\"timeout_s\" must be a whole number of "
			 "seconds from 1 to 3600");
		return -EINVAL;
	}
	*timeout_ms = (uint32_t)t * 1000;
	return uefi_script_check(*script, msg, len);
}

/* The paths, the shell's size and startup.nsh, before anything runs. */
static int uefi_prepare(struct boot *b, struct uefi_job *j, const char *script,
			char *msg, size_t len)
{
	const struct config *cfg = b->c->cfg;
	struct stat st;
	char *text;
	FILE *f;
	int r = 0;

	if (!cfg->uefi.shell[0]) {
		snprintf(msg, len,
			 "no UEFI shell: set [uefi] shell "
			 "(docs/BOOT.md says where to get one)");
		return -ENOENT;
	}
	if (stat(cfg->uefi.shell, &st) || !S_ISREG(st.st_mode)) {
		snprintf(msg, len, "[uefi] shell %s: %s", cfg->uefi.shell,
			 errno ? strerror(errno) : "not a regular file");
		return -ENOENT;
	}
	if (st.st_size > UEFI_SHELL_MAX) {
		snprintf(msg, len, "[uefi] shell %s is larger than 32 MiB",
			 cfg->uefi.shell);
		return -EFBIG;
	}
	if (!cfg->media.allow_writable) {
		snprintf(msg, len,
			 "the server writes the output on the medium: set "
			 "[media] allow_writable = true");
		return -EPERM;
	}
	/* The shell plus 2 MiB for FAT, startup.nsh and the output. */
	snprintf(j->kb, sizeof(j->kb), "%lld",
		 (long long)(st.st_size / 1024 + 2048));
	snprintf(j->tag, sizeof(j->tag), "j%llu.id",
		 (unsigned long long)loop_now_ms());
	snprintf(j->id_member, sizeof(j->id_member), "::/zerobmc/%s", j->tag);
	snprintf(j->img, sizeof(j->img), "%s/%s", cfg->media.dir, UEFI_IMAGE);
	snprintf(j->tmp, sizeof(j->tmp), "%s/.%s.tmp", cfg->media.dir,
		 UEFI_IMAGE);
	snprintf(j->nsh, sizeof(j->nsh), "%s/.zerobmc-startup.nsh",
		 cfg->media.dir);
	text = uefi_startup(j->tag, script);
	if (!text) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	/* A few KiB into the images folder; mkfs.vfat -C wants no file. */
	unlink(j->tmp);
	f = fopen(j->nsh, "we");
	if (!f || fputs(text, f) < 0)
		r = -errno;
	if (f && fclose(f) && !r)
		r = -errno;
	free(text);
	if (r)
		snprintf(msg, len, "%s: %s", j->nsh, strerror(-r));
	return r;
}

void uefi_cmd(void *self, struct cmd_req *req)
{
	struct boot *b = self;
	struct uefi_job *j;
	const char *script = NULL, *busy;
	uint32_t timeout_ms = 0;
	char msg[300];

	if (boot_task_cancel_cmd(b, req, b->uefi != NULL, uefi_cancel))
		return;
	if (uefi_parse(b, req, &script, &timeout_ms, msg, sizeof(msg))) {
		cap_reply(b->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	busy = boot_busy(b);
	if (!busy && boot_worker_busy(b->worker))
		busy = "the image of the last cmd/uefi is still being built";
	if (busy) {
		cap_reply(b->c, req, RESULT_BUSY, busy, NULL);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		cap_reply(b->c, req, RESULT_ERROR, "out of memory", NULL);
		return;
	}
	if (uefi_prepare(b, j, script, msg, sizeof(msg))) {
		uefi_job_free(j);
		cap_reply(b->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	j->timeout_ms = timeout_ms;
	b->uefi = j;
	boot_task_begin(b, &j->t, req, uefi_phase_names, UEFI_PHASES,
			UEFI_BUSY);
	uefi_work_build(b, j, b->c->cfg->uefi.shell);
	if (boot_task_submit(b, &j->t)) {
		unlink(j->nsh);
		uefi_finish(b, RESULT_ERROR, "the worker is busy");
		return;
	}
	cap_state_dirty(b->c);
}

void uefi_cancel(struct boot *b, bool stopping)
{
	struct uefi_job *j = b->uefi;
	const char *why = stopping ? "the agent stopped" : "cancelled";

	if (!j)
		return;
	if (uefi_phase(j) == UEFI_BOOT && b->job) {
		/* The boot answers through uefi_boot_done. */
		boot_once_cancel(b, stopping);
		return;
	}
	if (uefi_phase(j) != UEFI_BUILD)
		uefi_eject_quiet(b);
	uefi_finish(b, RESULT_CANCELLED, why);
}

cJSON *uefi_state_json(void *data)
{
	struct boot *b = data;

	return boot_task_state_json(b->uefi ? &b->uefi->t : NULL);
}
