/*
 * The macro parser: a corpus of DuckyScript files written for the tests
 * (the .txt files in tests/unit/macros, each saying on its first line what it
 * expects: "REM expect: ok OPS" or "REM expect: error LINE text"), and
 * inline scripts for the details: every command, comments, blank lines,
 * CRLF, a BOM, durations, REPEAT, limits, and errors with line numbers.
 */
#include <dirent.h>
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

#include "firmware/macro/macro_parse.h"
#include "firmware/macro/macro_store.h"

static char corpus_dir[4096];

static void corpus_find(void)
{
	const char *slash;

	snprintf(corpus_dir, sizeof(corpus_dir), "%s", __FILE__);
	slash = strrchr(corpus_dir, '/');
	if (slash)
		snprintf(corpus_dir + (slash - corpus_dir), 16, "/macros");
	else
		snprintf(corpus_dir, sizeof(corpus_dir), "macros");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(MACRO_FILE_MAX + 2);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, MACRO_FILE_MAX + 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int parse(const char *s, struct macro_script *out,
		 struct macro_error *err)
{
	return macro_parse(s, strlen(s), layout_find("us"), out, err);
}

/* Parse s and expect success; the caller frees *out. */
static void parse_ok(const char *s, struct macro_script *out)
{
	struct macro_error err;

	if (parse(s, out, &err))
		fail_msg("\"%s\": line %u: %s", s, (unsigned)err.line, err.msg);
}

/* Parse s and expect an error at line with text in the message. */
static void parse_err(const char *s, uint32_t line, const char *text)
{
	struct macro_script out;
	struct macro_error err;

	if (!parse(s, &out, &err))
		fail_msg("\"%s\" parsed", s);
	if (err.line != line || !strstr(err.msg, text))
		fail_msg("\"%s\": line %u \"%s\", want line %u with \"%s\"", s,
			 (unsigned)err.line, err.msg, (unsigned)line, text);
	assert_null(out.ops);
	assert_int_equal(out.n, 0);
}

/* ---- the corpus ---- */

static void test_corpus(void **state)
{
	struct dirent *de;
	int files = 0, oks = 0, errors = 0;
	DIR *d;

	(void)state;
	d = opendir(corpus_dir);
	if (!d)
		fail_msg("corpus %s: %s", corpus_dir, strerror(errno));
	while ((de = readdir(d))) {
		char path[8192], want_text[200] = "";
		struct macro_script s;
		struct macro_error err;
		const char *head;
		size_t len, n = strlen(de->d_name);
		unsigned want_line = 0, want_ops = 0;
		char *text;
		int r;

		if (n < 5 || strcmp(de->d_name + n - 4, ".txt"))
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", corpus_dir, de->d_name);
		text = slurp(path, &len);
		head = text;
		if (!strncmp(head, "\xef\xbb\xbf", 3))
			head += 3;
		r = macro_parse(text, len, layout_find("us"), &s, &err);
		if (sscanf(head, "REM expect: ok %u", &want_ops) == 1) {
			if (r)
				fail_msg("%s: line %u: %s", de->d_name,
					 (unsigned)err.line, err.msg);
			if (s.n != want_ops)
				fail_msg("%s: %zu ops, want %u", de->d_name,
					 s.n, want_ops);
			macro_script_free(&s);
			oks++;
		} else if (sscanf(head, "REM expect: error %u %199[^\r\n]",
				  &want_line, want_text) == 2) {
			if (!r)
				fail_msg("%s parsed, want an error",
					 de->d_name);
			if (err.line != want_line ||
			    !strstr(err.msg, want_text))
				fail_msg("%s: line %u \"%s\", want line %u "
					 "with \"%s\"",
					 de->d_name, (unsigned)err.line,
					 err.msg, want_line, want_text);
			errors++;
		} else {
			fail_msg("%s: no \"REM expect:\" line", de->d_name);
		}
		free(text);
	}
	closedir(d);
	assert_true(files >= 20);
	assert_true(oks >= 5);
	assert_true(errors >= 15);
}

/* ---- DuckyScript 1.0 ---- */

static void test_ducky_basics(void **state)
{
	struct macro_script s;
	const struct macro_op *o;

	(void)state;
	parse_ok("REM comment\n"
		 "\n"
		 "DELAY 250\n"
		 "  GUI r\n"
		 "STRING  two spaces \n"
		 "STRINGLN line\n"
		 "ENTER\n"
		 "REPEAT 4\n"
		 "rem lower-case commands work too\n"
		 "string x\n",
		 &s);
	assert_int_equal(s.lines, 10);
	assert_int_equal(s.n, 6);
	o = s.ops;
	assert_int_equal(o[0].kind, MACRO_OP_DELAY);
	assert_int_equal(o[0].line, 3);
	assert_int_equal(o[0].u.ms, 250);
	assert_int_equal(o[1].kind, MACRO_OP_CHORD);
	assert_int_equal(o[1].line, 4);
	assert_int_equal(o[1].u.chord.mods, HID_MOD_LGUI);
	assert_int_equal(o[1].u.chord.nkeys, 1);
	assert_int_equal(o[1].u.chord.keys[0], 0x15);
	/* One blank separates; the rest, trailing blank included, is text. */
	assert_int_equal(o[2].kind, MACRO_OP_TYPE);
	assert_int_equal(o[2].u.text.len, strlen(" two spaces "));
	assert_memory_equal(o[2].u.text.s, " two spaces ", o[2].u.text.len);
	assert_false(o[2].u.text.enter);
	assert_true(o[3].u.text.enter);
	assert_int_equal(o[3].u.text.len, 4);
	assert_int_equal(o[4].kind, MACRO_OP_CHORD);
	assert_int_equal(o[4].u.chord.keys[0], 0x28);
	assert_int_equal(o[4].runs, 5);
	assert_int_equal(o[4].line, 7);
	assert_int_equal(o[5].line, 10);
	assert_int_equal(s.runs, 1 + 1 + 1 + 1 + 5 + 1);
	macro_script_free(&s);
}

static void test_chords(void **state)
{
	static const struct {
		const char *line;
		uint8_t mods;
		uint8_t key;
	} cases[] = {
		{"CTRL ALT DELETE", HID_MOD_LCTRL | HID_MOD_LALT, 0x4c},
		{"CTRL-ALT DELETE", HID_MOD_LCTRL | HID_MOD_LALT, 0x4c},
		{"ctrl+alt+del", HID_MOD_LCTRL | HID_MOD_LALT, 0x4c},
		{"ALT F4", HID_MOD_LALT, 0x3d},
		{"CTRL-SHIFT ESC", HID_MOD_LCTRL | HID_MOD_LSHIFT, 0x29},
		{"GUI", HID_MOD_LGUI, 0},
		{"ESCAPE", 0, 0x29},
		{"UPARROW", 0, 0x52},
		{"DOWNARROW", 0, 0x51},
		{"LEFTARROW", 0, 0x50},
		{"RIGHTARROW", 0, 0x4f},
		{"F12", 0, 0x45},
		{"PRINTSCREEN", 0, 0x46},
		{"BREAK", 0, 0x48},
		{"MENU", 0, 0x65},
		{"SPACE", 0, 0x2c},
		{"-", 0, 0x2d},
		{"CTRL -", HID_MOD_LCTRL, 0x2d},
		{"0x4c", 0, 0x4c},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct macro_script s;

		parse_ok(cases[i].line, &s);
		assert_int_equal(s.n, 1);
		if (s.ops[0].u.chord.mods != cases[i].mods ||
		    (cases[i].key ? s.ops[0].u.chord.keys[0] != cases[i].key
				  : s.ops[0].u.chord.nkeys != 0))
			fail_msg("\"%s\": mods %02x key %02x", cases[i].line,
				 s.ops[0].u.chord.mods,
				 s.ops[0].u.chord.keys[0]);
		macro_script_free(&s);
	}
	parse_err("CTRL ALT\nA B C D E F G", 2, "more than 6 keys");
	parse_err("CTRL-FOO DELETE", 1, "unknown command or key");
	parse_err("ENTER\nCTRL--", 2, "unknown command or key \"CTRL--\"");
}

static void test_crlf_bom(void **state)
{
	struct macro_script s;

	(void)state;
	parse_ok("\xef\xbb\xbfSTRING a\r\nSTRINGLN b\r\n\r\nENTER\r\n", &s);
	assert_int_equal(s.lines, 4);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ops[0].u.text.len, 1);
	assert_int_equal(s.ops[0].u.text.s[0], 'a');
	assert_int_equal(s.ops[1].u.text.len, 1);
	assert_int_equal(s.ops[2].line, 4);
	macro_script_free(&s);
	/* A BOM anywhere but the start is text, and a bad command. */
	parse_err("ENTER\n\xef\xbb\xbf"
		  "ENTER\n",
		  2, "unknown command");
	/* No newline at the end. */
	parse_ok("DELAY 1\r\nENTER", &s);
	assert_int_equal(s.lines, 2);
	assert_int_equal(s.n, 2);
	macro_script_free(&s);
	/* Empty scripts are fine: nothing to do. */
	parse_ok("", &s);
	assert_int_equal(s.n, 0);
	macro_script_free(&s);
	parse_ok("\xef\xbb\xbf", &s);
	assert_int_equal(s.n, 0);
	macro_script_free(&s);
}

