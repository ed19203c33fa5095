/*
 * Typing plans: report order (modifiers before the key, releases between
 * presses, all released at the end), errors that leave the plan alone,
 * and the bios pacing run through a model of EDK2's USB keyboard driver
 * with a simulated clock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gadget/typing.h"

#define SH HID_MOD_LSHIFT
#define AG HID_MOD_RALT

static const struct layout *lay(const char *name)
{
	const struct layout *l = layout_find(name);

	assert_non_null(l);
	return l;
}

static struct typing_plan plan_text(const char *layout, const char *s,
				    enum typing_profile prof)
{
	struct typing_plan p = {0};
	size_t pos = 99;
	uint32_t cp = 99;

	if (typing_plan_text(&p, lay(layout), s, strlen(s), prof, &pos, &cp))
		fail_msg("'%s' in %s: error at %zu (U+%04X)", s, layout, pos,
			 (unsigned)cp);
	return p;
}

/* Step i is (mods, key) with at most one key. */
static void step_is(const struct typing_plan *p, size_t i, uint8_t mods,
		    uint8_t key)
{
	const uint8_t *b;
	size_t k;

	assert_true(i < p->n);
	b = p->steps[i].r.b;
	if (b[0] != mods || b[2] != key)
		fail_msg("step %zu: %02x/%02x, want %02x/%02x", i, b[0], b[2],
			 mods, key);
	assert_int_equal(b[1], 0);
	for (k = 3; k < HID_REPORT_LEN; k++)
		assert_int_equal(b[k], 0);
}

static bool has_keys(const struct hid_report *r)
{
	size_t k;

	for (k = 2; k < HID_REPORT_LEN; k++) {
		if (r->b[k])
			return true;
	}
	return false;
}

/*
 * The rules every plan keeps: a report with keys follows a report with
 * the same modifiers and no keys (modifiers first, release between
 * presses), and the plan ends with everything released.
 */
static void check_shape(const struct typing_plan *p)
{
	struct hid_report prev;
	size_t i;

	hid_report_clear(&prev);
	assert_true(p->n > 0);
	for (i = 0; i < p->n; i++) {
		const struct hid_report *r = &p->steps[i].r;

		if (has_keys(r) && (has_keys(&prev) || prev.b[0] != r->b[0]))
			fail_msg("step %zu presses a key together with a "
				 "change of modifiers or keys",
				 i);
		prev = *r;
	}
	assert_false(has_keys(&prev));
	assert_int_equal(prev.b[0], 0);
}

static void test_profiles(void **state)
{
	enum typing_profile p = TYPING_BIOS;

	(void)state;
	assert_int_equal(typing_profile_parse("fast", &p), 0);
	assert_int_equal(p, TYPING_FAST);
	assert_int_equal(typing_profile_parse("bios", &p), 0);
	assert_int_equal(p, TYPING_BIOS);
	assert_int_equal(typing_profile_parse("BIOS", &p), 0);
	assert_int_equal(p, TYPING_BIOS);
	assert_int_equal(typing_profile_parse("slow", &p), -EINVAL);
	assert_int_equal(typing_profile_parse("", &p), -EINVAL);
	assert_int_equal(typing_profile_parse(NULL, &p), -EINVAL);
	assert_string_equal(typing_profile_name(TYPING_FAST), "fast");
	assert_string_equal(typing_profile_name(TYPING_BIOS), "bios");
	assert_null(typing_profile_name((enum typing_profile)7));
}

