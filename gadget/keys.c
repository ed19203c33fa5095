/* Key names, aliases and chords to HID usages of the Keyboard page. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "gadget/keys.h"

struct keys_entry {
	const char *name;
	uint8_t usage; /* 0xe0..0xe7 are the modifiers */
};

/*
 * Each usage's W3C KeyboardEvent.code name comes first, then its aliases
 * (short names, DuckyScript names). Names compare case-insensitively.
 */
static const struct keys_entry keys_table[] = {
	{"KeyA", 0x04},
	{"a", 0x04},
	{"KeyB", 0x05},
	{"b", 0x05},
	{"KeyC", 0x06},
	{"c", 0x06},
	{"KeyD", 0x07},
	{"d", 0x07},
	{"KeyE", 0x08},
	{"e", 0x08},
	{"KeyF", 0x09},
	{"f", 0x09},
	{"KeyG", 0x0a},
	{"g", 0x0a},
	{"KeyH", 0x0b},
	{"h", 0x0b},
	{"KeyI", 0x0c},
	{"i", 0x0c},
	{"KeyJ", 0x0d},
	{"j", 0x0d},
	{"KeyK", 0x0e},
	{"k", 0x0e},
	{"KeyL", 0x0f},
	{"l", 0x0f},
	{"KeyM", 0x10},
	{"m", 0x10},
	{"KeyN", 0x11},
	{"n", 0x11},
	{"KeyO", 0x12},
	{"o", 0x12},
	{"KeyP", 0x13},
	{"p", 0x13},
	{"KeyQ", 0x14},
	{"q", 0x14},
	{"KeyR", 0x15},
	{"r", 0x15},
	{"KeyS", 0x16},
	{"s", 0x16},
	{"KeyT", 0x17},
	{"t", 0x17},
	{"KeyU", 0x18},
	{"u", 0x18},
	{"KeyV", 0x19},
	{"v", 0x19},
	{"KeyW", 0x1a},
	{"w", 0x1a},
	{"KeyX", 0x1b},
	{"x", 0x1b},
	{"KeyY", 0x1c},
	{"y", 0x1c},
	{"KeyZ", 0x1d},
	{"z", 0x1d},
	{"Digit1", 0x1e},
	{"1", 0x1e},
	{"Digit2", 0x1f},
	{"2", 0x1f},
	{"Digit3", 0x20},
	{"3", 0x20},
	{"Digit4", 0x21},
	{"4", 0x21},
	{"Digit5", 0x22},
	{"5", 0x22},
	{"Digit6", 0x23},
	{"6", 0x23},
	{"Digit7", 0x24},
	{"7", 0x24},
	{"Digit8", 0x25},
	{"8", 0x25},
	{"Digit9", 0x26},
	{"9", 0x26},
	{"Digit0", 0x27},
	{"0", 0x27},
	{"Enter", 0x28},
	{"return", 0x28},
	{"Escape", 0x29},
	{"esc", 0x29},
	{"Backspace", 0x2a},
	{"bksp", 0x2a},
	{"bs", 0x2a},
	{"Tab", 0x2b},
	{"Space", 0x2c},
	{"spacebar", 0x2c},
	{"Minus", 0x2d},
	{"-", 0x2d},
	{"hyphen", 0x2d},
	{"dash", 0x2d},
	{"Equal", 0x2e},
	{"=", 0x2e},
	{"equals", 0x2e},
	{"BracketLeft", 0x2f},
	{"[", 0x2f},
	{"lbracket", 0x2f},
	{"BracketRight", 0x30},
	{"]", 0x30},
	{"rbracket", 0x30},
	{"Backslash", 0x31},
	{"\\", 0x31},
	{"IntlHash", 0x32},
	{"NonUSHash", 0x32},
	{"Semicolon", 0x33},
	{";", 0x33},
	{"Quote", 0x34},
	{"'", 0x34},
	{"apostrophe", 0x34},
	{"Backquote", 0x35},
	{"`", 0x35},
	{"grave", 0x35},
	{"backtick", 0x35},
	{"Comma", 0x36},
	{",", 0x36},
	{"Period", 0x37},
	{".", 0x37},
	{"dot", 0x37},
	{"Slash", 0x38},
	{"/", 0x38},
	{"CapsLock", 0x39},
	{"caps", 0x39},
	{"F1", 0x3a},
	{"F2", 0x3b},
	{"F3", 0x3c},
	{"F4", 0x3d},
	{"F5", 0x3e},
	{"F6", 0x3f},
	{"F7", 0x40},
	{"F8", 0x41},
	{"F9", 0x42},
	{"F10", 0x43},
	{"F11", 0x44},
	{"F12", 0x45},
	{"PrintScreen", 0x46},
	{"prtsc", 0x46},
	{"prtscr", 0x46},
	{"prtscn", 0x46},
	{"print", 0x46},
	{"sysrq", 0x46},
	{"ScrollLock", 0x47},
	{"scrlk", 0x47},
	{"Pause", 0x48},
	{"break", 0x48},
	{"Insert", 0x49},
	{"ins", 0x49},
	{"Home", 0x4a},
	{"PageUp", 0x4b},
	{"pgup", 0x4b},
	{"Delete", 0x4c},
	{"del", 0x4c},
	{"End", 0x4d},
	{"PageDown", 0x4e},
	{"pgdn", 0x4e},
	{"ArrowRight", 0x4f},
	{"right", 0x4f},
	{"RightArrow", 0x4f},
	{"ArrowLeft", 0x50},
	{"left", 0x50},
	{"LeftArrow", 0x50},
	{"ArrowDown", 0x51},
	{"down", 0x51},
	{"DownArrow", 0x51},
	{"ArrowUp", 0x52},
	{"up", 0x52},
	{"UpArrow", 0x52},
	{"NumLock", 0x53},
	{"NumpadDivide", 0x54},
	{"NumpadMultiply", 0x55},
	{"NumpadSubtract", 0x56},
	{"NumpadAdd", 0x57},
	{"+", 0x57},
	{"plus", 0x57},
	{"NumpadEnter", 0x58},
	{"Numpad1", 0x59},
	{"Numpad2", 0x5a},
	{"Numpad3", 0x5b},
	{"Numpad4", 0x5c},
	{"Numpad5", 0x5d},
	{"Numpad6", 0x5e},
	{"Numpad7", 0x5f},
	{"Numpad8", 0x60},
	{"Numpad9", 0x61},
	{"Numpad0", 0x62},
	{"NumpadDecimal", 0x63},
	{"IntlBackslash", 0x64},
	{"NonUSBackslash", 0x64},
	{"ContextMenu", 0x65},
	{"menu", 0x65},
	{"app", 0x65},
	{"apps", 0x65},
	{"application", 0x65},
	{"Power", 0x66},
	{"NumpadEqual", 0x67},
	{"F13", 0x68},
	{"F14", 0x69},
	{"F15", 0x6a},
	{"F16", 0x6b},
	{"F17", 0x6c},
	{"F18", 0x6d},
	{"F19", 0x6e},
	{"F20", 0x6f},
	{"F21", 0x70},
	{"F22", 0x71},
	{"F23", 0x72},
	{"F24", 0x73},
	{"Open", 0x74},
	{"Help", 0x75},
	{"Select", 0x77},
	{"Again", 0x79},
	{"Undo", 0x7a},
	{"Cut", 0x7b},
	{"Copy", 0x7c},
	{"Paste", 0x7d},
	{"Find", 0x7e},
	{"AudioVolumeMute", 0x7f},
	{"mute", 0x7f},
	{"AudioVolumeUp", 0x80},
	{"volumeup", 0x80},
	{"AudioVolumeDown", 0x81},
	{"volumedown", 0x81},
	{"NumpadComma", 0x85},
	{"IntlRo", 0x87},
	{"KanaMode", 0x88},
	{"IntlYen", 0x89},
	{"Convert", 0x8a},
	{"NonConvert", 0x8b},
	{"Lang1", 0x90},
	{"Lang2", 0x91},
	{"Lang3", 0x92},
	{"Lang4", 0x93},
	{"Lang5", 0x94},
	{"ControlLeft", 0xe0},
	{"ctrl", 0xe0},
	{"control", 0xe0},
	{"lctrl", 0xe0},
	{"LeftCtrl", 0xe0},
	{"LeftControl", 0xe0},
	{"ShiftLeft", 0xe1},
	{"shift", 0xe1},
	{"lshift", 0xe1},
	{"LeftShift", 0xe1},
	{"AltLeft", 0xe2},
	{"alt", 0xe2},
	{"lalt", 0xe2},
	{"LeftAlt", 0xe2},
	{"option", 0xe2},
	{"MetaLeft", 0xe3},
	{"meta", 0xe3},
	{"win", 0xe3},
	{"windows", 0xe3},
	{"gui", 0xe3},
	{"super", 0xe3},
	{"cmd", 0xe3},
	{"command", 0xe3},
	{"lmeta", 0xe3},
	{"lwin", 0xe3},
	{"lgui", 0xe3},
	{"LeftMeta", 0xe3},
	{"LeftWin", 0xe3},
	{"LeftGui", 0xe3},
	{"OSLeft", 0xe3},
	{"ControlRight", 0xe4},
	{"rctrl", 0xe4},
	{"RightCtrl", 0xe4},
	{"RightControl", 0xe4},
	{"ShiftRight", 0xe5},
	{"rshift", 0xe5},
	{"RightShift", 0xe5},
	{"AltRight", 0xe6},
	{"altgr", 0xe6},
	{"ralt", 0xe6},
	{"RightAlt", 0xe6},
	{"MetaRight", 0xe7},
	{"rmeta", 0xe7},
	{"rwin", 0xe7},
	{"rgui", 0xe7},
	{"RightMeta", 0xe7},
	{"RightWin", 0xe7},
	{"RightGui", 0xe7},
	{"OSRight", 0xe7},
};