static void test_default_delay(void **state)
{
	struct macro_script s;

	(void)state;
	parse_ok("ENTER\n"
		 "DEFAULT_DELAY 100\n"
		 "STRING a\n"
		 "DELAY 5\n"
		 "DEFAULTDELAY 2s\n"
		 "TAB\n"
		 "WAIT_USB configured\n",
		 &s);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.ops[0].after_ms, 0);
	assert_int_equal(s.ops[1].after_ms, 100);
	/* DELAY itself is never followed by the default delay. */
	assert_int_equal(s.ops[2].after_ms, 0);
	assert_int_equal(s.ops[3].after_ms, 2000);
	assert_int_equal(s.ops[4].after_ms, 0);
	macro_script_free(&s);
	parse_err("DEFAULT_DELAY\n", 1, "needs a time");
	parse_err("DEFAULT_DELAY 2m\n", 1, "longer than 60000 ms");
	/* REPEAT after DEFAULT_DELAY has nothing to repeat. */
	parse_err("ENTER\nDEFAULT_DELAY 5\nREPEAT 2\n", 3, "REPEAT repeats");
}

static void test_repeat(void **state)
{
	struct macro_script s;
	char big[64];

	(void)state;
	parse_ok("DELAY 10\nREPEAT 2\nREM between\n\nREPEAT 3\n", &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ops[0].runs, 6);
	assert_int_equal(s.runs, 6);
	macro_script_free(&s);
	parse_err("ENTER\nREPEAT 0\n", 2, "1 to 10000");
	parse_err("ENTER\nREPEAT -1\n", 2, "whole number");
	parse_err("ENTER\nREPEAT\n", 2, "needs a count");
	parse_err("ENTER\nREPEAT 99999999999999999999\n", 2, "1 to 10000");
	parse_err("LAYOUT de\nREPEAT 2\n", 2, "REPEAT repeats");
	parse_err("REBOOT soft\nREPEAT 2\n", 2, "REPEAT repeats");
	parse_err("SPAM F2 100 1000\nREPEAT 2\n", 2, "REPEAT repeats");
	/* The total over all lines is bounded too. */
	{
		char *script = malloc(64 * 1024);
		size_t off = 0;

		assert_non_null(script);
		for (int i = 0; i < 11; i++)
			off += (size_t)sprintf(script + off,
					       "ENTER\nREPEAT 9999\n");
		snprintf(big, sizeof(big), "more than %d steps",
			 MACRO_STEPS_MAX);
		parse_err(script, 22, big);
		free(script);
	}
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int r;
		uint32_t ms;
	} cases[] = {
		{"0", 0, 0},	      {"500", 0, 500},
		{"500ms", 0, 500},    {"500MS", 0, 500},
		{"30s", 0, 30000},    {"2m", 0, 120000},
		{"1h", 0, 3600000},   {"3600001", -ERANGE, 0},
		{"2h", -ERANGE, 0},   {"", -EINVAL, 0},
		{"s", -EINVAL, 0},    {"5x", -EINVAL, 0},
		{"1.5s", -EINVAL, 0}, {"-1", -EINVAL, 0},
		{"10 s", -EINVAL, 0}, {"99999999999999999999", -ERANGE, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t ms = 12345;
		int r = macro_duration(cases[i].s, strlen(cases[i].s),
				       MACRO_DELAY_MAX_MS, &ms);

		if (r != cases[i].r || (!r && ms != cases[i].ms))
			fail_msg("\"%s\": %d %u", cases[i].s, r, ms);
	}
}

