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

/* How many keys and modifiers r presses that prev did not. */
static unsigned int new_presses(const struct hid_report *prev,
				const struct hid_report *r)
{
	unsigned int n =
		(unsigned int)__builtin_popcount(r->b[0] & ~prev->b[0]);
	size_t k, j;

	for (k = 2; k < HID_REPORT_LEN; k++) {
		bool held = false;

		for (j = 2; j < HID_REPORT_LEN; j++)
			held = held || (r->b[k] && prev->b[j] == r->b[k]);
		n += r->b[k] && !held;
	}
	return n;
}

/*
 * The rules of a bios (rollover) plan: at most one key a report; a
 * report that presses a key has the modifiers of the report before (a
 * change of modifiers goes out with no key press); a press comes at least
 * 20.25 ms per press after the press before; the plan ends with
 * everything released.
 */
static void check_rollover(const struct typing_plan *p)
{
	struct hid_report prev;
	uint64_t t = 0, next_press = 0;
	size_t i, k, n;

	hid_report_clear(&prev);
	assert_true(p->n > 0);
	for (i = 0; i < p->n; i++) {
		const struct hid_report *r = &p->steps[i].r;
		unsigned int np = new_presses(&prev, r);

		for (k = 2, n = 0; k < HID_REPORT_LEN; k++)
			n += r->b[k] != 0;
		if (n > 1)
			fail_msg("step %zu holds %zu keys", i, n);
		if (n && np && prev.b[0] != r->b[0])
			fail_msg("step %zu presses a key with a change of "
				 "modifiers",
				 i);
		if (np) {
			if (t < next_press)
				fail_msg("step %zu presses %llu us after the "
					 "press before, want %llu",
					 i, (unsigned long long)t,
					 (unsigned long long)next_press);
			next_press = 20250u * np;
			t = 0;
		}
		t += p->steps[i].gap_us;
		prev = *r;
	}
	assert_false(has_keys(&prev));
	assert_int_equal(prev.b[0], 0);
}

/*
 * The rules of a packed plan: at most max keys a report, and the plan
 * ends with everything released (the EDK2 model below checks the rest:
 * every key typed once, in order, with its modifiers).
 */
static void check_packed(const struct typing_plan *p, size_t max)
{
	struct hid_report prev;
	size_t i, k, n;

	hid_report_clear(&prev);
	assert_true(p->n > 0);
	for (i = 0; i < p->n; i++) {
		const struct hid_report *r = &p->steps[i].r;

		for (k = 2, n = 0; k < HID_REPORT_LEN; k++)
			n += r->b[k] != 0;
		if (n > max)
			fail_msg("step %zu holds %zu keys", i, n);
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
	assert_int_equal(p.steps[0].gap_us, 5);

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
		assert_int_equal(p.steps[i].gap_us, 0);
	typing_plan_free(&p);

	/* Press to press 20.25 ms: a release's 3 ms come out of the hold. */
	p = plan_text("us", "aA", TYPING_BIOS);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.steps[0].gap_us, 20250); /* a held */
	assert_int_equal(p.steps[1].gap_us, 20250); /* Shift, a released */
	assert_int_equal(p.steps[2].gap_us, 17250); /* A held */
	assert_int_equal(p.steps[3].gap_us, 3000);  /* released */
	typing_plan_free(&p);

	/* Text appended to a held key that it types first: the release it
	 * starts with leaves the earlier step's pause alone. */
	memset(&p, 0, sizeof(p));
	{
		struct hid_report x;
		size_t pos;
		uint32_t cp;

		hid_report_clear(&x);
		x.b[2] = 0x1b;
		assert_int_equal(typing_plan_report(&p, &x, 5000), 0);
		assert_int_equal(typing_plan_text(&p, lay("us"), "x", 1,
						  TYPING_BIOS, &pos, &cp),
				 0);
	}
	assert_int_equal(p.n, 4);
	assert_int_equal(p.steps[0].gap_us, 5000);
	step_is(&p, 1, 0, 0);
	assert_int_equal(p.steps[1].gap_us, 3000);
	step_is(&p, 2, 0, 0x1b);
	assert_int_equal(p.steps[2].gap_us, 17250);
	assert_int_equal(p.steps[3].gap_us, 3000);
	typing_plan_free(&p);
}

