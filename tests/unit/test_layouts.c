/*
 * Layout tables: every layout round-trips (each character's keystrokes
 * lead back to that character and to no other), covers ASCII, and puts
 * the characters people check first where the real layout has them.
 * With ZB_LAYOUT_DUMP set in the environment the program prints every
 * mapping instead ("name cp n mods usage mods usage"), which
 * gadget/layouts/check-xkb.py compares with the system's XKB data.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gadget/hid_report.h"
#include "gadget/layout.h"

/* Code points to try: Latin-1, Latin Extended, and the punctuation and
 * currency blocks (quotes, euro sign). */
#define CP_MAX 0x2200u
#define SH HID_MOD_LSHIFT
#define AG HID_MOD_RALT
#define SPACE 0x2c

struct mapping {
	uint32_t cp;
	size_t n;
	struct keystroke ks[2];
};

static size_t collect(const struct layout *l, struct mapping *m, size_t max)
{
	size_t count = 0, n;
	struct keystroke ks[2];
	uint32_t cp;

	for (cp = 1; cp < CP_MAX; cp++) {
		if (layout_map(l, cp, ks, &n))
			continue;
		assert_true(count < max);
		m[count].cp = cp;
		m[count].n = n;
		m[count].ks[0] = ks[0];
		m[count].ks[1] = n == 2 ? ks[1] : (struct keystroke){0, 0};
		count++;
	}
	return count;
}

static int same_strokes(const struct mapping *a, const struct mapping *b)
{
	return a->n == b->n && a->ks[0].mods == b->ks[0].mods &&
	       a->ks[0].usage == b->ks[0].usage &&
	       a->ks[1].mods == b->ks[1].mods &&
	       a->ks[1].usage == b->ks[1].usage;
}

static int is_dead_stroke(const struct layout *l, struct keystroke k)
{
	size_t i;

	for (i = 0; i < l->n_entries; i++) {
		const struct layout_entry *e = &l->entries[i];

		if (e->cp >= LAYOUT_DEAD && e->ks[0].mods == k.mods &&
		    e->ks[0].usage == k.usage)
			return 1;
	}
	return 0;
}

/* The character one keystroke types by itself in m, or 0. */
static uint32_t single_char(const struct mapping *m, size_t count,
			    struct keystroke k)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (m[i].n == 1 && m[i].ks[0].mods == k.mods &&
		    m[i].ks[0].usage == k.usage)
			return m[i].cp;
	}
	return 0;
}