/* ---- extensions ---- */

static void test_layout_profile(void **state)
{
	struct macro_script s;

	(void)state;
	parse_ok("STRING a\nLAYOUT de\nPROFILE bios\nSTRING ä\nPROFILE fast\n"
		 "ENTER\n",
		 &s);
	assert_int_equal(s.n, 3);
	assert_null(s.ops[0].layout);
	assert_int_equal(s.ops[0].profile, -1);
	assert_string_equal(s.ops[1].layout->name, "de");
	assert_int_equal(s.ops[1].profile, TYPING_BIOS);
	assert_int_equal(s.ops[2].profile, TYPING_FAST);
	macro_script_free(&s);
	/* The default layout decides before a LAYOUT line. */
	parse_err("STRING ä\n", 1, "layout us");
	{
		struct macro_error err;

		assert_int_equal(macro_parse("STRING ä\n", 10,
					     layout_find("de"), &s, &err),
				 0);
		macro_script_free(&s);
	}
	parse_err("LAYOUT\n", 1, "needs a layout");
	parse_err("PROFILE\n", 1, "unknown profile");
}

static void test_hold_release(void **state)
{
	struct macro_script s;

	(void)state;
	parse_ok("HOLD SHIFT\nHOLD a\nRELEASE a\nRELEASE\nRELEASE all\n", &s);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.ops[0].kind, MACRO_OP_HOLD);
	assert_int_equal(s.ops[0].u.chord.mods, HID_MOD_LSHIFT);
	assert_int_equal(s.ops[1].u.chord.keys[0], 0x04);
	assert_int_equal(s.ops[2].kind, MACRO_OP_RELEASE);
	assert_int_equal(s.ops[2].u.chord.keys[0], 0x04);
	assert_int_equal(s.ops[3].u.chord.nkeys, 0);
	assert_int_equal(s.ops[3].u.chord.mods, 0);
	assert_int_equal(s.ops[4].u.chord.nkeys, 0);
	macro_script_free(&s);
	parse_err("HOLD\n", 1, "needs a key");
	parse_err("HOLD NOPE\n", 1, "unknown key \"NOPE\"");
	parse_err("RELEASE NOPE\n", 1, "unknown key");
}