static void test_typing_gap(void **state)
{
	struct hid_report a, b;

	(void)state;
	hid_report_clear(&a);
	hid_report_clear(&b);
	b.b[0] = HID_MOD_LCTRL | HID_MOD_LALT;
	assert_int_equal(typing_gap(TYPING_BIOS, &a, &b), 40500);
	assert_int_equal(typing_gap(TYPING_FAST, &a, &b), 0);
	a = b;
	b.b[2] = 0x4c;
	b.b[3] = 0x04;
	assert_int_equal(typing_gap(TYPING_BIOS, &a, &b), 40500);
	/* Without a plan to look ahead in, a release costs its own pause. */
	assert_int_equal(typing_gap(TYPING_BIOS, &b, &a), 3000);
	assert_int_equal(typing_gap(TYPING_BIOS, &b, &b), 3000);
}

/* Step i holds mods and exactly the keys of want (0-ended), in order. */
static void packed_is(const struct typing_plan *p, size_t i, uint8_t mods,
		      const uint8_t *want, uint32_t gap_us)
{
	const uint8_t *b;
	size_t k;

	assert_true(i < p->n);
	b = p->steps[i].r.b;
	if (b[0] != mods)
		fail_msg("step %zu: mods %02x, want %02x", i, b[0], mods);
	for (k = 0; k < HID_REPORT_LEN - 2; k++) {
		uint8_t w = want[k] ? want[k] : 0;

		if (b[2 + k] != w)
			fail_msg("step %zu slot %zu: %02x, want %02x", i, k,
				 b[2 + k], w);
		if (!w)
			break;
	}
	for (; k < HID_REPORT_LEN - 2; k++)
		assert_int_equal(b[2 + k], 0);
	if (p->steps[i].gap_us != gap_us)
		fail_msg("step %zu: gap %u us, want %u", i,
			 (unsigned)p->steps[i].gap_us, (unsigned)gap_us);
}

#define P 20250u /* a press */
#define R 3000u	 /* a release, inside the press before it */

/*
 * bios: the next character's press releases the key before ([a] then
 * [b]); a key that comes back is released first, and a change of
 * modifiers goes out in a report that presses no key. Each case: the
 * reports (modifiers, key) with the pause after each.
 */
static void test_bios_rollover(void **state)
{
	static const struct {
		const char *layout, *text, *what;
		struct {
			uint8_t mods, key;
			uint32_t gap_us;
		} want[8];
		size_t n;
	} cases[] = {
		{"us",
		 "abc",
		 "other keys, same modifiers: a report each",
		 {{0, 0x04, P}, {0, 0x05, P}, {0, 0x06, P - R}, {0, 0, R}},
		 4},
		{"us",
		 "lla",
		 "the same key again: released 3 ms before it",
		 {{0, 0x0f, P - R},
		  {0, 0, R},
		  {0, 0x0f, P},
		  {0, 0x04, P - R},
		  {0, 0, R}},
		 5},
		{"us",
		 "aBC",
		 "Shift down with a's release, a press of its own",
		 {{0, 0x04, P},
		  {SH, 0, P},
		  {SH, 0x05, P},
		  {SH, 0x06, P - R},
		  {0, 0, R}},
		 5},
		{"us",
		 "Ca",
		 "Shift up with C's release, 3 ms before a",
		 {{SH, 0, P},
		  {SH, 0x06, P - R},
		  {0, 0, R},
		  {0, 0x04, P - R},
		  {0, 0, R}},
		 5},
		{"us",
		 "AAa",
		 "a shifted key again: released, Shift kept",
		 {{SH, 0, P},
		  {SH, 0x04, P - R},
		  {SH, 0, R},
		  {SH, 0x04, P - R},
		  {0, 0, R},
		  {0, 0x04, P - R},
		  {0, 0, R}},
		 7},
		{"us",
		 "1!",
		 "the same key with other modifiers",
		 {{0, 0x1e, P}, {SH, 0, P}, {SH, 0x1e, P - R}, {0, 0, R}},
		 4},
		{"de",
		 "a@a",
		 "AltGr as Shift",
		 {{0, 0x04, P},
		  {AG, 0, P},
		  {AG, 0x14, P - R},
		  {0, 0, R},
		  {0, 0x04, P - R},
		  {0, 0, R}},
		 6},
		{"de",
		 "\xc3\xa9",
		 "the dead acute rolls over to e",
		 {{0, 0x2e, P}, {0, 0x08, P - R}, {0, 0, R}},
		 3},
	};
	struct typing_plan p;
	size_t c, i;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		p = plan_text(cases[c].layout, cases[c].text, TYPING_BIOS);
		if (p.n != cases[c].n)
			fail_msg("%s (%s): %zu reports, want %zu",
				 cases[c].text, cases[c].what, p.n, cases[c].n);
		for (i = 0; i < p.n; i++) {
			step_is(&p, i, cases[c].want[i].mods,
				cases[c].want[i].key);
			if (p.steps[i].gap_us != cases[c].want[i].gap_us)
				fail_msg("%s (%s), step %zu: gap %u us, want "
					 "%u",
					 cases[c].text, cases[c].what, i,
					 (unsigned)p.steps[i].gap_us,
					 (unsigned)cases[c].want[i].gap_us);
		}
		check_rollover(&p);
		typing_plan_free(&p);
	}
}

