#include "firmware/boot/boot_task.h"

#include <stdlib.h>
#include <string.h>

#include "firmware/boot/boot_priv.h"
#include "firmware/keyboard/keyboard_cap.h"

bool boot_task_cancel_cmd(struct boot *b, struct cmd_req *req, bool running,
			  void (*cancel)(struct boot *b, bool stopping))
{
	bool yes = false;
	cJSON *x;

	if (!(req->p.text && !strcmp(req->p.text, "cancel")) &&
	    !(payload_bool(&req->p, "cancel", &yes) == 0 && yes))
		return false;
	x = cJSON_CreateObject();
	cJSON_AddBoolToObject(x, "cancelled", running);
	cancel(b, false);
	cap_reply(b->c, req, RESULT_OK, NULL, x);
	return true;
}

void boot_task_begin(struct boot *b, struct boot_task *t, struct cmd_req *req,
		     const char *const *names, int count, const char *busy)
{
	t->req = req;
	boot_phases_start(&t->clock, names, count);
	keyboard_cap_claim(b->kb, busy);
}

void boot_task_enter(struct boot_task *t, int phase)
{
	boot_phases_enter(&t->clock, phase);
}

int boot_task_submit(struct boot *b, struct boot_task *t)
{
	int r = boot_worker_submit(b->worker, &t->work);

	if (!r)
		t->work_running = true;
	return r;
}

bool boot_task_answer(struct boot *b, struct boot_task *t,
		      enum result_status st, const char *error, cJSON *x)
{
	if (t->poll_timer)
		loop_timer_cancel(b->loop, t->poll_timer);
	t->poll_timer = 0;
	/* A wait or reset of the task's own; a boot's attempts are over by
	 * the time the boot's end calls the task. */
	if (!b->job && macro_run_active(&b->run))
		macro_run_cancel(&b->run);
	boot_phases_report(&t->clock, st != RESULT_OK, &t->boot, x);
	keyboard_cap_unclaim(b->kb);
	cap_reply(b->c, t->req, st, error, x);
	t->req = NULL;
	cap_state_dirty(b->c);
	if (t->work_running) {
		t->orphan = true;
		return false;
	}
	return true;
}

bool boot_task_work_ended(struct boot_task *t)
{
	t->work_running = false;
	return t->orphan;
}

void boot_task_release(struct boot_task *t)
{
	macro_script_free(&t->s);
	free(t->work.out);
	t->work.out = NULL;
	cJSON_Delete(t->boot);
	t->boot = NULL;
}

cJSON *boot_task_state_json(const struct boot_task *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "running", t != NULL);
	if (t)
		cJSON_AddStringToObject(o, "phase",
					boot_phases_name(&t->clock));
	return o;
}
