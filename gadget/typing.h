/*
 * Typing plans: text or key sequences turned into a list of HID reports,
 * each with the minimum pause that must follow it under a pacing profile.
 */
#ifndef ZB_TYPING_H
#define ZB_TYPING_H

#include <stddef.h>
#include <stdint.h>

#include "gadget/hid_report.h"
#include "gadget/keys.h"
#include "gadget/layout.h"

enum typing_profile {
	TYPING_FAST, /* as fast as the host takes reports */
	TYPING_BIOS, /* UEFI: one press per 20 ms tick, 32-event queue */
	TYPING_EDK2, /* bios, packed: several keys a report (EDK2 only) */
};

/* The profile names, for messages. */
#define TYPING_PROFILE_NAMES "fast, bios or edk2"

struct typing_step {
	struct hid_report r;
	uint32_t gap_us; /* pause after this report before the next one */
};

struct typing_plan {
	struct typing_step *steps;
	size_t n, cap;
};

/* A profile by name (case-insensitive); -EINVAL for anything else. */
int typing_profile_parse(const char *name, enum typing_profile *out);
/* The profile's name, NULL for a value that is not a profile. */
const char *typing_profile_name(enum typing_profile p);

/*
 * The pause in microseconds a profile wants after report cur when prev
 * was the report before it: it depends on how many keys and modifiers cur
 * newly presses. For callers that build their own reports (hold, release,
 * macros); it does not look ahead, so a release costs its own pause here.
 */
uint32_t typing_gap(enum typing_profile prof, const struct hid_report *prev,
		    const struct hid_report *cur);

/*
 * Append the reports that type utf8 in layout l. Checks every character
 * first: on invalid UTF-8 returns -EILSEQ, on a character the layout
 * cannot type returns -ENOENT; both set *bad_pos (character index, from
 * 0) and *bad_cp (for -EILSEQ the offending byte), and leave the plan
 * untouched; -ENOMEM likewise. "\r\n" and a lone '\r' type one Enter.
 * In fast each character is pressed and released, and Shift/AltGr go
 * out in a report of their own before the key, held only while the next
 * character needs the same ones. bios does the same, except that the
 * next character's press releases the key before (rollover): a release
 * report only before a key that comes back and when Shift/AltGr go up,
 * and a Shift/AltGr press releases the key before. edk2 puts several
 * characters with their modifiers in one report (see typing.c). The
 * last report releases everything.
 */
int typing_plan_text(struct typing_plan *p, const struct layout *l,
		     const char *utf8, size_t len, enum typing_profile prof,
		     size_t *bad_pos, uint32_t *bad_cp);

/*
 * Append a tap of each chord: modifiers first, then keys, then release.
 * Leaves the plan untouched on error (-ENOMEM).
 */
int typing_plan_chords(struct typing_plan *p, const struct key_chord *c,
		       size_t n, enum typing_profile prof);

/* Append one report (press or release) with an explicit gap in µs. */
int typing_plan_report(struct typing_plan *p, const struct hid_report *r,
		       uint32_t gap_us);

void typing_plan_free(struct typing_plan *p);

/* Alt+SysRq then R E I S U B, with time for each step (reboot sysrq). */
int typing_plan_sysrq(struct typing_plan *p);

#endif