static void test_edk2_packing(void **state)
{
	static const uint8_t abc[] = {0x04, 0x05, 0x06, 0},
			     cba[] = {0x06, 0x05, 0x04, 0},
			     bcd[] = {0x05, 0x06, 0x07, 0}, e[] = {0x08, 0},
			     a[] = {0x04, 0}, ab[] = {0x04, 0x05, 0},
			     bc[] = {0x05, 0x06, 0}, d[] = {0x07, 0},
			     g[] = {0x0a, 0}, def[] = {0x07, 0x08, 0x09, 0},
			     none[] = {0}, at[] = {0x14, 0};
	struct typing_plan p;

	(void)state;
	/* Three keys in one report, in typing order; then all released. */
	p = plan_text("us", "abc", TYPING_EDK2);
	assert_int_equal(p.n, 2);
	packed_is(&p, 0, 0, abc, 3 * P - R);
	packed_is(&p, 1, 0, none, R);
	typing_plan_free(&p);

	p = plan_text("us", "cba", TYPING_EDK2);
	packed_is(&p, 0, 0, cba, 3 * P - R);
	typing_plan_free(&p);

	/* At most three a report; the next report replaces the keys. */
	p = plan_text("us", "abcdefg", TYPING_EDK2);
	assert_int_equal(p.n, 4);
	packed_is(&p, 0, 0, abc, 3 * P);
	packed_is(&p, 1, 0, def, 3 * P);
	packed_is(&p, 2, 0, g, P - R);
	packed_is(&p, 3, 0, none, R);
	typing_plan_free(&p);

	/* A repeated key ends its group and is released before it comes
	 * back; so is a key the report before still holds. */
	p = plan_text("us", "aab", TYPING_EDK2);
	assert_int_equal(p.n, 4);
	packed_is(&p, 0, 0, a, P - R);
	packed_is(&p, 1, 0, none, R);
	packed_is(&p, 2, 0, ab, 2 * P - R);
	packed_is(&p, 3, 0, none, R);
	typing_plan_free(&p);

	p = plan_text("us", "abcbcde", TYPING_EDK2);
	assert_int_equal(p.n, 5);
	packed_is(&p, 0, 0, abc, 3 * P - R);
	packed_is(&p, 1, 0, none, R);
	packed_is(&p, 2, 0, bcd, 3 * P);
	packed_is(&p, 3, 0, e, P - R);
	packed_is(&p, 4, 0, none, R);
	typing_plan_free(&p);

	/* Shift changes go with the keys: a group per modifier state, the
	 * Shift press counted as a press. */
	p = plan_text("us", "aBCd", TYPING_EDK2);
	assert_int_equal(p.n, 4);
	packed_is(&p, 0, 0, a, P);
	packed_is(&p, 1, SH, bc, 3 * P);
	packed_is(&p, 2, 0, d, P - R);
	packed_is(&p, 3, 0, none, R);
	check_packed(&p, 3);
	typing_plan_free(&p);

	p = plan_text("us", "ABab", TYPING_EDK2);
	assert_int_equal(p.n, 4);
	packed_is(&p, 0, SH, ab, 3 * P - R);
	packed_is(&p, 1, SH, none, R); /* the keys go, Shift with a, b */
	packed_is(&p, 2, 0, ab, 2 * P - R);
	typing_plan_free(&p);

	/* AltGr on de, and text after it. */
	p = plan_text("de", "@a", TYPING_EDK2);
	assert_int_equal(p.n, 3);
	packed_is(&p, 0, AG, at, 2 * P);
	packed_is(&p, 1, 0, a, P - R);
	typing_plan_free(&p);

	/* Keys and chords (cmd/key) stay one chord at a time. */
	p = plan_text("us", "", TYPING_EDK2);
	assert_int_equal(p.n, 0);
	typing_plan_free(&p);
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
	assert_int_equal(p.steps[0].gap_us, 40500);
	step_is(&p, 1, HID_MOD_LCTRL | HID_MOD_LALT, 0x4c);
	assert_int_equal(p.steps[1].gap_us, 17250);
	step_is(&p, 2, 0, 0);
	assert_int_equal(p.steps[2].gap_us, 3000);
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
		assert_int_equal(typing_plan_report(&p, &r, (uint32_t)i), 0);
	}
	assert_int_equal(p.n, 1000);
	assert_true(p.cap >= 1000);
	assert_int_equal(p.steps[999].gap_us, 999);
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

