/*
 * The macro runner: executes a parsed script step by step, never
 * blocking. It owns no fd and no timer of its own: everything it needs
 * from the world comes through struct macro_env (the keyboard, one
 * timer, the clock, the USB state, the LEDs, media, reboot plans), and
 * the world tells it what happened by calling macro_run_kb_done(),
 * macro_run_tick(), macro_run_poke() and macro_run_console(). The agent
 * wires these to the real modules (macro.c); the unit tests to fakes
 * with a clock they move by hand.
 *
 * SPAM runs in the background of the line after it when that line is a
 * WAIT_*: it presses its keys in turn every every_ms until the wait ends
 * (either way) or for_ms has passed. Followed by anything else, SPAM
 * runs alone for for_ms. A key press of SPAM that fails (the host is
 * rebooting and does not poll) is not an error.
 *
 * WAIT_USB after a REBOOT line waits for the host to enter the state
 * after the reboot began (a host that is configured now and has not
 * re-enumerated since does not count); before any REBOOT, the current
 * state counts.
 */
#ifndef ZB_MACRO_RUN_H
#define ZB_MACRO_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/macro/macro_parse.h"

#define MACRO_RUNTIME_MAX_MS (60ull * 60 * 1000)

enum macro_status {
	MACRO_OK,
	MACRO_ERROR,
	MACRO_CANCELLED,
};

struct macro_env {
	void *data;
	uint64_t (*now_ms)(void *data);
	/* Call macro_run_tick() at (or after) monotonic time at_ms; 0: no
	 * timer needed. Replaces the one set before. */
	void (*timer)(void *data, uint64_t at_ms);
	/* Start a keyboard job; the plan is taken over. Its end is told
	 * with macro_run_kb_done(), possibly before kb_run returns. */
	int (*kb_run)(void *data, struct typing_plan *plan);
	void (*kb_cancel)(void *data);	/* the job ends with -ECANCELED */
	void (*kb_release)(void *data); /* all keys up, no job needed */
	/* Build the SysRq reboot plan. */
	int (*sysrq_plan)(void *data, struct typing_plan *plan);
	/* The UDC state and the monotonic ms it was entered; -ENODEV if
	 * unknown (no UDC to watch). NULL: not available. */
	int (*usb)(void *data, enum udc_state *st, uint64_t *since_ms);
	uint8_t (*leds)(void *data);
	/* The inferred server phase (enum phase); NULL: not available. */
	int (*phase)(void *data);
	/* Media reads seen since start; NULL: not available. */
	uint64_t (*media_reads)(void *data);
	bool has_console;
	/* Insert (name) or eject (NULL). NULL: no virtual media here. */
	int (*media)(void *data, const char *name, char *err, size_t errlen);
	/* Pulse the reset pin. NULL: not wired. */
	int (*hard_reset)(void *data, char *err, size_t errlen);
	/* The line or step changed (for the state). */
	void (*progress)(void *data);
	/* The end, called once, as the runner's last act (it may be freed
	 * or started again from here). */
	void (*done)(void *data, enum macro_status st, uint32_t line,
		     const char *msg);
	const struct layout *layout;
	enum typing_profile profile;
};

enum macro_phase {
	MACRO_PH_NEXT,	/* start the op at pc */
	MACRO_PH_KB,	/* the op's keyboard job runs */
	MACRO_PH_DELAY, /* until due_ms */
	MACRO_PH_WAIT,	/* until the condition holds, or due_ms fails */
	MACRO_PH_SPAM,	/* SPAM alone, until its end */
	MACRO_PH_DONE,
};

struct macro_run {
	const struct macro_env *env;
	const struct macro_script *s;
	size_t pc;
	uint32_t run;	/* runs of ops[pc] done */
	uint64_t steps; /* runs of all ops done */
	enum macro_phase phase;
	uint64_t due_ms;
	uint64_t start_ms, deadline_ms;
	uint64_t reboot_ms; /* when the last REBOOT began; 0: none */
	uint8_t led_at_start;
	uint64_t reads_at_start; /* WAIT_MEDIA_READ */
	bool wait_met;
	struct hid_report held; /* what HOLD keeps pressed */

	bool kb_job;	 /* a keyboard job of ours runs */
	bool kb_is_spam; /* ... and it is a SPAM press */
	int kb_err;	 /* the op job's result */
	char kb_msg[160];

	struct {
		bool on;
		bool with_wait; /* runs along the WAIT line after it */
		const struct macro_op *op;
		uint64_t next_ms, end_ms;
		uint8_t idx;
		uint64_t presses;
	} spam;

	bool busy, again, cancel;
	enum macro_status status;
	uint32_t err_line;
	char msg[MACRO_ERROR_MAX + 64];
};

/*
 * Check what the script needs against what env offers (a REBOOT hard
 * without a reset pin, MEDIA without media, WAIT_USB without a UDC,
 * WAIT_CONSOLE without a console) and start it. Returns 0, or -ENOTSUP
 * with err (line and message) and nothing done. The script must outlive
 * the run.
 */
int macro_run_start(struct macro_run *r, const struct macro_env *env,
		    const struct macro_script *s, struct macro_error *err);
/* Stop at once: the keyboard job is cancelled, keys released, done()
 * called with MACRO_CANCELLED. */
void macro_run_cancel(struct macro_run *r);

void macro_run_tick(struct macro_run *r);
void macro_run_kb_done(struct macro_run *r, int err, const char *msg);
/* Something a wait may be waiting for changed (USB state, LEDs). */
void macro_run_poke(struct macro_run *r);
/* A console line arrived (not NUL-terminated). */
void macro_run_console(struct macro_run *r, const char *line, size_t len);

bool macro_run_active(const struct macro_run *r);
/* The line being run (0 before the first), for the state. */
uint32_t macro_run_line(const struct macro_run *r);

#endif