static void test_plain_and_shifted(void **state)
{
	struct typing_plan p;

	(void)state;
	p = plan_text("us", "a", TYPING_FAST);
	assert_int_equal(p.n, 2);
	step_is(&p, 0, 0, 0x04);
	step_is(&p, 1, 0, 0);
	typing_plan_free(&p);

	/* Shift goes out alone before the key. */
	p = plan_text("us", "A", TYPING_FAST);
	assert_int_equal(p.n, 3);
	step_is(&p, 0, SH, 0);
	step_is(&p, 1, SH, 0x04);
	step_is(&p, 2, 0, 0);
	typing_plan_free(&p);

	/* Shift stays held between two shifted characters. */
	p = plan_text("us", "AB", TYPING_FAST);
	assert_int_equal(p.n, 5);
	step_is(&p, 0, SH, 0);
	step_is(&p, 1, SH, 0x04);
	step_is(&p, 2, SH, 0);
	step_is(&p, 3, SH, 0x05);
	step_is(&p, 4, 0, 0);
	typing_plan_free(&p);

	p = plan_text("us", "Aa!", TYPING_FAST);
	assert_int_equal(p.n, 8);
	step_is(&p, 0, SH, 0);
	step_is(&p, 1, SH, 0x04);
	step_is(&p, 2, 0, 0);
	step_is(&p, 3, 0, 0x04);
	step_is(&p, 4, 0, 0);
	step_is(&p, 5, SH, 0);
	step_is(&p, 6, SH, 0x1e);
	step_is(&p, 7, 0, 0);
	check_shape(&p);
	typing_plan_free(&p);
}

static void test_repeated_released(void **state)
{
	struct typing_plan p;
	size_t i;

	(void)state;
	p = plan_text("us", "aaa", TYPING_FAST);
	assert_int_equal(p.n, 6);
	for (i = 0; i < 3; i++) {
		step_is(&p, 2 * i, 0, 0x04);
		step_is(&p, 2 * i + 1, 0, 0);
	}
	typing_plan_free(&p);

	p = plan_text("us", "AA", TYPING_FAST);
	step_is(&p, 1, SH, 0x04);
	step_is(&p, 2, SH, 0);
	step_is(&p, 3, SH, 0x04);
	check_shape(&p);
	typing_plan_free(&p);
}

static void test_altgr_and_dead_keys(void **state)
{
	struct typing_plan p;

	(void)state;
	p = plan_text("de", "@", TYPING_FAST);
	assert_int_equal(p.n, 3);
	step_is(&p, 0, AG, 0);
	step_is(&p, 1, AG, 0x14);
	step_is(&p, 2, 0, 0);
	typing_plan_free(&p);

	/* é on de: the dead acute key, released, then e. */
	p = plan_text("de", "\xc3\xa9", TYPING_FAST);
	assert_int_equal(p.n, 4);
	step_is(&p, 0, 0, 0x2e);
	step_is(&p, 1, 0, 0);
	step_is(&p, 2, 0, 0x08);
	step_is(&p, 3, 0, 0);
	typing_plan_free(&p);

	/* È on de: Shift held across the dead grave and E. */
	p = plan_text("de", "\xc3\x88", TYPING_FAST);
	assert_int_equal(p.n, 5);
	step_is(&p, 0, SH, 0);
	step_is(&p, 1, SH, 0x2e);
	step_is(&p, 2, SH, 0);
	step_is(&p, 3, SH, 0x08);
	step_is(&p, 4, 0, 0);
	typing_plan_free(&p);

	/* ^ on de: dead circumflex then space. */
	p = plan_text("de", "^", TYPING_FAST);
	assert_int_equal(p.n, 4);
	step_is(&p, 0, 0, 0x35);
	step_is(&p, 2, 0, 0x2c);
	typing_plan_free(&p);

	/* y and z trade places on de. */
	p = plan_text("de", "zy", TYPING_FAST);
	step_is(&p, 0, 0, 0x1c);
	step_is(&p, 2, 0, 0x1d);
	typing_plan_free(&p);
}

static void test_control_characters(void **state)
{
	struct typing_plan p;

	(void)state;
	p = plan_text("us", "a\nb\tc", TYPING_FAST);
	assert_int_equal(p.n, 10);
	step_is(&p, 2, 0, 0x28);
	step_is(&p, 6, 0, 0x2b);
	typing_plan_free(&p);

	/* CRLF and a lone CR are one Enter each. */
	p = plan_text("us", "a\r\nb\rc", TYPING_FAST);
	assert_int_equal(p.n, 10);
	step_is(&p, 2, 0, 0x28);
	step_is(&p, 4, 0, 0x05);
	step_is(&p, 6, 0, 0x28);
	typing_plan_free(&p);
}

