/* Key names, aliases, DuckyScript names, raw codes, chords and sequences. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "gadget/hid_report.h"
#include "gadget/keys.h"

static int lookup(const char *name, uint8_t *usage, uint8_t *mod)
{
	*usage = 0xff;
	*mod = 0xff;
	return keys_lookup(name, strlen(name), usage, mod);
}

static void expect_key(const char *name, uint8_t want)
{
	uint8_t usage, mod;

	if (lookup(name, &usage, &mod))
		fail_msg("'%s' not found", name);
	if (usage != want || mod != 0)
		fail_msg("'%s': usage 0x%02x mod 0x%02x, want 0x%02x", name,
			 usage, mod, want);
}

static void expect_mod(const char *name, uint8_t want)
{
	uint8_t usage, mod;

	if (lookup(name, &usage, &mod))
		fail_msg("'%s' not found", name);
	if (usage != 0 || mod != want)
		fail_msg("'%s': usage 0x%02x mod 0x%02x, want mod 0x%02x", name,
			 usage, mod, want);
}

static void test_w3c_names(void **state)
{
	static const struct {
		const char *name;
		uint8_t usage;
	} w3c[] = {
		{"KeyA", 0x04},
		{"KeyZ", 0x1d},
		{"Digit1", 0x1e},
		{"Digit9", 0x26},
		{"Digit0", 0x27},
		{"Enter", 0x28},
		{"Escape", 0x29},
		{"Backspace", 0x2a},
		{"Tab", 0x2b},
		{"Space", 0x2c},
		{"Minus", 0x2d},
		{"Equal", 0x2e},
		{"BracketLeft", 0x2f},
		{"BracketRight", 0x30},
		{"Backslash", 0x31},
		{"IntlHash", 0x32},
		{"Semicolon", 0x33},
		{"Quote", 0x34},
		{"Backquote", 0x35},
		{"Comma", 0x36},
		{"Period", 0x37},
		{"Slash", 0x38},
		{"CapsLock", 0x39},
		{"F1", 0x3a},
		{"F12", 0x45},
		{"PrintScreen", 0x46},
		{"ScrollLock", 0x47},
		{"Pause", 0x48},
		{"Insert", 0x49},
		{"Home", 0x4a},
		{"PageUp", 0x4b},
		{"Delete", 0x4c},
		{"End", 0x4d},
		{"PageDown", 0x4e},
		{"ArrowRight", 0x4f},
		{"ArrowLeft", 0x50},
		{"ArrowDown", 0x51},
		{"ArrowUp", 0x52},
		{"NumLock", 0x53},
		{"NumpadDivide", 0x54},
		{"NumpadMultiply", 0x55},
		{"NumpadSubtract", 0x56},
		{"NumpadAdd", 0x57},
		{"NumpadEnter", 0x58},
		{"Numpad1", 0x59},
		{"Numpad9", 0x61},
		{"Numpad0", 0x62},
		{"NumpadDecimal", 0x63},
		{"IntlBackslash", 0x64},
		{"ContextMenu", 0x65},
		{"Power", 0x66},
		{"NumpadEqual", 0x67},
		{"F13", 0x68},
		{"F24", 0x73},
		{"IntlRo", 0x87},
		{"IntlYen", 0x89},
		{"KanaMode", 0x88},
		{"Lang1", 0x90},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(w3c) / sizeof(w3c[0]); i++)
		expect_key(w3c[i].name, w3c[i].usage);
}

static void test_function_keys(void **state)
{
	char name[8];
	int i;

	(void)state;
	for (i = 1; i <= 24; i++) {
		snprintf(name, sizeof(name), "F%d", i);
		expect_key(name, (uint8_t)(i <= 12 ? 0x39 + i : 0x68 + i - 13));
	}
}

static void test_aliases(void **state)
{
	(void)state;
	expect_key("a", 0x04);
	expect_key("z", 0x1d);
	expect_key("1", 0x1e);
	expect_key("0", 0x27);
	expect_key("esc", 0x29);
	expect_key("enter", 0x28);
	expect_key("return", 0x28);
	expect_key("del", 0x4c);
	expect_key("ins", 0x49);
	expect_key("bksp", 0x2a);
	expect_key("backspace", 0x2a);
	expect_key("up", 0x52);
	expect_key("down", 0x51);
	expect_key("left", 0x50);
	expect_key("right", 0x4f);
	expect_key("pgup", 0x4b);
	expect_key("pgdn", 0x4e);
	expect_key("home", 0x4a);
	expect_key("end", 0x4d);
	expect_key("tab", 0x2b);
	expect_key("space", 0x2c);
	expect_key("printscreen", 0x46);
	expect_key("prtsc", 0x46);
	expect_key("sysrq", 0x46);
	expect_key("menu", 0x65);
	expect_key("app", 0x65);
	expect_key("pause", 0x48);
	expect_key("break", 0x48);
	expect_key("plus", 0x57);
	expect_key("+", 0x57);
	expect_key("-", 0x2d);
	expect_key("capslock", 0x39);
}

static void test_modifiers(void **state)
{
	(void)state;
	expect_mod("ctrl", HID_MOD_LCTRL);
	expect_mod("control", HID_MOD_LCTRL);
	expect_mod("shift", HID_MOD_LSHIFT);
	expect_mod("alt", HID_MOD_LALT);
	expect_mod("meta", HID_MOD_LGUI);
	expect_mod("win", HID_MOD_LGUI);
	expect_mod("windows", HID_MOD_LGUI);
	expect_mod("gui", HID_MOD_LGUI);
	expect_mod("super", HID_MOD_LGUI);
	expect_mod("cmd", HID_MOD_LGUI);
	expect_mod("altgr", HID_MOD_RALT);
	expect_mod("ControlLeft", HID_MOD_LCTRL);
	expect_mod("ShiftLeft", HID_MOD_LSHIFT);
	expect_mod("AltLeft", HID_MOD_LALT);
	expect_mod("MetaLeft", HID_MOD_LGUI);
	expect_mod("ControlRight", HID_MOD_RCTRL);
	expect_mod("ShiftRight", HID_MOD_RSHIFT);
	expect_mod("AltRight", HID_MOD_RALT);
	expect_mod("MetaRight", HID_MOD_RGUI);
	expect_mod("rctrl", HID_MOD_RCTRL);
	expect_mod("rshift", HID_MOD_RSHIFT);
	expect_mod("ralt", HID_MOD_RALT);
}

static void test_duckyscript_names(void **state)
{
	static const struct {
		const char *name;
		uint8_t usage;
		uint8_t mod;
	} ducky[] = {
		{"GUI", 0, HID_MOD_LGUI},
		{"WINDOWS", 0, HID_MOD_LGUI},
		{"CTRL", 0, HID_MOD_LCTRL},
		{"CONTROL", 0, HID_MOD_LCTRL},
		{"ALT", 0, HID_MOD_LALT},
		{"SHIFT", 0, HID_MOD_LSHIFT},
		{"ESCAPE", 0x29, 0},
		{"UPARROW", 0x52, 0},
		{"DOWNARROW", 0x51, 0},
		{"LEFTARROW", 0x50, 0},
		{"RIGHTARROW", 0x4f, 0},
		{"DELETE", 0x4c, 0},
		{"BACKSPACE", 0x2a, 0},
		{"CAPSLOCK", 0x39, 0},
		{"PRINTSCREEN", 0x46, 0},
		{"SCROLLLOCK", 0x47, 0},
		{"NUMLOCK", 0x53, 0},
		{"MENU", 0x65, 0},
		{"APP", 0x65, 0},
		{"BREAK", 0x48, 0},
		{"PAUSE", 0x48, 0},
		{"INSERT", 0x49, 0},
		{"HOME", 0x4a, 0},
		{"END", 0x4d, 0},
		{"PAGEUP", 0x4b, 0},
		{"PAGEDOWN", 0x4e, 0},
		{"SPACE", 0x2c, 0},
		{"TAB", 0x2b, 0},
		{"ENTER", 0x28, 0},
		{"F1", 0x3a, 0},
		{"F12", 0x45, 0},
		{"F24", 0x73, 0},
		{"R", 0x15, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ducky) / sizeof(ducky[0]); i++) {
		if (ducky[i].mod)
			expect_mod(ducky[i].name, ducky[i].mod);
		else
			expect_key(ducky[i].name, ducky[i].usage);
	}
}

static void test_case_insensitive(void **state)
{
	(void)state;
	expect_key("kEyA", 0x04);
	expect_key("KEYA", 0x04);
	expect_key("ESC", 0x29);
	expect_key("Esc", 0x29);
	expect_key("f5", 0x3e);
	expect_key("arrowup", 0x52);
	expect_key("pGdN", 0x4e);
	expect_mod("Ctrl", HID_MOD_LCTRL);
	expect_mod("ALTGR", HID_MOD_RALT);
	expect_mod("shiftright", HID_MOD_RSHIFT);
}

static void test_raw_codes(void **state)
{
	uint8_t usage, mod;

	(void)state;
	expect_key("0x4c", 0x4c);
	expect_key("0X4C", 0x4c);
	expect_key("0x04", 0x04);
	expect_key("0x4", 0x04);
	expect_key("0xff", 0xff);
	expect_key("0x00", 0x00);
	expect_mod("0xe0", HID_MOD_LCTRL);
	expect_mod("0xe6", HID_MOD_RALT);
	expect_mod("0xe7", HID_MOD_RGUI);
	assert_int_equal(lookup("0x100", &usage, &mod), -ENOENT);
	assert_int_equal(lookup("0x", &usage, &mod), -ENOENT);
	assert_int_equal(lookup("0xg1", &usage, &mod), -ENOENT);
	assert_int_equal(lookup("0x4z", &usage, &mod), -ENOENT);
	assert_int_equal(lookup("x4c", &usage, &mod), -ENOENT);
}

static void test_unknown_names(void **state)
{
	uint8_t usage, mod;

	(void)state;
	assert_int_equal(lookup("foo", &usage, &mod), -ENOENT);
	assert_int_equal(lookup("F25", &usage, &mod), -ENOENT);
	assert_int_equal(lookup("KeyAA", &usage, &mod), -ENOENT);
	assert_int_equal(lookup("Key", &usage, &mod), -ENOENT);
	assert_int_equal(lookup("", &usage, &mod), -ENOENT);
	assert_int_equal(keys_lookup(NULL, 3, &usage, &mod), -ENOENT);
	/* The length bounds the name: "ctrlx" with 4 characters is ctrl. */
	assert_int_equal(keys_lookup("ctrlx", 4, &usage, &mod), 0);
	assert_int_equal(mod, HID_MOD_LCTRL);
	assert_int_equal(keys_lookup("ctrlx", 5, &usage, &mod), -ENOENT);
}

