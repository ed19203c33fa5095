/*
 * Keyboard jobs: one typing plan at a time written to the HID device,
 * paced by the device's writability and the plan's gaps, never blocking
 * and never waiting forever for a host that does not poll.
 */
#ifndef ZB_KEYBOARD_H
#define ZB_KEYBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/loop.h"
#include "gadget/typing.h"

struct keyboard;

/* err is 0, -ECANCELED, -ETIMEDOUT (host not polling), or -errno. */
typedef void (*keyboard_done_cb)(void *data, int err, const char *msg);

struct keyboard_cbs {
	void (*leds)(void *data, uint8_t leds);
	/* The device went away or came back (for state). */
	void (*host)(void *data, bool taking_reports);
};

int keyboard_new(struct loop *l, int write_timeout_ms, int hold_timeout_ms,
		 const struct keyboard_cbs *cbs, void *data,
		 struct keyboard **out);
void keyboard_free(struct keyboard *kb);

/* (Re)open the device; a failed job is not retried. */
int keyboard_open(struct keyboard *kb, const char *path);

/*
 * Start a job; the plan is taken over (freed by the keyboard). -EBUSY if
 * one runs. If the plan leaves keys pressed, they are released after
 * hold_ms (0: the configured hold timeout).
 */
int keyboard_run(struct keyboard *kb, struct typing_plan *plan,
		 uint32_t hold_ms, keyboard_done_cb done, void *data);
/* Stop the running job (done gets -ECANCELED) and release all keys. */
void keyboard_cancel(struct keyboard *kb);
/* Release all keys now if possible (shutdown, host back). */
void keyboard_release(struct keyboard *kb);

bool keyboard_busy(const struct keyboard *kb);
uint8_t keyboard_leds(const struct keyboard *kb);
bool keyboard_keys_down(const struct keyboard *kb);
/* Steps done and total of the running job. */
void keyboard_progress(const struct keyboard *kb, size_t *done, size_t *total);

#endif