static void test_unsupported_character(void **state)
{
	struct typing_plan p = {0};
	struct hid_report r;
	size_t pos = 0;
	uint32_t cp = 0;
	const char *s = "ab\xc3\xa9"
			"c"; /* "abéc" */

	(void)state;
	assert_int_equal(typing_plan_text(&p, lay("us"), s, strlen(s),
					  TYPING_FAST, &pos, &cp),
			 -ENOENT);
	assert_int_equal(pos, 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(p.n, 0);

	/* A plan with steps in it keeps exactly those. */
	hid_report_clear(&r);
	assert_int_equal(typing_plan_report(&p, &r, 5), 0);
	assert_int_equal(typing_plan_text(&p, lay("us"), "x\xe2\x82\xac", 4,
					  TYPING_BIOS, &pos, &cp),
			 -ENOENT);
	assert_int_equal(pos, 1);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.steps[0].gap_ms, 5);

	/* A NUL inside the text is a character no layout types. */
	assert_int_equal(typing_plan_text(&p, lay("us"), "a\0b", 3, TYPING_FAST,
					  &pos, &cp),
			 -ENOENT);
	assert_int_equal(pos, 1);
	assert_int_equal(cp, 0);
	assert_int_equal(
		typing_plan_text(&p, NULL, "a", 1, TYPING_FAST, &pos, &cp),
		-EINVAL);
	assert_int_equal(p.n, 1);
	typing_plan_free(&p);
}

static void expect_ilseq(const char *s, size_t len, size_t want_pos,
			 uint32_t want_byte)
{
	struct typing_plan p = {0};
	size_t pos = 99;
	uint32_t cp = 99;

	assert_int_equal(
		typing_plan_text(&p, lay("us"), s, len, TYPING_FAST, &pos, &cp),
		-EILSEQ);
	assert_int_equal(pos, want_pos);
	assert_int_equal(cp, want_byte);
	assert_int_equal(p.n, 0);
	typing_plan_free(&p);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	expect_ilseq("ab\xc3", 3, 2, 0xc3);	      /* truncated */
	expect_ilseq("\x80", 1, 0, 0x80);	      /* lone continuation */
	expect_ilseq("a\xc0\xaf", 3, 1, 0xc0);	      /* overlong '/' */
	expect_ilseq("\xe0\x80\xaf", 3, 0, 0xe0);     /* overlong */
	expect_ilseq("\xed\xa0\x80", 3, 0, 0xed);     /* surrogate */
	expect_ilseq("\xf4\x90\x80\x80", 4, 0, 0xf4); /* past U+10FFFF */
	expect_ilseq("\xff", 1, 0, 0xff);
	expect_ilseq("\xc3\x28", 2, 0, 0xc3); /* bad continuation */
	/* Invalid UTF-8 after an unsupported character: the first error. */
	expect_ilseq("a\xff\xc3\xa9", 4, 1, 0xff);
}

static void test_empty_text(void **state)
{
	struct typing_plan p = {0};
	size_t pos;
	uint32_t cp;

	(void)state;
	assert_int_equal(
		typing_plan_text(&p, lay("us"), "", 0, TYPING_BIOS, &pos, &cp),
		0);
	assert_int_equal(p.n, 0);
	typing_plan_free(&p);
}

static void test_gaps(void **state)
{
	struct typing_plan p;
	size_t i;

	(void)state;
	p = plan_text("us", "aA", TYPING_FAST);
	for (i = 0; i < p.n; i++)
		assert_int_equal(p.steps[i].gap_ms, 0);
	typing_plan_free(&p);

	p = plan_text("us", "aA", TYPING_BIOS);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.steps[0].gap_ms, 20); /* a held */
	assert_int_equal(p.steps[1].gap_ms, 3);	 /* released */
	assert_int_equal(p.steps[2].gap_ms, 20); /* Shift alone */
	assert_int_equal(p.steps[3].gap_ms, 20); /* A held */
	assert_int_equal(p.steps[4].gap_ms, 3);
	typing_plan_free(&p);
}