static void test_canonical_names(void **state)
{
	const char *name;
	uint8_t usage, u, mod;
	size_t i, j;
	unsigned int v;

	(void)state;
	assert_string_equal(keys_name(0x04), "KeyA");
	assert_string_equal(keys_name(0x27), "Digit0");
	assert_string_equal(keys_name(0x4c), "Delete");
	assert_string_equal(keys_name(0x57), "NumpadAdd");
	assert_string_equal(keys_name(0x29), "Escape");
	assert_string_equal(keys_name(0xe0), "ControlLeft");
	assert_string_equal(keys_name(0xe6), "AltRight");
	assert_null(keys_name(0x00));
	assert_null(keys_name(0xff));
	/* Every key of a full-size board has a name. */
	for (v = 0x04; v <= 0x67; v++)
		assert_non_null(keys_name((uint8_t)v));
	for (v = 0xe0; v <= 0xe7; v++)
		assert_non_null(keys_name((uint8_t)v));

	/* Every name in the table leads back to its usage, once. */
	for (i = 0; (name = keys_table_name(i, &usage)); i++) {
		uint8_t want_mod = 0;

		if (usage >= 0xe0 && usage <= 0xe7)
			want_mod = (uint8_t)(1u << (usage - 0xe0));
		if (lookup(name, &u, &mod))
			fail_msg("table name '%s' not found", name);
		assert_int_equal(u, want_mod ? 0 : usage);
		assert_int_equal(mod, want_mod);
		for (j = i + 1; keys_table_name(j, NULL); j++) {
			if (!strcasecmp(name, keys_table_name(j, NULL)))
				fail_msg("'%s' twice in the table", name);
		}
		/* The canonical name of its usage names the same key. */
		assert_int_equal(lookup(keys_name(usage), &u, &mod), 0);
	}
	assert_true(i > 250);
	assert_null(keys_table_name(i, &usage));
}

