/* Inside the macro runner: shared by macro_run.c and macro_run_keys.c. */
#ifndef ZB_MACRO_RUN_PRIV_H
#define ZB_MACRO_RUN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/macro/macro_run.h"

/* End the macro with an error at line; the message is formatted. */
void macro_run_fail(struct macro_run *r, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool macro_run_is_wait(const struct macro_op *op);
/* The profile of one line: its own, else the macro's. */
enum typing_profile macro_run_profile(const struct macro_run *r,
				      const struct macro_op *op);
/* Keys that HOLD keeps down stay down in every report of a plan. */
void macro_run_overlay(const struct macro_run *r, struct typing_plan *p);
/* Start the keyboard job of a key, text, HOLD or RELEASE line. */
void macro_run_kb_op(struct macro_run *r, const struct macro_op *op);

#endif
