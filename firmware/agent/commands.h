/*
 * The command table: each name of zerobmc/<id>/cmd/<name> and its
 * handler. A handler must call agent_reply() exactly once, now or later.
 */
#ifndef ZB_COMMANDS_H
#define ZB_COMMANDS_H

#include "firmware/agent/agent.h"

typedef void (*command_fn)(struct agent *a, struct cmd_req *req);

struct command_def {
	const char *name;
	command_fn run; /* NULL: not supported by this build yet */
	const char *summary;
};

const struct command_def *commands_find(const char *name);
const struct command_def *commands_all(size_t *n);

/* Keyboard commands (cmd_keyboard.c). */
void cmd_key(struct agent *a, struct cmd_req *req);
void cmd_type(struct agent *a, struct cmd_req *req);
void cmd_reboot(struct agent *a, struct cmd_req *req);
void cmd_refresh(struct agent *a, struct cmd_req *req);

/*
 * Start a keyboard job for req. On success the result is published when
 * the job ends; on failure an error result is published at once.
 */
void cmd_keyboard_start(struct agent *a, struct cmd_req *req,
			struct typing_plan *plan, uint32_t hold_ms);
/* Alt+SysRq R E I S U B with time for each step (reboot sysrq, macros). */
int cmd_sysrq_plan(struct typing_plan *p);

#endif
