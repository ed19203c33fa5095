/* Typing plans: text and chords turned into paced HID reports. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>

#include "gadget/typing.h"
#include "topics/utf8.h"

/*
 * Pauses after a report, by what the report does. A report that presses
 * keys or modifiers waits press_us for each newly pressed one; a report
 * that presses nothing (a release) waits release_us. With release_inside,
 * a release that follows a press in a plan takes its pause out of the
 * press's (the budget is per press: press to press stays press_us).
 *
 * fast: no pauses. The HID function holds one report at a time and a
 * write waits until the host has taken the previous one, so the host's
 * polling is the pace, and a host that reads reports never loses one.
 *
 * bios: EDK2's USB keyboard driver (UsbKbDxe) compares each report with
 * the one before and queues every change as an event (each modifier bit,
 * then each released key, then each newly pressed key in the order of the
 * report's slots) in a 32-entry queue that drops the oldest entry when
 * full. A 20 ms timer takes events off that queue, applying releases as
 * it goes, until it has found one press, modifiers included, and turns it
 * into at most one character. Releases cost nothing; every press costs
 * one 20 ms tick. So presses go out 20.25 ms apart, counted from press to
 * press (1.25% slower than the timer drains them). One key is down at a
 * time, and the next character's key replaces it in one report, [a] then
 * [b] (rollover): one report a character, which matters to a host that
 * takes reports slowly (OVMF in the lab takes one every ~20 ms). A boot
 * keyboard report lists the keys down, so that report is a release and a
 * press; a real keyboard sends the same whenever a typist's release and
 * next press fall in one polling interval, and EDK2 (like the other
 * drivers read for this) queues the release before the press. A key that
 * comes back (the second l of "ll") is released first, 3 ms before the
 * press, inside its 20.25 ms. A change of modifiers goes out in a report
 * that presses no key: the modifiers and the release of the key before
 * together, then the key with those modifiers, so firmware that applies a
 * report's keys before its modifier byte still types what was meant.
 * Shift stays held across a run of shifted characters and costs one more
 * press at its start; its release (with the run's last key) is a report
 * of its own, 3 ms before the next press. Mixed text with half of it
 * shifted: 1.22 presses a character, 40.4 per second, where the
 * firmware's ceiling is 40.9; about 1.5 reports a character. The queue
 * holds the events of a character or two; a tick the firmware misses
 * leaves a press behind that the spare drains within two seconds, and the
 * rest of the 32 entries (a dozen characters) is the margin for several
 * missed in a row. The job keeps the reports on a fixed timeline
 * (keyboard.c), so timer rounding does not add up. Each key is held 17.25
 * to 20.25 ms, far below the 500 ms after which firmware starts to repeat
 * it. A host that takes reports more slowly than the plan asks only adds
 * time. Firmware with another keyboard driver (AMI, Insyde) may count
 * differently: measured only on EDK2 (OVMF, tests/lab/test_type.py).
 *
 * edk2: bios's pace per press, but up to keys_per_report characters with
 * the same modifiers go out in one report, in typing order in its slots,
 * with their modifiers, replacing the keys of the report before (a
 * release report only where a key comes back while still held). For a
 * host that takes reports slowly: fewer reports than characters. It
 * rests on EDK2's driver: modifier changes queued before key changes,
 * new keys in slot order, a press per tick whatever the report. The HID
 * specification gives the order of keys within a report no meaning, so
 * other firmware may type a packed report out of order.
 */
struct typing_pace {
	uint32_t press_us;
	uint32_t release_us;
	bool release_inside;
	bool rollover;		 /* the next press replaces the keys held */
	bool mods_alone;	 /* rollover: no key press with a mods change */
	uint8_t keys_per_report; /* rollover: at most 6 */
};

static const struct {
	const char *name;
	struct typing_pace pace;
} typing_profiles[] = {
	[TYPING_FAST] = {"fast", {0, 0, false, false, false, 1}},
	[TYPING_BIOS] = {"bios", {20250, 3000, true, true, true, 1}},
	[TYPING_EDK2] = {"edk2", {20250, 3000, true, true, false, 3}},
};

#define TYPING_N_PROFILES (sizeof(typing_profiles) / sizeof(typing_profiles[0]))
_Static_assert(TYPING_N_PROFILES == TYPING_EDK2 + 1, "a pace per profile");
#define TYPING_ENTER 0x28

