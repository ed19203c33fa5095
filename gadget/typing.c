/* Typing plans: text and chords turned into paced HID reports. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>

#include "gadget/typing.h"
#include "topics/utf8.h"

/*
 * Pauses after a report, by what the report does. A report that presses
 * keys or modifiers waits key_ms or mod_ms for each newly pressed one; a
 * report that presses nothing (a release) waits release_ms.
 *
 * fast: no pauses. The HID function holds one report at a time and a
 * write waits until the host has taken the previous one, so the host's
 * polling is the pace, and a host that reads reports never loses one.
 *
 * bios: EDK2's USB keyboard driver (UsbKbDxe) queues every change
 * between two reports as an event (each modifier bit and each key, press
 * and release) in a 32-entry queue that drops the oldest entry when full.
 * A 20 ms timer takes events off that queue until it has found one press,
 * modifiers included, and turns it into at most one character. Releases
 * cost nothing, but every press costs one 20 ms tick, so presses must
 * come slower than one per 20 ms on average, with room to spare. Each
 * report that presses something is held 20 ms per new press (key_ms, and
 * mod_ms for each modifier), and a release adds 3 ms. Plain characters go
 * out every 23 ms (43 per second); the worst case, shifted and unshifted
 * characters taking turns, is three presses in 66 ms, one per 22 ms,
 * still 9% slower than the timer drains them. So the queue holds the
 * events of a character or two at most, and a firmware that misses ticks
 * while it redraws has the rest of the 32 entries as margin, which the
 * spare rate drains again. Holding a press for a full tick also suits
 * firmware that samples the key state instead of queueing events, and
 * stays far below the 500 ms after which firmware starts to repeat a key.
 * A host that polls less often than every millisecond only adds time.
 */
struct typing_pace {
	uint16_t mod_ms;
	uint16_t key_ms;
	uint16_t release_ms;
};

static const struct {
	const char *name;
	struct typing_pace pace;
} typing_profiles[] = {
	[TYPING_FAST] = {"fast", {0, 0, 0}},
	[TYPING_BIOS] = {"bios", {20, 20, 3}},
};

#define TYPING_N_PROFILES (sizeof(typing_profiles) / sizeof(typing_profiles[0]))
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

uint16_t typing_gap(enum typing_profile prof, const struct hid_report *prev,
		    const struct hid_report *cur)
{
	const struct typing_pace *pace;
	unsigned int new_mods, new_keys = 0, gap;
	size_t i;

	if ((size_t)prof >= TYPING_N_PROFILES)
		prof = TYPING_BIOS;
	pace = &typing_profiles[prof].pace;
	new_mods = (unsigned int)__builtin_popcount(cur->b[0] & ~prev->b[0]);
	for (i = 2; i < HID_REPORT_LEN; i++) {
		if (cur->b[i] && !typing_has_key(prev, cur->b[i]))
			new_keys++;
	}
	if (!new_mods && !new_keys)
		return pace->release_ms;
	gap = new_mods * pace->mod_ms + new_keys * pace->key_ms;
	return gap > UINT16_MAX ? UINT16_MAX : (uint16_t)gap;
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
			uint16_t gap_ms)
{
	p->steps[p->n].r = *r;
	p->steps[p->n].gap_ms = gap_ms;
	p->n++;
}

int typing_plan_report(struct typing_plan *p, const struct hid_report *r,
		       uint16_t gap_ms)
{
	int err = typing_reserve(p, 1);

	if (err)
		return err;
	typing_push(p, r, gap_ms);
	return 0;
}

void typing_plan_free(struct typing_plan *p)
{
	free(p->steps);
	p->steps = NULL;
	p->n = 0;
	p->cap = 0;
}

/* The state the host sees now: the plan's last report, or nothing held. */
static void typing_last(const struct typing_plan *p, struct hid_report *r)
{
	if (p->n)
		*r = p->steps[p->n - 1].r;
	else
		hid_report_clear(r);
}

static bool typing_same(const struct hid_report *a, const struct hid_report *b)
{
	return !memcmp(a->b, b->b, sizeof(a->b));
}

/* Append r with the gap the profile wants after *cur, then make it *cur. */
static void typing_emit(struct typing_plan *p, enum typing_profile prof,
			struct hid_report *cur, const struct hid_report *r)
{
	typing_push(p, r, typing_gap(prof, cur, r));
	*cur = *r;
}

/* Get to "these modifiers, no keys" unless that is already the state. */
static void typing_mods(struct typing_plan *p, enum typing_profile prof,
			struct hid_report *cur, uint8_t mods)
{
	struct hid_report r;

	hid_report_clear(&r);
	r.b[0] = mods;
	if (!typing_same(cur, &r))
		typing_emit(p, prof, cur, &r);
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
	struct keystroke *ks = NULL;
	struct hid_report cur, r;
	size_t n = 0, i;
	bool keep;
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
	typing_last(p, &cur);
	for (i = 0; i < n; i++) {
		typing_mods(p, prof, &cur, ks[i].mods);
		hid_report_clear(&r);
		r.b[0] = ks[i].mods;
		r.b[2] = ks[i].usage;
		typing_emit(p, prof, &cur, &r);
		keep = i + 1 < n && ks[i].mods && ks[i + 1].mods == ks[i].mods;
		hid_report_clear(&r);
		r.b[0] = keep ? ks[i].mods : 0;
		typing_emit(p, prof, &cur, &r);
	}
out:
	free(ks);
	return err;
}

int typing_plan_chords(struct typing_plan *p, const struct key_chord *c,
		       size_t n, enum typing_profile prof)
{
	struct hid_report cur, r;
	size_t i, k;

	if (n > SIZE_MAX / 3 || typing_reserve(p, 3 * n))
		return -ENOMEM;
	typing_last(p, &cur);
	for (i = 0; i < n; i++) {
		typing_mods(p, prof, &cur, c[i].mods);
		if (c[i].nkeys) {
			hid_report_clear(&r);
			r.b[0] = c[i].mods;
			for (k = 0; k < c[i].nkeys && k < KEYS_CHORD_MAX; k++)
				r.b[2 + k] = c[i].keys[k];
			typing_emit(p, prof, &cur, &r);
		}
		typing_mods(p, prof, &cur, 0);
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
		err = typing_plan_report(p, &r, 30);
		r.b[2] = 0x46; /* PrintScreen / SysRq */
		if (!err)
			err = typing_plan_report(p, &r, 30);
		r.b[3] = steps[i].usage;
		if (!err)
			err = typing_plan_report(p, &r, 100);
		r.b[3] = 0;
		if (!err)
			err = typing_plan_report(p, &r, 30);
		hid_report_clear(&r);
		if (!err)
			err = typing_plan_report(p, &r, steps[i].after_ms);
	}
	return err;
}