static struct key_chord chord(const char *s, char sep, int want_err)
{
	struct key_chord c;

	memset(&c, 0xaa, sizeof(c));
	assert_int_equal(keys_parse_chord(s, strlen(s), sep, &c), want_err);
	return c;
}

static void test_chords(void **state)
{
	struct key_chord c;

	(void)state;
	c = chord("ctrl+alt+delete", '+', 0);
	assert_int_equal(c.mods, HID_MOD_LCTRL | HID_MOD_LALT);
	assert_int_equal(c.nkeys, 1);
	assert_int_equal(c.keys[0], 0x4c);

	c = chord("CTRL ALT DELETE", ' ', 0);
	assert_int_equal(c.mods, HID_MOD_LCTRL | HID_MOD_LALT);
	assert_int_equal(c.nkeys, 1);
	assert_int_equal(c.keys[0], 0x4c);

	c = chord("  GUI\t r ", ' ', 0);
	assert_int_equal(c.mods, HID_MOD_LGUI);
	assert_int_equal(c.nkeys, 1);
	assert_int_equal(c.keys[0], 0x15);

	c = chord("alt+F4", '+', 0);
	assert_int_equal(c.mods, HID_MOD_LALT);
	assert_int_equal(c.keys[0], 0x3d);

	c = chord("F2", '+', 0);
	assert_int_equal(c.mods, 0);
	assert_int_equal(c.nkeys, 1);
	assert_int_equal(c.keys[0], 0x3b);

	c = chord("ctrl+shift", '+', 0);
	assert_int_equal(c.mods, HID_MOD_LCTRL | HID_MOD_LSHIFT);
	assert_int_equal(c.nkeys, 0);

	c = chord("a+a", '+', 0);
	assert_int_equal(c.nkeys, 1);

	c = chord("0x04+KeyB+c+Digit1+2+3", '+', 0);
	assert_int_equal(c.nkeys, 6);
	assert_int_equal(c.keys[5], 0x20);
	chord("a+b+c+d+e+f+g", '+', -E2BIG);

	chord("ctrl+foo", '+', -ENOENT);
	chord("", '+', -EINVAL);
	chord("   ", ' ', -EINVAL);
	chord("ctrl+", '+', -EINVAL);
	chord("ctrl++a", '+', -ENOENT);
	chord("+a", '+', -ENOENT);
	assert_int_equal(keys_parse_chord(NULL, 0, '+', &c), -EINVAL);
}

