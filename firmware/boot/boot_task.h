/*
 * What the long boot commands (cmd/reinstall, cmd/uefi) share: the
 * request, answered once; the keyboard, claimed until then; the phase
 * clock; a job of the boot worker that can outlive the answer; the poll
 * timer of a marker on the medium; the script the boot capability's
 * runner runs for them; the boot's own result.
 */
#ifndef ZB_BOOT_TASK_H
#define ZB_BOOT_TASK_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "firmware/agent/cap.h"
#include "firmware/boot/boot_phases.h"
#include "firmware/boot/boot_worker.h"
#include "firmware/macro/macro_parse.h"

struct boot;

struct boot_task {
	struct cmd_req *req;
	struct boot_phases clock; /* clock.cur is the task's phase */
	struct macro_script s;
	struct boot_work work;
	bool work_running;
	bool orphan; /* answered while the worker ran: freed when it ends */
	int poll_timer;
	cJSON *boot; /* the boot's result fields */
};

/*
 * A request to stop the command (the text cancel, or {"cancel":true}) is
 * answered here, with whether a task was running: true. Otherwise false.
 */
bool boot_task_cancel_cmd(struct boot *b, struct cmd_req *req, bool running,
			  void (*cancel)(struct boot *b, bool stopping));
/* Take req, start the clock in phase 0, claim the keyboard (busy: why). */
void boot_task_begin(struct boot *b, struct boot_task *t, struct cmd_req *req,
		     const char *const *names, int count, const char *busy);
void boot_task_enter(struct boot_task *t, int phase);
/* Hand t->work to the boot worker: 0, or -EBUSY. */
int boot_task_submit(struct boot *b, struct boot_task *t);
/*
 * Answer with x (its phases and boot added): the poll timer and the
 * runner stop, the keyboard is free. true: free the task's job now;
 * false: the worker still runs it, free it at the worker's end.
 */
bool boot_task_answer(struct boot *b, struct boot_task *t,
		      enum result_status st, const char *error, cJSON *x);
/* The worker's end of t->work: true when t was answered meanwhile, and
 * its job is for the caller to free. */
bool boot_task_work_ended(struct boot_task *t);
/* Free what the task holds (not the task itself). */
void boot_task_release(struct boot_task *t);
/* state.<command>: "running", and "phase" while t (or NULL) runs. */
cJSON *boot_task_state_json(const struct boot_task *t);

#endif
