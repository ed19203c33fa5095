#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/console/console_last.h"
#include "firmware/console/console_lines.h"

#define LINES_MAX 64

struct got {
	char *line[LINES_MAX];
	size_t len[LINES_MAX];
	int n;
};

static void on_line(void *data, const char *line, size_t len)
{
	struct got *g = data;

	assert_true(g->n < LINES_MAX);
	g->line[g->n] = malloc(len + 1);
	memcpy(g->line[g->n], line, len);
	g->line[g->n][len] = '\0';
	g->len[g->n] = len;
	g->n++;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->line[i]);
	memset(g, 0, sizeof(*g));
}

static struct console_lines *lines_new(struct got *g)
{
	struct console_lines *s = malloc(sizeof(*s));

	memset(g, 0, sizeof(*g));
	console_lines_init(s, on_line, g);
	return s;
}

#define FEED(s, str) console_lines_feed(s, str, sizeof(str) - 1)

static void test_endings(void **state)
{
	struct got g;
	struct console_lines *s = lines_new(&g);

	FEED(s, "a\nb\rc\r\nd\n\ne");
	assert_int_equal(g.n, 5);
	assert_string_equal(g.line[0], "a");
	assert_string_equal(g.line[1], "b");
	assert_string_equal(g.line[2], "c");
	assert_string_equal(g.line[3], "d");
	assert_string_equal(g.line[4], "");
	assert_int_equal(console_lines_pending(s), 1);
	console_lines_flush(s);
	assert_int_equal(g.n, 6);
	assert_string_equal(g.line[5], "e");
	console_lines_flush(s);
	assert_int_equal(g.n, 6);
	got_free(&g);
	free(s);
}

static void test_crlf_across_reads(void **state)
{
	struct got g;
	struct console_lines *s = lines_new(&g);

	FEED(s, "one\r");
	FEED(s, "\ntwo\r");
	FEED(s, "\r\n");
	assert_int_equal(g.n, 3);
	assert_string_equal(g.line[0], "one");
	assert_string_equal(g.line[1], "two");
	/* CR CR LF: an empty line between. */
	assert_string_equal(g.line[2], "");
	got_free(&g);
	free(s);
}

static void test_prompt_flush(void **state)
{
	struct got g;
	struct console_lines *s = lines_new(&g);

	FEED(s, "login: ");
	assert_int_equal(g.n, 0);
	console_lines_flush(s);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "login: ");
	FEED(s, "root\r\n");
	assert_int_equal(g.n, 2);
	assert_string_equal(g.line[1], "root");
	got_free(&g);
	free(s);
}

static void test_long_split(void **state)
{
	struct got g;
	struct console_lines *s = lines_new(&g);
	char *big = malloc(CONSOLE_LINE_MAX * 2 + 10);

	memset(big, 'x', CONSOLE_LINE_MAX * 2 + 10);
	console_lines_feed(s, big, CONSOLE_LINE_MAX * 2 + 10);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], CONSOLE_LINE_MAX);
	assert_int_equal(g.len[1], CONSOLE_LINE_MAX);
	FEED(s, "\n");
	assert_int_equal(g.n, 3);
	assert_int_equal(g.len[2], 10);
	/* Exactly the maximum followed by its line end: one line. */
	console_lines_feed(s, big, CONSOLE_LINE_MAX);
	FEED(s, "\r\n");
	assert_int_equal(g.n, 4);
	assert_int_equal(g.len[3], CONSOLE_LINE_MAX);
	got_free(&g);
	free(big);
	free(s);
}

static void test_split_keeps_characters(void **state)
{
	struct got g;
	struct console_lines *s = lines_new(&g);
	char *big = malloc(CONSOLE_LINE_MAX + 4);

	/* A 3-byte character straddles the 4 KiB cut. */
	memset(big, 'y', CONSOLE_LINE_MAX - 1);
	memcpy(big + CONSOLE_LINE_MAX - 1, "\xe2\x82\xac", 3);
	big[CONSOLE_LINE_MAX + 2] = '\n';
	console_lines_feed(s, big, CONSOLE_LINE_MAX + 3);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], CONSOLE_LINE_MAX - 1);
	assert_string_equal(g.line[1], "\xe2\x82\xac");
	got_free(&g);
	free(big);
	free(s);
}