/*
 * The agent's timeline (keyboard.c) and the host's polls, in µs: report i
 * goes out when it is due and the host has taken the one before (the HID
 * function holds one report); the host takes it at its next poll; the
 * next report is due gap after this one's due time, unless this one went
 * out more than 20 ms late, which moves the timeline to 20 ms behind it.
 * at[i]: when the host took report i.
 */
static uint64_t stall_from_us, stall_us; /* a host that stops polling */

static void host_takes(const struct typing_plan *p, uint64_t poll_us,
		       uint64_t *at)
{
	uint64_t due = 0, taken = 0, out;
	size_t i;

	for (i = 0; i < p->n; i++) {
		out = due > taken ? due : taken;
		taken = (out / poll_us + 1) * poll_us;
		if (stall_us && taken >= stall_from_us &&
		    taken < stall_from_us + stall_us)
			taken = ((stall_from_us + stall_us) / poll_us + 1) *
				poll_us;
		at[i] = taken;
		if (out > due + 20000)
			due = out - 20000;
		due += p->steps[i].gap_us;
	}
}

/*
 * miss_every: the firmware misses every n-th tick (0: none), as one busy
 * redrawing would.
 */
static size_t uefi_run(const struct typing_plan *p, unsigned int poll_ms,
		       unsigned int phase_ms, unsigned int miss_every,
		       double *seconds)
{
	struct uefi u = {.head = 0};
	struct hid_report last;
	uint64_t *at = calloc(p->n + 1, sizeof(*at));
	uint64_t tick = (uint64_t)phase_ms * 1000, nticks = 0;
	size_t i, k, nwant = 0, bad = 0;
	/* Up to six keys a report. */
	struct typed *want = calloc(6 * p->n + 1, sizeof(*want));

	u.got = calloc(6 * p->n + 1, sizeof(*u.got));
	assert_non_null(at);
	assert_non_null(want);
	assert_non_null(u.got);
	host_takes(p, (uint64_t)poll_ms * 1000, at);
	hid_report_clear(&last);
	for (i = 0; i < p->n; i++) {
		while (tick < at[i]) {
			if (!miss_every || ++nticks % miss_every)
				uefi_tick(&u);
			tick += 20000;
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
	*seconds = p->n ? (double)at[p->n - 1] / 1e6 : 0;
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
		check_rollover(&p);
		for (pi = 0; pi < sizeof(polls) / sizeof(polls[0]); pi++) {
			for (phase = 0; phase < 20; phase += 7) {
				size_t bad = uefi_run(&p, polls[pi], phase, 0,
						      &secs);

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
	/* Lowercase text goes at 20.25 ms a character: 49 per second. */
	p = plan_text("us", "the quick brown fox jumps over the lazy dog",
		      TYPING_BIOS);
	assert_int_equal(uefi_run(&p, 1, 3, 0, &secs), 0);
	assert_true(43 / secs >= 48.0);
	typing_plan_free(&p);
	free(text);
}

/*
 * The bench's text (tests/bench/bench_typing.py): every printable US
 * character alike, so about half of them shifted, runs of a repeated one,
 * newlines. 1.22 presses a character: EDK2's ceiling is 40.9 per second.
 */
static char *bench_text(size_t n)
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~ ";
	char *s = malloc(n + 1);
	uint32_t x = 1;
	size_t i = 0, r;

	assert_non_null(s);
	while (i < n) {
		char c;

		x = x * 1103515245u + 12345u;
		c = alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
		if ((x >> 24) % 20 == 0) {
			s[i++] = '\n';
			continue;
		}
		r = (x >> 24) % 20 == 1 ? 2 + (x >> 4) % 3 : 1;
		while (r-- && i < n)
			s[i++] = c;
	}
	s[n] = '\0';
	return s;
}

/* 40 characters a second on the bench's text, nothing lost. */
static void test_bios_forty_per_second(void **state)
{
	char *text = bench_text(10000);
	struct typing_plan p = plan_text("us", text, TYPING_BIOS);
	double secs;
	unsigned int phase;

	(void)state;
	for (phase = 0; phase < 20; phase += 3)
		assert_int_equal(uefi_run(&p, 1, phase, 0, &secs), 0);
	print_message("bios, bench text, 1 ms polls: %.1f chars/s\n",
		      10000 / secs);
	assert_true(10000 / secs >= 40.0);
	typing_plan_free(&p);
	free(text);
}

/*
 * The 1.25% spare: firmware that misses one tick in a hundred still loses
 * nothing over 10,000 characters; one that misses one in twenty (5%
 * slower than the pace) does, which is where the margin ends.
 */
static void test_bios_missed_ticks(void **state)
{
	char *text = bench_text(10000);
	struct typing_plan p = plan_text("us", text, TYPING_BIOS);
	double secs;

	(void)state;
	assert_int_equal(uefi_run(&p, 1, 5, 100, &secs), 0);
	assert_true(uefi_run(&p, 1, 5, 20, &secs) > 0);
	typing_plan_free(&p);
	free(text);
}

/*
 * A host that takes no report for half a second in the middle of a text
 * (the job waits for it) gets at most one tick of the missed time back
 * as a burst afterwards: nothing lost.
 */
static void test_host_stall(void **state)
{
	char *text = bench_text(2000);
	struct typing_plan p;
	double secs;
	size_t bad;

	(void)state;
	stall_from_us = 20000000;
	stall_us = 500000;
	p = plan_text("us", text, TYPING_BIOS);
	bad = uefi_run(&p, 1, 5, 0, &secs);
	typing_plan_free(&p);
	assert_int_equal(bad, 0);
	p = plan_text("us", text, TYPING_EDK2);
	bad = uefi_run(&p, 1, 5, 0, &secs);
	typing_plan_free(&p);
	stall_us = 0;
	assert_int_equal(bad, 0);
	free(text);
}

/*
 * edk2 through the model: nothing lost or out of order in any layout, at
 * any poll interval; with a host that takes a report every 20 ms (OVMF in
 * the lab) it keeps EDK2's pace.
 */
static void test_edk2_in_uefi(void **state)
{
	static const char *const layouts[] = {"us", "de", "fr"};
	static const unsigned int polls[] = {1, 8, 10, 20};
	char *text = mixed_text(5000), *bench = bench_text(10000);
	struct typing_plan p;
	size_t li, pi;
	unsigned int phase;
	double edk2 = 0, edk2_slow = 0, secs = 0;

	(void)state;
	for (li = 0; li < sizeof(layouts) / sizeof(layouts[0]); li++) {
		p = plan_text(layouts[li], text, TYPING_EDK2);
		check_packed(&p, 3);
		for (pi = 0; pi < sizeof(polls) / sizeof(polls[0]); pi++) {
			for (phase = 0; phase < 20; phase += 7) {
				size_t bad = uefi_run(&p, polls[pi], phase, 0,
						      &edk2);

				if (bad)
					fail_msg("%s, poll %u ms: %zu wrong",
						 layouts[li], polls[pi], bad);
			}
		}
		typing_plan_free(&p);
	}
	p = plan_text("us", bench, TYPING_EDK2);
	for (pi = 0; pi < sizeof(polls) / sizeof(polls[0]); pi++) {
		assert_int_equal(uefi_run(&p, polls[pi], 5, 0, &secs), 0);
		print_message("edk2, bench text, %u ms polls: %.1f chars/s\n",
			      polls[pi], 10000 / secs);
		if (polls[pi] == 1)
			edk2 = secs;
		if (polls[pi] == 20)
			edk2_slow = secs;
	}
	assert_int_equal(uefi_run(&p, 1, 5, 100, &secs), 0);
	typing_plan_free(&p);
	assert_true(10000 / edk2 >= 40.0);
	assert_true(10000 / edk2_slow >= 39.0);
	free(text);
	free(bench);
}

/*
 * The lab's text (tests/lab/test_type.py): letters, digits and a few
 * punctuation marks the UEFI shell echoes, 41% of them shifted.
 */
static char *lab_text(size_t n)
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789-_.,:+=/";
	char *s = malloc(n + 1);
	uint32_t x = 7;
	size_t i;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		s[i] = alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
	}
	s[n] = '\0';
	return s;
}

/*
 * bios with a host that takes one report every 20 ms (OVMF in the lab):
 * at one report a character where the modifiers stay (rollover), it
 * keeps most of EDK2's pace, and loses nothing at any tick phase.
 */
static void test_bios_slow_host(void **state)
{
	char *bench = bench_text(10000), *lab = lab_text(10000);
	struct typing_plan p;
	unsigned int phase;
	double secs = 0;

	(void)state;
	p = plan_text("us", bench, TYPING_BIOS);
	for (phase = 0; phase < 20; phase += 5)
		assert_int_equal(uefi_run(&p, 20, phase, 0, &secs), 0);
	print_message("bios, bench text, 20 ms polls: %.1f chars/s, %.2f "
		      "reports a character\n",
		      10000 / secs, p.n / 10000.0);
	assert_true(10000 / secs >= 30.0);
	typing_plan_free(&p);
	p = plan_text("us", lab, TYPING_BIOS);
	for (phase = 0; phase < 20; phase += 5)
		assert_int_equal(uefi_run(&p, 20, phase, 0, &secs), 0);
	print_message("bios, lab text, 20 ms polls: %.1f chars/s, %.2f "
		      "reports a character\n",
		      10000 / secs, p.n / 10000.0);
	assert_true(10000 / secs >= 30.0);
	typing_plan_free(&p);
	free(bench);
	free(lab);
}

/* The model is strict enough to catch what bios pacing prevents. */
static void test_fast_pacing_loses_keys_in_uefi(void **state)
{
	char *text = mixed_text(2000);
	struct typing_plan p = plan_text("us", text, TYPING_FAST);
	double secs;

	(void)state;
	assert_true(uefi_run(&p, 1, 0, 0, &secs) > 100);
	typing_plan_free(&p);
	free(text);
}

/* Every layout types a mixed text with plans of the right shape, and
 * bios's through the EDK2 model without a loss. */
static void test_every_layout_shape(void **state)
{
	const struct layout *const *all = layout_all();
	char *text = mixed_text(3000);
	struct typing_plan p;
	double secs;
	size_t i;

	(void)state;
	for (i = 0; all[i]; i++) {
		p = plan_text(all[i]->name, text, TYPING_FAST);
		check_shape(&p);
		typing_plan_free(&p);
		p = plan_text(all[i]->name, text, TYPING_BIOS);
		check_rollover(&p);
		if (uefi_run(&p, 1, 5, 0, &secs))
			fail_msg("%s: bios loses keys", all[i]->name);
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
		cmocka_unit_test(test_bios_rollover),
		cmocka_unit_test(test_typing_gap),
		cmocka_unit_test(test_edk2_packing),
		cmocka_unit_test(test_chords),
		cmocka_unit_test(test_plan_report),
		cmocka_unit_test(test_bios_pacing_in_uefi),
		cmocka_unit_test(test_bios_forty_per_second),
		cmocka_unit_test(test_bios_missed_ticks),
		cmocka_unit_test(test_edk2_in_uefi),
		cmocka_unit_test(test_bios_slow_host),
		cmocka_unit_test(test_host_stall),
		cmocka_unit_test(test_fast_pacing_loses_keys_in_uefi),
		cmocka_unit_test(test_every_layout_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