static void test_typing_gap(void **state)
{
	struct hid_report a, b;

	(void)state;
	hid_report_clear(&a);
	hid_report_clear(&b);
	b.b[0] = HID_MOD_LCTRL | HID_MOD_LALT;
	assert_int_equal(typing_gap(TYPING_BIOS, &a, &b), 40);
	assert_int_equal(typing_gap(TYPING_FAST, &a, &b), 0);
	a = b;
	b.b[2] = 0x4c;
	b.b[3] = 0x04;
	assert_int_equal(typing_gap(TYPING_BIOS, &a, &b), 40);
	assert_int_equal(typing_gap(TYPING_BIOS, &b, &a), 3);
	assert_int_equal(typing_gap(TYPING_BIOS, &b, &b), 3);
}

static void test_chords(void **state)
{
	struct typing_plan p = {0};
	struct key_chord c[3];
	size_t n, off, len;

	(void)state;
	assert_int_equal(keys_parse_sequence("ctrl+alt+delete a a", c, 3, &n,
					     &off, &len),
			 0);
	assert_int_equal(typing_plan_chords(&p, c, n, TYPING_BIOS), 0);
	assert_int_equal(p.n, 7);
	step_is(&p, 0, HID_MOD_LCTRL | HID_MOD_LALT, 0);
	assert_int_equal(p.steps[0].gap_ms, 40);
	step_is(&p, 1, HID_MOD_LCTRL | HID_MOD_LALT, 0x4c);
	assert_int_equal(p.steps[1].gap_ms, 20);
	step_is(&p, 2, 0, 0);
	assert_int_equal(p.steps[2].gap_ms, 3);
	step_is(&p, 3, 0, 0x04);
	step_is(&p, 4, 0, 0);
	step_is(&p, 5, 0, 0x04);
	step_is(&p, 6, 0, 0);
	check_shape(&p);
	typing_plan_free(&p);

	/* A modifier alone is tapped; several keys go down together. */
	assert_int_equal(
		keys_parse_sequence("ctrl shift+a+b", c, 3, &n, &off, &len), 0);
	assert_int_equal(typing_plan_chords(&p, c, n, TYPING_FAST), 0);
	assert_int_equal(p.n, 5);
	step_is(&p, 0, HID_MOD_LCTRL, 0);
	step_is(&p, 1, 0, 0);
	step_is(&p, 2, SH, 0);
	assert_int_equal(p.steps[3].r.b[0], SH);
	assert_int_equal(p.steps[3].r.b[2], 0x04);
	assert_int_equal(p.steps[3].r.b[3], 0x05);
	step_is(&p, 4, 0, 0);
	typing_plan_free(&p);
}

static void test_plan_report(void **state)
{
	struct typing_plan p = {0};
	struct hid_report r;
	size_t i;

	(void)state;
	hid_report_clear(&r);
	for (i = 0; i < 1000; i++) {
		r.b[2] = (uint8_t)(i & 0x7f);
		assert_int_equal(typing_plan_report(&p, &r, (uint16_t)i), 0);
	}
	assert_int_equal(p.n, 1000);
	assert_true(p.cap >= 1000);
	assert_int_equal(p.steps[999].gap_ms, 999);
	assert_int_equal(p.steps[999].r.b[2], 999 & 0x7f);
	typing_plan_free(&p);
	assert_null(p.steps);
	assert_int_equal(p.n, 0);
	typing_plan_free(&p);
}

/* A deterministic mixed text: words, capitals, digits, punctuation. */
static char *mixed_text(size_t n)
{
	static const char *const words[] = {
		"the",	"quick",  "brown", "fox",  "jumps",    "over",
		"lazy", "dog",	  "boot",  "menu", "server",   "setup",
		"disk", "kernel", "grub",  "efi",  "password", "root",
	};
	static const char punct[] = ".,;:-_/()!?\"'=+*#@";
	char *s = malloc(n + 1);
	uint32_t x = 12345;
	size_t i = 0;

	assert_non_null(s);
	while (i < n) {
		const char *w;

		x = x * 1103515245u + 12345u;
		w = words[(x >> 16) % (sizeof(words) / sizeof(words[0]))];
		for (; *w && i < n; w++)
			s[i++] = *w;
		if (i < n && ((x >> 8) & 7) == 0)
			s[i - 1] = (char)(s[i - 1] - 'a' + 'A');
		if (i < n && ((x >> 11) & 3) == 0)
			s[i++] = punct[(x >> 4) % (sizeof(punct) - 1)];
		if (i < n && ((x >> 13) & 7) == 0)
			s[i++] = (char)('0' + (x >> 20) % 10);
		if (i < n)
			s[i++] = ((x >> 24) & 15) == 0 ? '\n' : ' ';
	}
	s[n] = '\0';
	return s;
}