#define KEYS_N (sizeof(keys_table) / sizeof(keys_table[0]))
#define KEYS_MOD_FIRST 0xe0
#define KEYS_MOD_LAST 0xe7

static int keys_hex(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *p = c ? strchr(digits, c | 0x20) : NULL;

	return p ? (int)(p - digits) : -1;
}

/* "0x4c" or "0x4": a raw usage code. */
static int keys_raw(const char *name, size_t len, uint8_t *usage)
{
	unsigned int v = 0;
	size_t i;

	if (len < 3 || len > 4 || name[0] != '0' || (name[1] | 0x20) != 'x')
		return -ENOENT;
	for (i = 2; i < len; i++) {
		int d = keys_hex(name[i]);

		if (d < 0)
			return -ENOENT;
		v = v * 16 + (unsigned int)d;
	}
	*usage = (uint8_t)v;
	return 0;
}

int keys_lookup(const char *name, size_t len, uint8_t *usage, uint8_t *mod)
{
	uint8_t u = 0;
	int found = -ENOENT;

	if (!name || !len)
		return -ENOENT;
	if (!keys_raw(name, len, &u)) {
		found = 0;
	} else {
		size_t i;

		for (i = 0; i < KEYS_N; i++) {
			if (!strncasecmp(name, keys_table[i].name, len) &&
			    keys_table[i].name[len] == '\0') {
				u = keys_table[i].usage;
				found = 0;
				break;
			}
		}
	}
	if (found)
		return found;
	if (u >= KEYS_MOD_FIRST && u <= KEYS_MOD_LAST) {
		*mod = (uint8_t)(1u << (u - KEYS_MOD_FIRST));
		*usage = 0;
	} else {
		*mod = 0;
		*usage = u;
	}
	return 0;
}