static void test_waits(void **state)
{
	struct macro_script s;
	const struct macro_op *o;

	(void)state;
	parse_ok("WAIT_USB configured\n"
		 "WAIT_USB Not_Attached 90s\n"
		 "WAIT_USB suspended 500\n"
		 "WAIT_LED num\n"
		 "WAIT_LED caps off 1m\n"
		 "WAIT_LED scrolllock change\n"
		 "WAIT_CONSOLE /^login: $/\n"
		 "WAIT_CONSOLE /a/b/   2m  \n",
		 &s);
	o = s.ops;
	assert_int_equal(s.n, 8);
	assert_int_equal(o[0].u.usb.want, UDC_STATE_CONFIGURED);
	assert_int_equal(o[0].u.usb.timeout_ms, MACRO_WAIT_DEFAULT_MS);
	assert_int_equal(o[1].u.usb.want, UDC_STATE_NOT_ATTACHED);
	assert_int_equal(o[1].u.usb.timeout_ms, 90000);
	assert_int_equal(o[2].u.usb.want, UDC_STATE_SUSPENDED);
	assert_int_equal(o[2].u.usb.timeout_ms, 500);
	assert_int_equal(o[3].u.led.bit, HID_LED_NUM);
	assert_int_equal(o[3].u.led.want, MACRO_LED_ON);
	assert_int_equal(o[4].u.led.bit, HID_LED_CAPS);
	assert_int_equal(o[4].u.led.want, MACRO_LED_OFF);
	assert_int_equal(o[4].u.led.timeout_ms, 60000);
	assert_int_equal(o[5].u.led.bit, HID_LED_SCROLL);
	assert_int_equal(o[5].u.led.want, MACRO_LED_CHANGE);
	assert_string_equal(o[6].u.console.pattern, "^login: $");
	assert_int_equal(regexec(o[6].u.console.re, "login: ", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(o[6].u.console.re, "xlogin: ", 0, NULL, 0),
			     0);
	/* Slashes inside the pattern need no escape: the last one ends. */
	assert_string_equal(o[7].u.console.pattern, "a/b");
	assert_int_equal(o[7].u.console.timeout_ms, 120000);
	macro_script_free(&s);
	parse_err("WAIT_USB\n", 1, "needs a state");
	parse_err("WAIT_USB configured 5 6\n", 1, "no more");
	parse_err("WAIT_USB configured forever\n", 1, "not a duration");
	parse_err("WAIT_USB unknown\n", 1, "needs a state");
	parse_err("WAIT_LED num on 5s extra\n", 1, "no more");
	parse_err("WAIT_CONSOLE //\n", 1, "empty");
	parse_err("WAIT_CONSOLE /x\n", 1, "between slashes");
	parse_err("WAIT_CONSOLE /x/ 1s 2s\n", 1, "no more");
	/* Patterns that would cost the agent seconds or gigabytes. */
	parse_err("WAIT_CONSOLE /(a*)*\\1b/\n", 1, "back-references");
	parse_err("WAIT_CONSOLE /((a{255}){255}){255}/\n", 1,
		  "multiply to more than 256");
	parse_err("WAIT_CONSOLE /(a{17}){16}/\n", 1, "multiply");
	parse_err("WAIT_CONSOLE /(a{2,}){200}/\n", 1, "multiply");
	parse_ok("WAIT_CONSOLE /(a{16}){16}/\nWAIT_CONSOLE /x{3,5}\\.[0-9]{1,}/"
		 "\nWAIT_CONSOLE /a\\{999\\}/\n",
		 &s);
	assert_int_equal(s.n, 3);
	macro_script_free(&s);
	{
		/* 256 bytes x 256 is the whole budget: a second one is over. */
		char script[1024];
		int n = snprintf(script, sizeof(script), "WAIT_CONSOLE /(");

		for (int k = 0; k < 248; k++)
			script[n++] = 'a';
		n += snprintf(script + n, sizeof(script) - (size_t)n,
			      "){256}/\nWAIT_CONSOLE /(bbbbbbbbbb){30}/\n");
		parse_err(script, 2, "too large together");
	}
	{
		char line[600];

		memset(line, 'a', sizeof(line));
		memcpy(line, "WAIT_CONSOLE /", 14);
		line[MACRO_REGEX_MAX + 16] = '/';
		line[MACRO_REGEX_MAX + 17] = '\0';
		parse_err(line, 1, "longer than");
	}
}

static void test_spam_media_reboot(void **state)
{
	struct macro_script s;
	const struct macro_op *o;

	(void)state;
	parse_ok("SPAM F2 100ms 30s\n"
		 "SPAM DELETE F2 ctrl+alt+f1 ESC 20 20\n"
		 "MEDIA debian 12.iso\n"
		 "MEDIA EJECT\n"
		 "REBOOT\n"
		 "REBOOT SysRq\n"
		 "REBOOT hard\n",
		 &s);
	o = s.ops;
	assert_int_equal(s.n, 7);
	assert_int_equal(o[0].u.spam.n, 1);
	assert_int_equal(o[0].u.spam.keys[0].keys[0], 0x3b);
	assert_int_equal(o[0].u.spam.every_ms, 100);
	assert_int_equal(o[0].u.spam.for_ms, 30000);
	assert_int_equal(o[1].u.spam.n, 4);
	assert_int_equal(o[1].u.spam.keys[0].keys[0], 0x4c);
	assert_int_equal(o[1].u.spam.keys[2].mods,
			 HID_MOD_LCTRL | HID_MOD_LALT);
	assert_int_equal(o[1].u.spam.keys[2].keys[0], 0x3a);
	assert_string_equal(o[2].u.media.name, "debian 12.iso");
	assert_null(o[3].u.media.name);
	assert_int_equal(o[4].u.reboot, MACRO_REBOOT_SOFT);
	assert_int_equal(o[5].u.reboot, MACRO_REBOOT_SYSRQ);
	assert_int_equal(o[6].u.reboot, MACRO_REBOOT_HARD);
	macro_script_free(&s);
	parse_err("SPAM A B C D E 100 1000\n", 1, "at most 4 keys");
	parse_err("SPAM F2 100 50\n", 1, "shorter than every");
	parse_err("SPAM F2 20s 1m\n", 1, "longer than");
	parse_err("SPAM NOKEY 100 1000\n", 1, "unknown key");
	parse_err("MEDIA\n", 1, "needs an image");
	parse_err("MEDIA .hidden\n", 1, "rule dot");
}

/* ---- limits ---- */

static void test_limits(void **state)
{
	struct macro_script s;
	struct macro_error err;
	size_t n = MACRO_FILE_MAX + 1;
	char *big = malloc(n + 1);

	(void)state;
	assert_non_null(big);
	memset(big, '\n', n);
	big[n] = '\0';
	assert_int_equal(macro_parse(big, n, NULL, &s, &err), -E2BIG);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.msg, "bytes"));
	/* More lines than allowed, each blank. */
	assert_int_equal(macro_parse(big, MACRO_LINES_MAX + 1, NULL, &s, &err),
			 -E2BIG);
	assert_int_equal(err.line, MACRO_LINES_MAX + 1);
	assert_int_equal(macro_parse(big, MACRO_LINES_MAX, NULL, &s, &err), 0);
	macro_script_free(&s);
	/* One line longer than allowed. */
	memset(big, 'a', n);
	memcpy(big, "ENTER\nSTRING ", 13);
	big[13 + MACRO_LINE_MAX] = '\n';
	assert_int_equal(macro_parse(big, 14 + MACRO_LINE_MAX, NULL, &s, &err),
			 -E2BIG);
	assert_int_equal(err.line, 2);
	/* The longest line is fine. */
	big[6 + MACRO_LINE_MAX] = '\n';
	assert_int_equal(macro_parse(big, 7 + MACRO_LINE_MAX, NULL, &s, &err),
			 0);
	assert_int_equal(s.ops[1].u.text.len, MACRO_LINE_MAX - 7);
	macro_script_free(&s);
	free(big);
	/* Regexes are bounded in number too. */
	{
		char *script = malloc(64 * 1024);
		size_t off = 0;

		assert_non_null(script);
		for (int i = 0; i <= MACRO_REGEXES_MAX; i++)
			off += (size_t)sprintf(script + off,
					       "WAIT_CONSOLE /x%d/ 1s\n", i);
		parse_err(script, MACRO_REGEXES_MAX + 1, "WAIT_CONSOLE lines");
		free(script);
	}
}