/*
 * EDK2 UsbKbDxe as a model. Each report the host takes queues one event
 * per changed modifier bit and per released or pressed key (32 entries,
 * the oldest dropped when full). A timer every 20 ms dequeues events,
 * applying releases, until it meets one press: a modifier press updates
 * the modifier state, a key press becomes one character with the
 * modifiers of that moment. The host takes at most one report per poll,
 * and the next one no earlier than the gap after the previous one.
 * Returns the characters lost, added or typed wrong (plus one if any
 * event was dropped), and the time the plan took.
 */
struct uefi_event {
	uint8_t usage;
	bool down;
};

struct typed {
	uint8_t mods, usage;
};

struct uefi {
	struct uefi_event q[32];
	size_t head, count, dropped;
	uint8_t mods;
	struct typed *got;
	size_t ngot;
};

static bool has_key_in(const struct hid_report *r, uint8_t usage)
{
	size_t k;

	for (k = 2; k < HID_REPORT_LEN; k++) {
		if (r->b[k] == usage)
			return true;
	}
	return false;
}

static void uefi_enqueue(struct uefi *u, uint8_t usage, bool down)
{
	if (u->count == 32) {
		u->head = (u->head + 1) % 32;
		u->count--;
		u->dropped++;
	}
	u->q[(u->head + u->count) % 32] = (struct uefi_event){usage, down};
	u->count++;
}

static void uefi_report(struct uefi *u, const struct hid_report *last,
			const struct hid_report *r)
{
	unsigned int k;

	for (k = 0; k < 8; k++) {
		if ((r->b[0] ^ last->b[0]) & (1u << k))
			uefi_enqueue(u, (uint8_t)(0xe0 + k),
				     (r->b[0] & (1u << k)) != 0);
	}
	for (k = 2; k < HID_REPORT_LEN; k++) {
		if (last->b[k] && !has_key_in(r, last->b[k]))
			uefi_enqueue(u, last->b[k], false);
	}
	for (k = 2; k < HID_REPORT_LEN; k++) {
		if (r->b[k] && !has_key_in(last, r->b[k]))
			uefi_enqueue(u, r->b[k], true);
	}
}

static void uefi_tick(struct uefi *u)
{
	while (u->count) {
		struct uefi_event e = u->q[u->head];

		u->head = (u->head + 1) % 32;
		u->count--;
		if (e.usage >= 0xe0) {
			uint8_t bit = (uint8_t)(1u << (e.usage - 0xe0));

			u->mods = e.down ? u->mods | bit : u->mods & ~bit;
			if (e.down)
				return;
			continue;
		}
		if (!e.down)
			continue;
		u->got[u->ngot].mods = u->mods;
		u->got[u->ngot].usage = e.usage;
		u->ngot++;
		return;
	}
}