int typing_profile_parse(const char *name, enum typing_profile *out)
{
	size_t i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < TYPING_N_PROFILES; i++) {
		if (!strcasecmp(name, typing_profiles[i].name)) {
			*out = (enum typing_profile)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *typing_profile_name(enum typing_profile p)
{
	if ((size_t)p >= TYPING_N_PROFILES)
		return NULL;
	return typing_profiles[p].name;
}

static bool typing_has_key(const struct hid_report *r, uint8_t usage)
{
	size_t i;

	for (i = 2; i < HID_REPORT_LEN; i++) {
		if (r->b[i] == usage)
			return true;
	}
	return false;
}

static const struct typing_pace *typing_pace_of(enum typing_profile prof)
{
	if ((size_t)prof >= TYPING_N_PROFILES)
		prof = TYPING_BIOS;
	return &typing_profiles[prof].pace;
}

/* How many keys and modifiers cur presses that prev did not. */
static unsigned int typing_presses(const struct hid_report *prev,
				   const struct hid_report *cur)
{
	unsigned int n =
		(unsigned int)__builtin_popcount(cur->b[0] & ~prev->b[0]);
	size_t i;

	for (i = 2; i < HID_REPORT_LEN; i++) {
		if (cur->b[i] && !typing_has_key(prev, cur->b[i]))
			n++;
	}
	return n;
}

uint32_t typing_gap(enum typing_profile prof, const struct hid_report *prev,
		    const struct hid_report *cur)
{
	const struct typing_pace *pace = typing_pace_of(prof);
	unsigned int n = typing_presses(prev, cur);

	/* At most 14 presses (8 modifiers, 6 keys): no overflow. */
	return n ? n * pace->press_us : pace->release_us;
}

static int typing_reserve(struct typing_plan *p, size_t more)
{
	struct typing_step *steps;
	size_t cap;

	if (more > SIZE_MAX / sizeof(*steps) - p->n)
		return -ENOMEM;
	if (p->n + more <= p->cap)
		return 0;
	cap = p->cap ? p->cap : 64;
	while (cap < p->n + more)
		cap = cap > SIZE_MAX / 2 / sizeof(*steps) ? p->n + more
							  : cap * 2;
	steps = realloc(p->steps, cap * sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	p->steps = steps;
	p->cap = cap;
	return 0;
}

/* Append without growing: the caller reserved the room. */
static void typing_push(struct typing_plan *p, const struct hid_report *r,
			uint32_t gap_us)
{
	p->steps[p->n].r = *r;
	p->steps[p->n].gap_us = gap_us;
	p->n++;
}

int typing_plan_report(struct typing_plan *p, const struct hid_report *r,
		       uint32_t gap_us)
{
	int err = typing_reserve(p, 1);

	if (err)
		return err;
	typing_push(p, r, gap_us);
	return 0;
}

void typing_plan_free(struct typing_plan *p)
{
	free(p->steps);
	p->steps = NULL;
	p->n = 0;
	p->cap = 0;
}

static bool typing_same(const struct hid_report *a, const struct hid_report *b)
{
	return !memcmp(a->b, b->b, sizeof(a->b));
}

/* A plan being appended to, in one profile. */
struct typing_build {
	struct typing_plan *p;
	const struct typing_pace *pace;
	struct hid_report cur; /* the state after the last step */
	bool pressed;	       /* the last step appended here presses */
};

static void typing_build_start(struct typing_build *b, struct typing_plan *p,
			       enum typing_profile prof)
{
	b->p = p;
	b->pace = typing_pace_of(prof);
	if (p->n)
		b->cur = p->steps[p->n - 1].r;
	else
		hid_report_clear(&b->cur);
	b->pressed = false;
}

/*
 * Append r with the gap the profile wants after the current state. A
 * release right after a press appended here takes its gap out of the
 * press's when the profile counts time per press (release_inside).
 */
static void typing_emit(struct typing_build *b, const struct hid_report *r)
{
	unsigned int n = typing_presses(&b->cur, r);
	uint32_t gap = n ? n * b->pace->press_us : b->pace->release_us;

	if (!n && b->pressed && b->pace->release_inside) {
		uint32_t *prev = &b->p->steps[b->p->n - 1].gap_us;

		*prev = *prev > gap ? *prev - gap : 0;
	}
	typing_push(b->p, r, gap);
	b->cur = *r;
	b->pressed = n > 0;
}

/* Get to "these modifiers, no keys" unless that is already the state. */
static void typing_mods(struct typing_build *b, uint8_t mods)
{
	struct hid_report r;

	hid_report_clear(&r);
	r.b[0] = mods;
	if (!typing_same(&b->cur, &r))
		typing_emit(b, &r);
}

/* One key a report: modifiers first, each key pressed and released. */
static void typing_text_single(struct typing_build *b,
			       const struct keystroke *ks, size_t n)
{
	struct hid_report r;
	size_t i;
	bool keep;

	for (i = 0; i < n; i++) {
		typing_mods(b, ks[i].mods);
		hid_report_clear(&r);
		r.b[0] = ks[i].mods;
		r.b[2] = ks[i].usage;
		typing_emit(b, &r);
		keep = i + 1 < n && ks[i].mods && ks[i + 1].mods == ks[i].mods;
		hid_report_clear(&r);
		r.b[0] = keep ? ks[i].mods : 0;
		typing_emit(b, &r);
	}
}

/*
 * Rollover: each report holds the next strokes that share modifiers and
 * keys, up to keys_per_report, with those modifiers, in typing order, in
 * place of the keys of the report before. A group with other modifiers
 * goes after a report of its modifiers alone (mods_alone); one that
 * presses a key still held goes after a release of the keys.
 */
static void typing_text_rollover(struct typing_build *b,
				 const struct keystroke *ks, size_t n)
{
	struct hid_report r;
	size_t i = 0, k, j;

	while (i < n) {
		hid_report_clear(&r);
		r.b[0] = ks[i].mods;
		r.b[2] = ks[i++].usage;
		for (k = 1;
		     i < n && k < b->pace->keys_per_report &&
		     ks[i].mods == r.b[0] && !typing_has_key(&r, ks[i].usage);
		     k++, i++)
			r.b[2 + k] = ks[i].usage;
		if (b->pace->mods_alone && r.b[0] != b->cur.b[0])
			typing_mods(b, r.b[0]);
		for (j = 0; j < k; j++) {
			if (typing_has_key(&b->cur, r.b[2 + j])) {
				typing_mods(b, b->cur.b[0]);
				break;
			}
		}
		typing_emit(b, &r);
	}
	typing_mods(b, 0);
}

/*
 * Check the whole text and collect its keystrokes; *out is allocated
 * (twice the byte count is enough: at most two strokes per byte).
 */
static int typing_strokes(const struct layout *l, const char *s, size_t len,
			  struct keystroke **out, size_t *n, size_t *bad_pos,
			  uint32_t *bad_cp)
{
	struct keystroke *ks, two[2];
	size_t off = 0, pos = 0, k, count = 0;
	uint32_t cp;

	ks = malloc((len ? len : 1) * 2 * sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	for (; off < len; pos++) {
		int step = utf8_decode(s + off, len - off, &cp);
		int err = step < 0 ? -EILSEQ : 0;

		if (step > 0)
			off += (size_t)step;
		if (!err && cp == '\r') {
			if (off < len && s[off] == '\n')
				continue;
			cp = '\n';
		}
		if (!err)
			err = layout_map(l, cp, two, &k);
		if (err) {
			*bad_pos = pos;
			*bad_cp = cp;
			free(ks);
			return err;
		}
		ks[count++] = two[0];
		if (k == 2)
			ks[count++] = two[1];
	}
	*out = ks;
	*n = count;
	return 0;
}

int typing_plan_text(struct typing_plan *p, const struct layout *l,
		     const char *utf8, size_t len, enum typing_profile prof,
		     size_t *bad_pos, uint32_t *bad_cp)
{
	struct typing_build b;
	struct keystroke *ks = NULL;
	size_t n = 0;
	int err;

	if (!l)
		return -EINVAL;
	err = typing_strokes(l, utf8, len, &ks, &n, bad_pos, bad_cp);
	if (err)
		return err;
	/* A modifier report, a press and a release per stroke at most. */
	err = typing_reserve(p, 3 * n);
	if (err)
		goto out;
	typing_build_start(&b, p, prof);
	if (b.pace->rollover)
		typing_text_rollover(&b, ks, n);
	else
		typing_text_single(&b, ks, n);
out:
	free(ks);
	return err;
}

int typing_plan_chords(struct typing_plan *p, const struct key_chord *c,
		       size_t n, enum typing_profile prof)
{
	struct typing_build b;
	struct hid_report r;
	size_t i, k;

	if (n > SIZE_MAX / 3 || typing_reserve(p, 3 * n))
		return -ENOMEM;
	typing_build_start(&b, p, prof);
	for (i = 0; i < n; i++) {
		typing_mods(&b, c[i].mods);
		if (c[i].nkeys) {
			hid_report_clear(&r);
			r.b[0] = c[i].mods;
			for (k = 0; k < c[i].nkeys && k < KEYS_CHORD_MAX; k++)
				r.b[2 + k] = c[i].keys[k];
			typing_emit(&b, &r);
		}
		typing_mods(&b, 0);
	}
	return 0;
}

/* Alt+SysRq then R E I S U B, with time for each step to take effect. */
int typing_plan_sysrq(struct typing_plan *p)
{
	static const struct {
		uint8_t usage;
		uint16_t after_ms;
	} steps[] = {
		{0x15, 1000}, /* r: keyboard out of raw mode */
		{0x08, 3000}, /* e: SIGTERM to all */
		{0x0c, 3000}, /* i: SIGKILL to all */
		{0x16, 3000}, /* s: sync */
		{0x18, 2000}, /* u: remount read-only */
		{0x05, 100},  /* b: reboot */
	};
	struct hid_report r;
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(steps) / sizeof(steps[0]); i++) {
		hid_report_clear(&r);
		r.b[0] = HID_MOD_LALT;
		err = typing_plan_report(p, &r, 30000);
		r.b[2] = 0x46; /* PrintScreen / SysRq */
		if (!err)
			err = typing_plan_report(p, &r, 30000);
		r.b[3] = steps[i].usage;
		if (!err)
			err = typing_plan_report(p, &r, 100000);
		r.b[3] = 0;
		if (!err)
			err = typing_plan_report(p, &r, 30000);
		hid_report_clear(&r);
		if (!err)
			err = typing_plan_report(
				p, &r, (uint32_t)steps[i].after_ms * 1000);
	}
	return err;
}