static void test_lone_plus(void **state)
{
	struct key_chord c;

	(void)state;
	c = chord("shift++", '+', 0);
	assert_int_equal(c.mods, HID_MOD_LSHIFT);
	assert_int_equal(c.nkeys, 1);
	assert_int_equal(c.keys[0], 0x57);

	c = chord("+", '+', 0);
	assert_int_equal(c.mods, 0);
	assert_int_equal(c.keys[0], 0x57);

	c = chord("ctrl+plus", '+', 0);
	assert_int_equal(c.mods, HID_MOD_LCTRL);
	assert_int_equal(c.keys[0], 0x57);

	c = chord("ctrl+NumpadAdd", '+', 0);
	assert_int_equal(c.keys[0], 0x57);

	c = chord("ctrl++", '+', 0);
	assert_int_equal(c.keys[0], 0x57);

	chord("++", '+', -EINVAL);
}

static void test_sequences(void **state)
{
	struct key_chord c[8];
	size_t n = 99, off = 99, len = 99;

	(void)state;
	assert_int_equal(
		keys_parse_sequence("alt+F4 enter", c, 8, &n, &off, &len), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].mods, HID_MOD_LALT);
	assert_int_equal(c[0].keys[0], 0x3d);
	assert_int_equal(c[1].mods, 0);
	assert_int_equal(c[1].keys[0], 0x28);

	assert_int_equal(
		keys_parse_sequence("  a \t b\n", c, 8, &n, NULL, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[1].keys[0], 0x05);

	assert_int_equal(
		keys_parse_sequence("ctrl+alt+delete", c, 8, &n, &off, &len),
		0);
	assert_int_equal(n, 1);

	assert_int_equal(keys_parse_sequence("shift++ a", c, 8, &n, &off, &len),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].keys[0], 0x57);
}

static void test_sequence_errors(void **state)
{
	struct key_chord c[2];
	size_t n, off, len;

	(void)state;
	/* The unknown name, located inside the whole string. */
	assert_int_equal(keys_parse_sequence("enter ctrl+alt+foo esc", c, 2, &n,
					     &off, &len),
			 -ENOENT);
	assert_int_equal(off, 15);
	assert_int_equal(len, 3);
	assert_int_equal(n, 0);

	assert_int_equal(keys_parse_sequence("bogus", c, 2, &n, &off, &len),
			 -ENOENT);
	assert_int_equal(off, 0);
	assert_int_equal(len, 5);

	assert_int_equal(
		keys_parse_sequence("a  x+F99+y", c, 2, &n, &off, &len),
		-ENOENT);
	assert_int_equal(off, 5);
	assert_int_equal(len, 3);

	assert_int_equal(keys_parse_sequence("a b cc", c, 2, &n, &off, &len),
			 -E2BIG);
	assert_int_equal(off, 4);
	assert_int_equal(len, 2);

	assert_int_equal(keys_parse_sequence("", c, 2, &n, &off, &len),
			 -EINVAL);
	assert_int_equal(keys_parse_sequence(" \t ", c, 2, &n, &off, &len),
			 -EINVAL);
	assert_int_equal(keys_parse_sequence("a ctrl+", c, 2, &n, &off, &len),
			 -EINVAL);
	assert_int_equal(off, 7);
	assert_int_equal(len, 0);
	assert_int_equal(keys_parse_sequence("bogus", c, 2, &n, NULL, NULL),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_w3c_names),
		cmocka_unit_test(test_function_keys),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_duckyscript_names),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_raw_codes),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_canonical_names),
		cmocka_unit_test(test_chords),
		cmocka_unit_test(test_lone_plus),
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_sequence_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