static void test_repair(void **state)
{
	char out[64];
	size_t n;

	/* Valid text passes unchanged. */
	n = console_utf8_repair("h\xc3\xa9llo \xf0\x9f\x98\x80", 11, out);
	assert_int_equal(n, 11);
	assert_memory_equal(out, "h\xc3\xa9llo \xf0\x9f\x98\x80", 11);
	/* A lone continuation byte, and a Latin-1 byte. */
	n = console_utf8_repair("a\x80z\xe9!", 5, out);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "a\xef\xbf\xbdz\xef\xbf\xbd!", 9);
	/* A truncated 3-byte sequence is one replacement. */
	n = console_utf8_repair("\xe2\x82z", 3, out);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "\xef\xbf\xbdz", 4);
	/* Overlong (C0 80), surrogate (ED A0 80), beyond U+10FFFF (F4 90):
	 * each byte that cannot continue is its own replacement. */
	n = console_utf8_repair("\xc0\x80", 2, out);
	assert_int_equal(n, 6);
	n = console_utf8_repair("\xed\xa0\x80", 3, out);
	assert_int_equal(n, 9);
	n = console_utf8_repair("\xf4\x90\x80\x80", 4, out);
	assert_int_equal(n, 12);
	n = console_utf8_repair("\xff", 1, out);
	assert_int_equal(n, 3);
}

static void test_tail(void **state)
{
	assert_int_equal(console_utf8_tail("abc", 3), 0);
	assert_int_equal(console_utf8_tail("a\xe2", 2), 1);
	assert_int_equal(console_utf8_tail("a\xe2\x82", 3), 2);
	assert_int_equal(console_utf8_tail("a\xe2\x82\xac", 4), 0);
	assert_int_equal(console_utf8_tail("\xf0\x9f\x98", 3), 3);
	/* Not a valid start: nothing worth holding back. */
	assert_int_equal(console_utf8_tail("a\xe0\x80", 3), 0);
	assert_int_equal(console_utf8_tail("\x80\x80", 2), 0);
}

static void test_lines_repaired(void **state)
{
	struct got g;
	struct console_lines *s = lines_new(&g);

	FEED(s, "caf\xe9\r\n");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "caf\xef\xbf\xbd");
	got_free(&g);
	free(s);
}

static void test_last_text(void **state)
{
	char out[CONSOLE_LAST_MAX];
	static const char S[] = "\x1b[1;32mok\x1b[0m done\x1b]0;title\x07!";
	char *big = malloc(1000);
	size_t n;

	n = console_last_text(S, strlen(S), true, out);
	assert_string_equal(out, "ok done!");
	assert_int_equal(n, 8);
	n = console_last_text("a\tb\x1b(Bc", 7, true, out);
	assert_string_equal(out, "a bc");
	n = console_last_text("\x1b[1mx", 5, false, out);
	assert_string_equal(out, "\x1b[1mx");
	/* 300 two-byte characters are cut to 255 characters. */
	for (int i = 0; i < 300; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	n = console_last_text(big, 600, true, out);
	assert_int_equal(n, 510);
	free(big);
}

/* Found by fuzz_console_last: a NUL in the line (serial noise) must not
 * cut the sensor text short, with or without stripping. */
static void test_last_text_nul(void **state)
{
	char out[CONSOLE_LAST_MAX];
	size_t n;

	for (int strip = 0; strip < 2; strip++) {
		n = console_last_text("\x02\x00"
				      "ab",
				      4, strip, out);
		assert_int_equal(strlen(out), n);
		assert_string_equal(out + n - 2, "ab");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endings),
		cmocka_unit_test(test_crlf_across_reads),
		cmocka_unit_test(test_prompt_flush),
		cmocka_unit_test(test_long_split),
		cmocka_unit_test(test_split_keeps_characters),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_lines_repaired),
		cmocka_unit_test(test_last_text),
		cmocka_unit_test(test_last_text_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