static void test_error_format(void **state)
{
	struct macro_error e = {.line = 12, .msg = "unknown thing"};
	char buf[64];

	(void)state;
	macro_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "line 12: unknown thing");
	e.line = 0;
	macro_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "unknown thing");
}

/* Every built-in macro parses. */
static void test_builtins(void **state)
{
	int n = 0;

	(void)state;
	for (const struct macro_builtin *b = macro_builtins(); b->name; b++) {
		struct macro_script s;

		assert_true(macro_name_valid(b->name, strlen(b->name)));
		parse_ok(b->script, &s);
		assert_true(s.n > 0);
		macro_script_free(&s);
		n++;
	}
	assert_int_equal(n, 4);
	assert_non_null(macro_builtin_find("enter_setup"));
	assert_non_null(macro_builtin_find("boot_menu"));
	assert_non_null(macro_builtin_find("ctrl_alt_del"));
	assert_non_null(macro_builtin_find("sysrq_reboot"));
	assert_null(macro_builtin_find("nope"));
}

static void test_names(void **state)
{
	static const char *const good[] = {"a", "enter_setup", "A-9_z",
					   "x234567890123456789012345678901234"
					   "567890123456789012345678901234"};
	static const char *const bad[] = {"",
					  "../x",
					  "/etc/passwd",
					  "a b",
					  "a.txt",
					  "ü",
					  "a\nb",
					  ".hidden",
					  "x/y",
					  "x23456789012345678901234567890123456"
					  "78901234567890123456789012345"};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!macro_name_valid(good[i], strlen(good[i])))
			fail_msg("\"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (macro_name_valid(bad[i], strlen(bad[i])))
			fail_msg("\"%s\" accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_ducky_basics),
		cmocka_unit_test(test_chords),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_default_delay),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_layout_profile),
		cmocka_unit_test(test_hold_release),
		cmocka_unit_test(test_waits),
		cmocka_unit_test(test_spam_media_reboot),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_names),
	};

	corpus_find();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