static void keys_set_err(size_t *err_off, size_t *err_len, size_t off,
			 size_t len)
{
	if (err_off)
		*err_off = off;
	if (err_len)
		*err_len = len;
}

static int keys_add(struct key_chord *c, uint8_t usage, uint8_t mod)
{
	size_t i;

	c->mods |= mod;
	if (!usage)
		return 0;
	for (i = 0; i < c->nkeys; i++) {
		if (c->keys[i] == usage)
			return 0;
	}
	if (c->nkeys == KEYS_CHORD_MAX)
		return -E2BIG;
	c->keys[c->nkeys++] = usage;
	return 0;
}

/* Add one key name to a chord. Returns 0, -ENOENT or -E2BIG. */
static int keys_add_name(struct key_chord *c, const char *t, size_t len)
{
	uint8_t usage, mod;

	if (keys_lookup(t, len, &usage, &mod))
		return -ENOENT;
	return keys_add(c, usage, mod);
}

/*
 * Add one key token to a chord: a name ("ENTER", "ctrl", "0x4c", "-"),
 * or names joined by '+' or '-' as some scripts write chords
 * ("CTRL-ALT", "ctrl+shift"). Returns 0, -ENOENT or -E2BIG.
 */
static int keys_add_token(struct key_chord *c, const char *t, size_t len)
{
	size_t i, start;
	int r = keys_add_name(c, t, len);

	if (r != -ENOENT || len < 3 ||
	    (!memchr(t, '+', len) && !memchr(t, '-', len)))
		return r;
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && t[i] != '+' && t[i] != '-')
			continue;
		if (i == start)
			return -ENOENT;
		r = keys_add_name(c, t + start, i - start);
		if (r)
			return r;
		start = i + 1;
	}
	return 0;
}