static void check_layout(const struct layout *l)
{
	static struct mapping m[CP_MAX];
	size_t count, i, j, n;
	struct keystroke ks[2];
	uint8_t allowed = SH | AG;

	if (!strcmp(l->name, "us"))
		allowed = SH; /* right Alt is plain Alt there */
	count = collect(l, m, CP_MAX);
	assert_true(count >= 97);

	for (i = 0; i < count; i++) {
		for (j = 0; j < m[i].n; j++) {
			assert_int_not_equal(m[i].ks[j].usage, 0);
			assert_int_equal(m[i].ks[j].mods & ~allowed, 0);
		}
		/* Reverse map: no other character on the same keystrokes. */
		for (j = i + 1; j < count; j++) {
			if (same_strokes(&m[i], &m[j]))
				fail_msg("%s: U+%04X and U+%04X share "
					 "keystrokes",
					 l->name, (unsigned)m[i].cp,
					 (unsigned)m[j].cp);
		}
		if (m[i].n == 1) {
			/* A dead key types nothing by itself. */
			if (is_dead_stroke(l, m[i].ks[0]))
				fail_msg("%s: U+%04X is on a dead key", l->name,
					 (unsigned)m[i].cp);
		} else {
			/* Dead key first, then a key that types a character. */
			if (!is_dead_stroke(l, m[i].ks[0]))
				fail_msg("%s: U+%04X does not start with a "
					 "dead key",
					 l->name, (unsigned)m[i].cp);
			if (!single_char(m, count, m[i].ks[1]))
				fail_msg("%s: U+%04X: second key types nothing",
					 l->name, (unsigned)m[i].cp);
		}
	}

	/* Each table entry maps back to exactly its own keystrokes. */
	for (i = 0; i < l->n_entries; i++) {
		const struct layout_entry *e = &l->entries[i];

		if (!e->cp || e->cp >= LAYOUT_DEAD)
			continue;
		for (j = i + 1; j < l->n_entries; j++) {
			if (l->entries[j].cp == e->cp)
				fail_msg("%s: U+%04X twice in the table",
					 l->name, (unsigned)e->cp);
		}
		assert_int_equal(layout_map(l, e->cp, ks, &n), 0);
		assert_int_equal(n, e->ks[1].usage ? 2 : 1);
		assert_int_equal(ks[0].mods, e->ks[0].mods);
		assert_int_equal(ks[0].usage, e->ks[0].usage);
		if (n == 2) {
			assert_int_equal(ks[1].mods, e->ks[1].mods);
			assert_int_equal(ks[1].usage, e->ks[1].usage);
		}
	}
	/* Each dead key is listed once. */
	for (i = 0; i < l->n_entries; i++) {
		if (l->entries[i].cp < LAYOUT_DEAD)
			continue;
		assert_true(l->entries[i].cp < LAYOUT_DEAD + LAYOUT_N_ACCENTS);
		for (j = i + 1; j < l->n_entries; j++)
			assert_int_not_equal(l->entries[j].cp,
					     l->entries[i].cp);
	}

	/* All of printable ASCII, newline and tab. */
	for (i = 0x20; i < 0x7f; i++) {
		if (layout_map(l, (uint32_t)i, ks, &n))
			fail_msg("%s: cannot type '%c'", l->name, (int)i);
	}
	assert_int_equal(layout_map(l, '\n', ks, &n), 0);
	assert_int_equal(ks[0].usage, 0x28);
	assert_int_equal(layout_map(l, '\t', ks, &n), 0);
	assert_int_equal(ks[0].usage, 0x2b);
	assert_int_equal(layout_map(l, ' ', ks, &n), 0);
	assert_int_equal(ks[0].usage, SPACE);
	assert_int_equal(n, 1);
}

static void test_round_trip_every_layout(void **state)
{
	const struct layout *const *all = layout_all();
	size_t i;

	(void)state;
	for (i = 0; all[i]; i++)
		check_layout(all[i]);
}

static void test_registry(void **state)
{
	const struct layout *const *all = layout_all();
	static const char *const needed[] = {"us", "gb", "de", "fr",
					     "es", "it", "nl"};
	size_t i, j, n = 0;

	(void)state;
	for (i = 0; all[i]; i++) {
		n++;
		assert_non_null(all[i]->description);
		assert_true(all[i]->n_entries > 0);
		assert_ptr_equal(layout_find(all[i]->name), all[i]);
		for (j = i + 1; all[j]; j++)
			assert_string_not_equal(all[i]->name, all[j]->name);
	}
	assert_true(n >= 15);
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		assert_non_null(layout_find(needed[i]));
	assert_ptr_equal(layout_find("DE"), layout_find("de"));
	assert_ptr_equal(layout_find("uk"), layout_find("gb"));
	assert_ptr_equal(layout_find("ch"), layout_find("ch-de"));
	assert_null(layout_find("xx"));
	assert_null(layout_find(""));
	assert_null(layout_find(NULL));
}

static void test_bad_arguments(void **state)
{
	const struct layout *us = layout_find("us");
	struct keystroke ks[2];
	size_t n;

	(void)state;
	assert_int_equal(layout_map(NULL, 'a', ks, &n), -ENOENT);
	assert_int_equal(layout_map(us, 0, ks, &n), -ENOENT);
	assert_int_equal(layout_map(us, LAYOUT_DEAD, ks, &n), -ENOENT);
	assert_int_equal(layout_map(us, 0x20ac, ks, &n), -ENOENT);
	assert_int_equal(layout_map(us, 0xe9, ks, &n), -ENOENT);
	assert_int_equal(layout_map(us, 0x1f600, ks, &n), -ENOENT);
}