static size_t uefi_run(const struct typing_plan *p, unsigned int poll_ms,
		       unsigned int phase_ms, double *seconds)
{
	struct uefi u = {.head = 0};
	struct hid_report last;
	uint64_t *at = calloc(p->n + 1, sizeof(*at));
	uint64_t tick = phase_ms;
	size_t i, k, nwant = 0, bad = 0;
	struct typed *want = calloc(p->n, sizeof(*want));

	u.got = calloc(p->n, sizeof(*u.got));
	assert_non_null(at);
	assert_non_null(want);
	assert_non_null(u.got);
	/* When the host takes each report. */
	for (i = 0; i < p->n; i++) {
		uint64_t a = (at[i] / poll_ms + 1) * poll_ms;
		uint64_t b = (at[i] + p->steps[i].gap_ms + poll_ms - 1) /
			     poll_ms * poll_ms;
		at[i + 1] = a > b ? a : b;
	}
	hid_report_clear(&last);
	for (i = 0; i < p->n; i++) {
		while (tick < at[i]) {
			uefi_tick(&u);
			tick += 20;
		}
		uefi_report(&u, &last, &p->steps[i].r);
		for (k = 2; k < HID_REPORT_LEN; k++) {
			uint8_t key = p->steps[i].r.b[k];

			if (key && !has_key_in(&last, key)) {
				want[nwant].mods = p->steps[i].r.b[0];
				want[nwant].usage = key;
				nwant++;
			}
		}
		last = p->steps[i].r;
	}
	while (u.count)
		uefi_tick(&u);
	*seconds = (double)(at[p->n]) / 1000.0;
	for (i = 0; i < nwant; i++) {
		if (i >= u.ngot || u.got[i].usage != want[i].usage ||
		    (u.got[i].mods & (SH | AG)) != (want[i].mods & (SH | AG)))
			bad++;
	}
	if (u.ngot > nwant)
		bad += u.ngot - nwant;
	if (u.dropped)
		bad++;
	free(at);
	free(want);
	free(u.got);
	return bad;
}

static void test_bios_pacing_in_uefi(void **state)
{
	static const char *const layouts[] = {"us", "de", "fr"};
	static const unsigned int polls[] = {1, 8, 10};
	char *text = mixed_text(10000);
	struct typing_plan p;
	size_t li, pi;
	unsigned int phase;
	double secs = 0;

	(void)state;
	for (li = 0; li < sizeof(layouts) / sizeof(layouts[0]); li++) {
		p = plan_text(layouts[li], text, TYPING_BIOS);
		check_shape(&p);
		for (pi = 0; pi < sizeof(polls) / sizeof(polls[0]); pi++) {
			for (phase = 0; phase < 20; phase += 7) {
				size_t bad =
					uefi_run(&p, polls[pi], phase, &secs);

				if (bad)
					fail_msg("%s, poll %u ms: %zu wrong",
						 layouts[li], polls[pi], bad);
			}
			if (polls[pi] == 1)
				print_message("bios, %s, 1 ms polls: %.1f "
					      "chars/s\n",
					      layouts[li], 10000 / secs);
		}
		typing_plan_free(&p);
	}
	/* Lowercase text goes at 23 ms a character: over 40 per second. */
	p = plan_text("us", "the quick brown fox jumps over the lazy dog",
		      TYPING_BIOS);
	assert_int_equal(uefi_run(&p, 1, 3, &secs), 0);
	assert_true(43 / secs >= 40.0);
	typing_plan_free(&p);
	free(text);
}

/* The model is strict enough to catch what bios pacing prevents. */
static void test_fast_pacing_loses_keys_in_uefi(void **state)
{
	char *text = mixed_text(2000);
	struct typing_plan p = plan_text("us", text, TYPING_FAST);
	double secs;

	(void)state;
	assert_true(uefi_run(&p, 1, 0, &secs) > 100);
	typing_plan_free(&p);
	free(text);
}

/* Every layout types a mixed text with plans of the right shape. */
static void test_every_layout_shape(void **state)
{
	const struct layout *const *all = layout_all();
	char *text = mixed_text(3000);
	struct typing_plan p;
	size_t i;

	(void)state;
	for (i = 0; all[i]; i++) {
		p = plan_text(all[i]->name, text, TYPING_BIOS);
		check_shape(&p);
		typing_plan_free(&p);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_plain_and_shifted),
		cmocka_unit_test(test_repeated_released),
		cmocka_unit_test(test_altgr_and_dead_keys),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_unsupported_character),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_empty_text),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_typing_gap),
		cmocka_unit_test(test_chords),
		cmocka_unit_test(test_plan_report),
		cmocka_unit_test(test_bios_pacing_in_uefi),
		cmocka_unit_test(test_fast_pacing_loses_keys_in_uefi),
		cmocka_unit_test(test_every_layout_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