static int keys_is_sep(char c, char sep)
{
	return c == sep || (sep == ' ' && c == '\t');
}

int keys_chord_parse(const char *s, size_t len, char sep, struct key_chord *out,
		     size_t *err_off, size_t *err_len)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		size_t start;
		int err;

		while (sep == ' ' && i < len && keys_is_sep(s[i], sep))
			i++;
		if (i == len) {
			if (sep == ' ' && i > 0 && (out->mods || out->nkeys))
				return 0;
			keys_set_err(err_off, err_len, i, 0);
			return -EINVAL;
		}
		start = i;
		if (sep == '+' && s[i] == '+')
			i++;
		else
			while (i < len && !keys_is_sep(s[i], sep))
				i++;
		if (sep == ' ')
			err = keys_add_token(out, s + start, i - start);
		else
			err = keys_add_name(out, s + start, i - start);
		if (err) {
			keys_set_err(err_off, err_len, start, i - start);
			return err;
		}
		if (i == len)
			return 0;
		if (sep == '+') {
			if (s[i] != '+') {
				/* "+a": a name that starts with '+'. */
				while (i < len && s[i] != '+')
					i++;
				keys_set_err(err_off, err_len, start,
					     i - start);
				return -ENOENT;
			}
			i++;
			if (i == len) {
				keys_set_err(err_off, err_len, i, 0);
				return -EINVAL;
			}
		}
	}
}

int keys_parse_chord(const char *s, size_t len, char sep, struct key_chord *out)
{
	if (!s || !out)
		return -EINVAL;
	return keys_chord_parse(s, len, sep, out, NULL, NULL);
}

static int keys_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int keys_parse_sequence(const char *s, struct key_chord *out, size_t max,
			size_t *n, size_t *err_off, size_t *err_len)
{
	size_t i = 0, count = 0;

	*n = 0;
	for (;;) {
		size_t start, off, elen;
		int err;

		while (s[i] && keys_blank(s[i]))
			i++;
		if (!s[i])
			break;
		start = i;
		while (s[i] && !keys_blank(s[i]))
			i++;
		if (count == max) {
			keys_set_err(err_off, err_len, start, i - start);
			return -E2BIG;
		}
		err = keys_chord_parse(s + start, i - start, '+', &out[count],
				       &off, &elen);
		if (err) {
			keys_set_err(err_off, err_len, start + off, elen);
			return err;
		}
		count++;
	}
	if (!count) {
		keys_set_err(err_off, err_len, 0, 0);
		return -EINVAL;
	}
	*n = count;
	return 0;
}

const char *keys_name(uint8_t usage)
{
	size_t i;

	for (i = 0; i < KEYS_N; i++) {
		if (keys_table[i].usage == usage)
			return keys_table[i].name;
	}
	return NULL;
}

const char *keys_table_name(size_t i, uint8_t *usage)
{
	if (i >= KEYS_N)
		return NULL;
	if (usage)
		*usage = keys_table[i].usage;
	return keys_table[i].name;
}