/* One expected position: n strokes, dead key (m0,u0) first when n is 2. */
struct spot {
	const char *layout;
	uint32_t cp;
	size_t n;
	uint8_t m0, u0, m1, u1;
};

#define ONE(lay, cp, m, u)                                                     \
	{                                                                      \
		lay, cp, 1, m, u, 0, 0                                         \
	}
#define TWO(lay, cp, m0, u0, m1, u1)                                           \
	{                                                                      \
		lay, cp, 2, m0, u0, m1, u1                                     \
	}

static const struct spot spots[] = {
	ONE("us", 'a', 0, 0x04),
	ONE("us", '@', SH, 0x1f),
	ONE("us", '"', SH, 0x34),
	ONE("us", '\\', 0, 0x31),
	ONE("us", '~', SH, 0x35),
	ONE("us", '?', SH, 0x38),
	ONE("us", '0', 0, 0x27),
	ONE("gb", '@', SH, 0x34),
	ONE("gb", '"', SH, 0x1f),
	ONE("gb", '#', 0, 0x32),
	ONE("gb", '~', SH, 0x32),
	ONE("gb", 0xa3, SH, 0x20), /* £ */
	ONE("gb", '\\', 0, 0x64),
	ONE("gb", '|', SH, 0x64),
	ONE("gb", 0x20ac, AG, 0x21), /* € */
	ONE("de", 'z', 0, 0x1c),
	ONE("de", 'y', 0, 0x1d),
	ONE("de", 'Z', SH, 0x1c),
	ONE("de", '@', AG, 0x14),
	ONE("de", 0xe4, 0, 0x34), /* ä */
	ONE("de", 0xdf, 0, 0x2d), /* ß */
	ONE("de", 0x20ac, AG, 0x08),
	ONE("de", '{', AG, 0x24),
	ONE("de", '\\', AG, 0x2d),
	ONE("de", '|', AG, 0x64),
	ONE("de", '#', 0, 0x32),
	ONE("de", '&', SH, 0x23),
	TWO("de", 0xe9, 0, 0x2e, 0, 0x08),  /* é: dead ´, e */
	TWO("de", 0xe8, SH, 0x2e, 0, 0x08), /* è: dead `, e */
	TWO("de", 0xe2, 0, 0x35, 0, 0x04),  /* â: dead ^, a */
	TWO("de", 0xca, 0, 0x35, SH, 0x08), /* Ê */
	TWO("de", '^', 0, 0x35, 0, SPACE),  /* dead ^, space */
	TWO("de", '`', SH, 0x2e, 0, SPACE), /* dead `, space */
	ONE("fr", 'a', 0, 0x14),
	ONE("fr", 'q', 0, 0x04),
	ONE("fr", 'z', 0, 0x1a),
	ONE("fr", 'w', 0, 0x1d),
	ONE("fr", 'm', 0, 0x33),
	ONE("fr", ',', 0, 0x10),
	ONE("fr", '1', SH, 0x1e),
	ONE("fr", 0xe9, 0, 0x1f),
	ONE("fr", '@', AG, 0x27),
	TWO("fr", 0xea, 0, 0x2f, 0, 0x08),  /* ê */
	TWO("fr", 0xeb, SH, 0x2f, 0, 0x08), /* ë */
	ONE("es", 0xf1, 0, 0x33),	    /* ñ */
	ONE("es", '@', AG, 0x1f),
	TWO("es", 0xe1, 0, 0x34, 0, 0x04),  /* á */
	TWO("es", 0xfc, SH, 0x34, 0, 0x18), /* ü */
	TWO("es", '^', SH, 0x2f, 0, SPACE),
	ONE("it", '@', AG, 0x33),
	ONE("it", 0xe8, 0, 0x2f),
	ONE("it", 0xe9, SH, 0x2f),
	ONE("it", '{', SH | AG, 0x2f),
	ONE("nl", '@', 0, 0x35),
	ONE("nl", '[', SH, 0x64),
	ONE("nl", '<', 0, 0x32),
	TWO("nl", '~', SH, 0x2e, 0, SPACE),
	TWO("nl", 0xeb, 0, 0x2f, 0, 0x08), /* ë */
	ONE("ch-de", 'z', 0, 0x1c),
	ONE("ch-de", 0xe9, SH, 0x33),	       /* é */
	TWO("ch-de", 0xdc, 0, 0x30, SH, 0x18), /* Ü */
	ONE("be", 'a', 0, 0x14),
	ONE("be", '@', AG, 0x1f),
	TWO("pt", 0xe3, 0, 0x32, 0, 0x04), /* ã */
	ONE("dk", 0xe6, 0, 0x33),	   /* æ */
	ONE("no", 0xf8, 0, 0x33),	   /* ø */
	ONE("se", 0xf6, 0, 0x33),	   /* ö */
	ONE("fi", 0xe4, 0, 0x34),	   /* ä */
	TWO("us-intl", '\'', 0, 0x34, 0, SPACE),
	TWO("us-intl", '"', SH, 0x34, 0, SPACE),
	ONE("us-intl", 0xe9, AG, 0x08),
	ONE("us-intl", 0xe7, AG, 0x36),
	TWO("us-intl", 0xea, SH, 0x23, 0, 0x08), /* ê */
};

static void test_known_positions(void **state)
{
	struct keystroke ks[2];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		const struct spot *s = &spots[i];
		const struct layout *l = layout_find(s->layout);

		assert_non_null(l);
		if (layout_map(l, s->cp, ks, &n))
			fail_msg("%s: U+%04X missing", s->layout,
				 (unsigned)s->cp);
		if (n != s->n || ks[0].mods != s->m0 || ks[0].usage != s->u0 ||
		    (n == 2 && (ks[1].mods != s->m1 || ks[1].usage != s->u1)))
			fail_msg("%s: U+%04X at %zu:%02x/%02x %02x/%02x",
				 s->layout, (unsigned)s->cp, n, ks[0].mods,
				 ks[0].usage, ks[1].mods, ks[1].usage);
	}
}

/* Characters a layout must not offer (the systems disagree on them). */
static void test_left_out(void **state)
{
	struct keystroke ks[2];
	size_t n;

	(void)state;
	assert_int_equal(layout_map(layout_find("de"), 0xb4, ks, &n), -ENOENT);
	assert_int_equal(layout_map(layout_find("fr"), 0xa8, ks, &n), -ENOENT);
	assert_int_equal(layout_map(layout_find("it"), 0xe2, ks, &n), -ENOENT);
}

static int dump(void)
{
	const struct layout *const *all = layout_all();
	struct keystroke ks[2];
	size_t i, n;
	uint32_t cp;

	for (i = 0; all[i]; i++) {
		for (cp = 1; cp < CP_MAX; cp++) {
			if (layout_map(all[i], cp, ks, &n))
				continue;
			printf("%s %u %zu %u %u %u %u\n", all[i]->name,
			       (unsigned)cp, n, (unsigned)ks[0].mods,
			       (unsigned)ks[0].usage,
			       n == 2 ? (unsigned)ks[1].mods : 0u,
			       n == 2 ? (unsigned)ks[1].usage : 0u);
		}
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_round_trip_every_layout),
		cmocka_unit_test(test_known_positions),
		cmocka_unit_test(test_left_out),
		cmocka_unit_test(test_bad_arguments),
	};

	if (getenv("ZB_LAYOUT_DUMP"))
		return dump();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
