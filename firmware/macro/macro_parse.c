#include "firmware/macro/macro_parse.h"
#include "firmware/host/phase.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firmware/media/media_name.h"
#include "topics/payload.h"

struct parser {
	struct macro_script *s;
	struct macro_error *err;
	size_t cap;
	uint32_t line;
	uint32_t default_delay;
	int profile;
	const struct layout *layout; /* from LAYOUT, NULL before */
	const struct layout *deflt;
	int nregex;
	uint64_t regex_weight; /* see regex_cost() */
	/* The line before (REM and blank lines aside) made the last op. */
	bool repeatable;
};

struct parse_cmd {
	const char *name;
	int (*parse)(struct parser *p, char *args, size_t len);
};

static const char *const op_names[MACRO_OP_COUNT] = {
	[MACRO_OP_DELAY] = "DELAY",
	[MACRO_OP_TYPE] = "STRING",
	[MACRO_OP_CHORD] = "keys",
	[MACRO_OP_HOLD] = "HOLD",
	[MACRO_OP_RELEASE] = "RELEASE",
	[MACRO_OP_WAIT_USB] = "WAIT_USB",
	[MACRO_OP_WAIT_LED] = "WAIT_LED",
	[MACRO_OP_WAIT_PHASE] = "WAIT_PHASE",
	[MACRO_OP_WAIT_MEDIA_READ] = "WAIT_MEDIA_READ",
	[MACRO_OP_WAIT_CONSOLE] = "WAIT_CONSOLE",
	[MACRO_OP_SPAM] = "SPAM",
	[MACRO_OP_MEDIA] = "MEDIA",
	[MACRO_OP_REBOOT] = "REBOOT",
};

const char *macro_op_name(enum macro_op_kind k)
{
	return k < MACRO_OP_COUNT ? op_names[k] : "?";
}

static int perr(struct parser *p, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, int ret, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return ret;
}

/* A piece of the script for a message: cut, control bytes as '?'. */
static const char *shown(const char *s, size_t len, char buf[48])
{
	size_t i, n = len > 40 ? 40 : len;

	for (i = 0; i < n; i++)
		buf[i] =
			(unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next blank-separated word of s[*i..len), or length 0 at the end. */
static size_t word(const char *s, size_t len, size_t *i, size_t *start)
{
	while (*i < len && blank(s[*i]))
		(*i)++;
	*start = *i;
	while (*i < len && !blank(s[*i]))
		(*i)++;
	return *i - *start;
}

static size_t trim_end(const char *s, size_t len)
{
	while (len && blank(s[len - 1]))
		len--;
	return len;
}

int macro_duration(const char *s, size_t len, uint32_t max_ms, uint32_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {
		{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
	};
	uint64_t v = 0;
	size_t i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > (uint64_t)UINT32_MAX * 1000)
			return -ERANGE;
		i++;
	}
	if (i == 0)
		return -EINVAL;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strlen(units[u].unit) != len - i ||
		    strncasecmp(s + i, units[u].unit, len - i))
			continue;
		v *= units[u].mul;
		if (v > max_ms)
			return -ERANGE;
		*ms = (uint32_t)v;
		return 0;
	}
	return -EINVAL;
}

/* A duration argument with a message naming what it is for. */
static int pduration(struct parser *p, const char *s, size_t len,
		     uint32_t max_ms, const char *what, uint32_t *ms)
{
	char b[48];
	int r = macro_duration(s, len, max_ms, ms);

	if (r == -ERANGE)
		return perr(p, -EINVAL, "%s \"%s\" is longer than %u ms", what,
			    shown(s, len, b), max_ms);
	if (r)
		return perr(p, -EINVAL,
			    "%s \"%s\" is not a duration (e.g. 500, 500ms, "
			    "30s, 2m)",
			    what, shown(s, len, b));
	return 0;
}

/* Add one key name to a chord. Returns 0, -ENOENT or -E2BIG. */
static int chord_add_name(struct key_chord *c, const char *t, size_t len)
{
	uint8_t usage, mod;
	size_t i;

	if (keys_lookup(t, len, &usage, &mod))
		return -ENOENT;
	c->mods |= mod;
	if (!usage)
		return 0;
	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i] == usage)
			return 0;
	if (c->nkeys == KEYS_CHORD_MAX)
		return -E2BIG;
	c->keys[c->nkeys++] = usage;
	return 0;
}

/*
 * Add one key token to a chord: a name ("ENTER", "ctrl", "0x4c", "-"),
 * or names joined by '+' or '-' as some scripts write chords
 * ("CTRL-ALT", "ctrl+shift"). Returns 0, -ENOENT or -E2BIG.
 */
static int chord_add_token(struct key_chord *c, const char *t, size_t len)
{
	size_t i, start;
	int r = chord_add_name(c, t, len);

	if (r != -ENOENT || len < 3 ||
	    (!memchr(t, '+', len) && !memchr(t, '-', len)))
		return r;
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && t[i] != '+' && t[i] != '-')
			continue;
		if (i == start)
			return -ENOENT;
		r = chord_add_name(c, t + start, i - start);
		if (r)
			return r;
		start = i + 1;
	}
	return 0;
}

/* Every blank-separated word of s is a key of one chord. */
static int pchord(struct parser *p, const char *s, size_t len,
		  struct key_chord *c, const char *what)
{
	size_t i = 0, start, n;
	char b[48];

	memset(c, 0, sizeof(*c));
	while ((n = word(s, len, &i, &start))) {
		int r = chord_add_token(c, s + start, n);

		if (r == -E2BIG)
			return perr(p, -EINVAL,
				    "more than %d keys in one chord (modifiers "
				    "aside)",
				    KEYS_CHORD_MAX);
		if (r)
			return perr(p, -EINVAL, "%s \"%s\"", what,
				    shown(s + start, n, b));
	}
	return 0;
}

static struct macro_op *op_new(struct parser *p, enum macro_op_kind kind)
{
	struct macro_script *s = p->s;
	struct macro_op *op;

	if (s->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct macro_op *ops = realloc(s->ops, cap * sizeof(*ops));

		if (!ops) {
			perr(p, -ENOMEM, "out of memory");
			return NULL;
		}
		s->ops = ops;
		p->cap = cap;
	}
	op = &s->ops[s->n++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->line = p->line;
	op->runs = 1;
	op->profile = p->profile;
	op->layout = p->layout;
	if (kind == MACRO_OP_TYPE || kind == MACRO_OP_CHORD ||
	    kind == MACRO_OP_HOLD || kind == MACRO_OP_RELEASE)
		op->after_ms = p->default_delay;
	s->runs++;
	p->repeatable = kind == MACRO_OP_DELAY || kind == MACRO_OP_TYPE ||
			kind == MACRO_OP_CHORD;
	return op;
}

/* ---- the commands ---- */

static int p_rem(struct parser *p, char *args, size_t len)
{
	(void)p;
	(void)args;
	(void)len;
	return 0;
}

static int p_delay(struct parser *p, char *args, size_t len)
{
	struct macro_op *op;
	uint32_t ms;
	int r;

	if (!len)
		return perr(p, -EINVAL, "DELAY needs a time (e.g. DELAY 500)");
	r = pduration(p, args, len, MACRO_DELAY_MAX_MS, "DELAY", &ms);
	if (r)
		return r;
	op = op_new(p, MACRO_OP_DELAY);
	if (!op)
		return -ENOMEM;
	op->u.ms = ms;
	return 0;
}

static int p_default_delay(struct parser *p, char *args, size_t len)
{
	int r;

	if (!len)
		return perr(p, -EINVAL,
			    "DEFAULT_DELAY needs a time (e.g. DEFAULT_DELAY "
			    "100)");
	r = pduration(p, args, len, MACRO_DEFAULT_DELAY_MAX_MS, "DEFAULT_DELAY",
		      &p->default_delay);
	p->repeatable = false;
	return r;
}

static int p_text(struct parser *p, char *args, size_t len, bool enter)
{
	const struct layout *l = p->layout ? p->layout : p->deflt;
	struct typing_plan plan = {0};
	struct macro_op *op;
	size_t pos = 0;
	uint32_t cp = 0;
	int r;

	/* Typed once into a plan here, so that what fails, fails now. */
	r = typing_plan_text(&plan, l, args, len, TYPING_FAST, &pos, &cp);
	typing_plan_free(&plan);
	if (r == -ENOENT)
		return perr(p, -EINVAL,
			    "character U+%04X at position %zu cannot be typed "
			    "in layout %s",
			    (unsigned)cp, pos + 1, l->name);
	if (r == -EILSEQ)
		return perr(p, -EINVAL, "the text is not valid UTF-8");
	if (r)
		return perr(p, r, "cannot type the text: %s", strerror(-r));
	op = op_new(p, MACRO_OP_TYPE);
	if (!op)
		return -ENOMEM;
	op->u.text.s = args;
	op->u.text.len = len;
	op->u.text.enter = enter;
	return 0;
}

static int p_string(struct parser *p, char *args, size_t len)
{
	return p_text(p, args, len, false);
}

static int p_stringln(struct parser *p, char *args, size_t len)
{
	return p_text(p, args, len, true);
}

static int p_repeat(struct parser *p, char *args, size_t len)
{
	struct macro_op *op;
	uint64_t n = 0;
	size_t i;

	if (!len)
		return perr(p, -EINVAL, "REPEAT needs a count (e.g. REPEAT 3)");
	for (i = 0; i < len; i++) {
		if (args[i] < '0' || args[i] > '9')
			return perr(p, -EINVAL,
				    "REPEAT needs a whole number, not \"%.*s\"",
				    (int)(len > 20 ? 20 : len), args);
		n = n * 10 + (uint64_t)(args[i] - '0');
		if (n > MACRO_REPEAT_MAX)
			break;
	}
	if (n < 1 || n > MACRO_REPEAT_MAX)
		return perr(p, -EINVAL, "REPEAT count must be 1 to %d",
			    MACRO_REPEAT_MAX);
	if (!p->s->n || !p->repeatable)
		return perr(p, -EINVAL,
			    "REPEAT repeats the line before it, which must be "
			    "STRING, STRINGLN, DELAY or keys");
	op = &p->s->ops[p->s->n - 1];
	if (op->runs + n > MACRO_REPEAT_MAX)
		return perr(p, -EINVAL, "line %u would run more than %d times",
			    (unsigned)op->line, MACRO_REPEAT_MAX);
	if (p->s->runs + n > MACRO_STEPS_MAX)
		return perr(p, -EINVAL,
			    "the macro would run more than %d steps",
			    MACRO_STEPS_MAX);
	op->runs += (uint32_t)n;
	p->s->runs += n;
	return 0;
}

static int p_hold(struct parser *p, char *args, size_t len)
{
	struct key_chord c;
	struct macro_op *op;
	int r;

	if (!len)
		return perr(p, -EINVAL, "HOLD needs a key (e.g. HOLD SHIFT)");
	r = pchord(p, args, len, &c, "unknown key");
	if (r)
		return r;
	op = op_new(p, MACRO_OP_HOLD);
	if (!op)
		return -ENOMEM;
	op->u.chord = c;
	return 0;
}

static int p_release(struct parser *p, char *args, size_t len)
{
	struct key_chord c = {0};
	struct macro_op *op;
	int r;

	/* RELEASE alone (or RELEASE ALL) lets every key go. */
	if (len && !(len == 3 && !strncasecmp(args, "all", 3))) {
		r = pchord(p, args, len, &c, "unknown key");
		if (r)
			return r;
	}
	op = op_new(p, MACRO_OP_RELEASE);
	if (!op)
		return -ENOMEM;
	op->u.chord = c;
	return 0;
}

static int p_layout(struct parser *p, char *args, size_t len)
{
	const struct layout *l;
	char b[48];

	p->repeatable = false;
	if (!len)
		return perr(p, -EINVAL, "LAYOUT needs a layout name (e.g. de)");
	args[len] = '\0';
	l = layout_find(args);
	if (!l)
		return perr(p, -EINVAL, "unknown layout \"%s\"",
			    shown(args, len, b));
	p->layout = l;
	return 0;
}

static int p_profile(struct parser *p, char *args, size_t len)
{
	enum typing_profile prof;
	char b[48];

	p->repeatable = false;
	args[len] = '\0';
	if (!len || typing_profile_parse(args, &prof))
		return perr(p, -EINVAL, "unknown profile \"%s\" (fast or bios)",
			    shown(args, len, b));
	p->profile = (int)prof;
	return 0;
}

/* An optional timeout as the last argument. */
static int ptimeout(struct parser *p, const char *s, size_t len,
		    const char *cmd, uint32_t *ms)
{
	*ms = MACRO_WAIT_DEFAULT_MS;
	if (!len)
		return 0;
	return pduration(p, s, len, MACRO_DELAY_MAX_MS, cmd, ms);
}

static int p_wait_usb(struct parser *p, char *args, size_t len)
{
	size_t i = 0, s0, n0, s1, n1;
	enum udc_state want = UDC_STATE_UNKNOWN;
	struct macro_op *op;
	uint32_t ms;
	char b[48];
	int r;

	n0 = word(args, len, &i, &s0);
	n1 = word(args, len, &i, &s1);
	if (i < len && word(args, len, &i, &s1))
		return perr(p, -EINVAL,
			    "WAIT_USB takes a state and a timeout, no more");
	for (int st = 0; st < UDC_STATE_UNKNOWN && n0; st++) {
		const char *name = udc_state_name((enum udc_state)st);
		size_t k;

		if (strlen(name) != n0)
			continue;
		for (k = 0; k < n0; k++) {
			char c = args[s0 + k] == '_' ? ' ' : args[s0 + k];

			if ((c | 0x20) != (name[k] | 0x20))
				break;
		}
		if (k == n0) {
			want = (enum udc_state)st;
			break;
		}
	}
	if (want == UDC_STATE_UNKNOWN)
		return perr(p, -EINVAL,
			    "WAIT_USB needs a state: configured, suspended or "
			    "not_attached, not \"%s\"",
			    shown(args + s0, n0, b));
	r = ptimeout(p, args + s1, n1, "WAIT_USB timeout", &ms);
	if (r)
		return r;
	op = op_new(p, MACRO_OP_WAIT_USB);
	if (!op)
		return -ENOMEM;
	op->u.usb.want = want;
	op->u.usb.timeout_ms = ms;
	return 0;
}

static int p_wait_phase(struct parser *p, char *args, size_t len)
{
	size_t i = 0, s0, n0, s1, n1;
	struct macro_op *op;
	int want = -1;
	uint32_t ms;
	char b[48];
	int r;

	n0 = word(args, len, &i, &s0);
	n1 = word(args, len, &i, &s1);
	if (i < len && word(args, len, &i, &s1))
		return perr(p, -EINVAL,
			    "WAIT_PHASE takes a phase and a timeout, no more");
	for (int ph = 0; ph < PHASE_COUNT && n0; ph++) {
		const char *name = phase_name((enum phase)ph);
		size_t k;

		if (strlen(name) != n0)
			continue;
		for (k = 0; k < n0; k++) {
			char c = args[s0 + k] == '_' ? '-' : args[s0 + k];

			if ((c | 0x20) != (name[k] | 0x20))
				break;
		}
		if (k == n0) {
			want = ph;
			break;
		}
	}
	if (want < 0)
		return perr(p, -EINVAL,
			    "WAIT_PHASE needs a phase: off, firmware, "
			    "booting-media, os, asleep or unknown, not \"%s\"",
			    shown(args + s0, n0, b));
	r = ptimeout(p, args + s1, n1, "WAIT_PHASE timeout", &ms);
	if (r)
		return r;
	op = op_new(p, MACRO_OP_WAIT_PHASE);
	if (!op)
		return -ENOMEM;
	op->u.phase.want = want;
	op->u.phase.timeout_ms = ms;
	return 0;
}

static int p_wait_media_read(struct parser *p, char *args, size_t len)
{
	size_t i = 0, s0, n0;
	struct macro_op *op;
	uint32_t ms;
	int r;

	n0 = word(args, len, &i, &s0);
	if (i < len && word(args, len, &i, &s0))
		return perr(p, -EINVAL,
			    "WAIT_MEDIA_READ takes a timeout, no more");
	r = ptimeout(p, args + s0, n0, "WAIT_MEDIA_READ timeout", &ms);
	if (r)
		return r;
	op = op_new(p, MACRO_OP_WAIT_MEDIA_READ);
	if (!op)
		return -ENOMEM;
	op->u.media_read.timeout_ms = ms;
	return 0;
}

static int p_wait_led(struct parser *p, char *args, size_t len)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} leds[] = {
		{"caps", HID_LED_CAPS},	    {"capslock", HID_LED_CAPS},
		{"num", HID_LED_NUM},	    {"numlock", HID_LED_NUM},
		{"scroll", HID_LED_SCROLL}, {"scrolllock", HID_LED_SCROLL},
	};
	static const char *const wants[] = {"on", "off", "change"};
	size_t i = 0, s0, n0, s1, n1;
	enum macro_led_want want = MACRO_LED_ON;
	struct macro_op *op;
	uint8_t bit = 0;
	uint32_t ms;
	char b[48];
	int r;

	n0 = word(args, len, &i, &s0);
	for (size_t k = 0; k < sizeof(leds) / sizeof(leds[0]); k++)
		if (strlen(leds[k].name) == n0 &&
		    !strncasecmp(args + s0, leds[k].name, n0))
			bit = leds[k].bit;
	if (!bit)
		return perr(p, -EINVAL,
			    "WAIT_LED needs caps, num or scroll, not \"%s\"",
			    shown(args + s0, n0, b));
	n1 = word(args, len, &i, &s1);
	for (size_t k = 0; n1 && k < sizeof(wants) / sizeof(wants[0]); k++) {
		if (strlen(wants[k]) == n1 &&
		    !strncasecmp(args + s1, wants[k], n1)) {
			want = (enum macro_led_want)k;
			n1 = word(args, len, &i, &s1);
			break;
		}
	}
	if (i < len && word(args, len, &i, &s0))
		return perr(p, -EINVAL,
			    "WAIT_LED takes an LED, on/off/change and a "
			    "timeout, no more");
	r = ptimeout(p, args + s1, n1, "WAIT_LED timeout", &ms);
	if (r)
		return r;
	op = op_new(p, MACRO_OP_WAIT_LED);
	if (!op)
		return -ENOMEM;
	op->u.led.bit = bit;
	op->u.led.want = want;
	op->u.led.timeout_ms = ms;
	return 0;
}

/*
 * What a pattern may cost. glibc's regcomp() copies a group once per
 * count of an interval, so nested intervals multiply: "((a{255}){255})
 * {255}" takes gigabytes and many seconds to compile, in the agent's
 * loop. Back-references make regexec() exponential. So back-references
 * are refused, the counts of all intervals of a pattern may multiply to
 * at most MACRO_REGEX_REPEAT, and the script's patterns together may
 * weigh (length times that product) at most MACRO_REGEX_WEIGHT.
 */
static int regex_cost(struct parser *p, const char *pat, size_t len,
		      uint64_t *weight)
{
	uint64_t prod = 1;

	for (size_t i = 0; i < len; i++) {
		uint64_t lo = 0, hi = 0;
		size_t k = i + 1;

		if (pat[i] == '\\' && i + 1 < len) {
			if (pat[i + 1] >= '1' && pat[i + 1] <= '9')
				return perr(p, -EINVAL,
					    "WAIT_CONSOLE: back-references "
					    "(\\%c) are not supported",
					    pat[i + 1]);
			i++;
			continue;
		}
		if (pat[i] != '{')
			continue;
		while (k < len && pat[k] >= '0' && pat[k] <= '9' && lo < 100000)
			lo = lo * 10 + (uint64_t)(pat[k++] - '0');
		hi = lo;
		if (k < len && pat[k] == ',') {
			hi = 0;
			for (k++; k < len && pat[k] >= '0' && pat[k] <= '9' &&
				  hi < 100000;
			     k++)
				hi = hi * 10 + (uint64_t)(pat[k] - '0');
			if (hi < lo)
				hi = lo; /* "{m,}": m copies and a star */
		}
		prod *= hi > 1 ? hi : 1;
		if (prod > MACRO_REGEX_REPEAT)
			return perr(p, -EINVAL,
				    "WAIT_CONSOLE: the pattern's repetition "
				    "counts {...} multiply to more than %d",
				    MACRO_REGEX_REPEAT);
	}
	*weight = (uint64_t)len * prod;
	if (p->regex_weight + *weight > MACRO_REGEX_WEIGHT)
		return perr(p, -EINVAL,
			    "WAIT_CONSOLE: the patterns of the macro are too "
			    "large together (length times repetition counts "
			    "over %d)",
			    MACRO_REGEX_WEIGHT);
	return 0;
}

static int p_wait_console(struct parser *p, char *args, size_t len)
{
	char *end = len ? memrchr(args, '/', len) : NULL;
	size_t plen, i, s0, n0;
	struct macro_op *op;
	uint64_t weight = 0;
	regex_t *re;
	uint32_t ms;
	int r;

	if (!len || args[0] != '/' || end == args)
		return perr(p, -EINVAL,
			    "WAIT_CONSOLE needs a pattern between slashes "
			    "(e.g. WAIT_CONSOLE /login:/ 2m)");
	plen = (size_t)(end - args) - 1;
	if (!plen)
		return perr(p, -EINVAL, "WAIT_CONSOLE: the pattern is empty");
	if (plen > MACRO_REGEX_MAX)
		return perr(p, -EINVAL,
			    "WAIT_CONSOLE: the pattern is longer than %d bytes",
			    MACRO_REGEX_MAX);
	if (p->nregex == MACRO_REGEXES_MAX)
		return perr(p, -EINVAL, "more than %d WAIT_CONSOLE lines",
			    MACRO_REGEXES_MAX);
	i = (size_t)(end - args) + 1;
	n0 = word(args, len, &i, &s0);
	if (i < len && word(args, len, &i, &s0))
		return perr(p, -EINVAL,
			    "WAIT_CONSOLE takes a /pattern/ and a timeout, no "
			    "more");
	r = ptimeout(p, args + s0, n0, "WAIT_CONSOLE timeout", &ms);
	if (!r)
		r = regex_cost(p, args + 1, plen, &weight);
	if (r)
		return r;
	re = calloc(1, sizeof(*re));
	if (!re)
		return perr(p, -ENOMEM, "out of memory");
	*end = '\0';
	r = regcomp(re, args + 1, REG_EXTENDED | REG_NOSUB);
	if (r) {
		char msg[100];

		regerror(r, re, msg, sizeof(msg));
		free(re);
		return perr(p, -EINVAL, "WAIT_CONSOLE: bad pattern: %s", msg);
	}
	op = op_new(p, MACRO_OP_WAIT_CONSOLE);
	if (!op) {
		regfree(re);
		free(re);
		return -ENOMEM;
	}
	p->nregex++;
	p->regex_weight += weight;
	op->u.console.re = re;
	op->u.console.pattern = args + 1;
	op->u.console.timeout_ms = ms;
	return 0;
}

static int p_spam(struct parser *p, char *args, size_t len)
{
	size_t i = 0, s[MACRO_SPAM_KEYS_MAX + 2], n[MACRO_SPAM_KEYS_MAX + 2];
	struct key_chord keys[MACRO_SPAM_KEYS_MAX];
	size_t w = 0, nkeys;
	uint32_t every, span;
	struct macro_op *op;
	char b[48];
	int r;

	while (i < len) {
		size_t s0, n0 = word(args, len, &i, &s0);

		if (!n0)
			break;
		if (w == MACRO_SPAM_KEYS_MAX + 2)
			return perr(p, -EINVAL,
				    "SPAM takes at most %d keys, then every "
				    "and for times",
				    MACRO_SPAM_KEYS_MAX);
		s[w] = s0;
		n[w++] = n0;
	}
	if (w < 3)
		return perr(p, -EINVAL,
			    "SPAM needs keys, how often and how long (e.g. "
			    "SPAM F2 100ms 30s)");
	nkeys = w - 2;
	for (size_t k = 0; k < nkeys; k++) {
		memset(&keys[k], 0, sizeof(keys[k]));
		r = chord_add_token(&keys[k], args + s[k], n[k]);
		if (r)
			return perr(p, -EINVAL, "SPAM: unknown key \"%s\"",
				    shown(args + s[k], n[k], b));
	}
	r = pduration(p, args + s[w - 2], n[w - 2], MACRO_SPAM_EVERY_MAX_MS,
		      "SPAM every", &every);
	if (r)
		return r;
	if (every < MACRO_SPAM_EVERY_MIN_MS)
		return perr(p, -EINVAL,
			    "SPAM every must be at least %d ms (a host takes "
			    "keys no faster)",
			    MACRO_SPAM_EVERY_MIN_MS);
	r = pduration(p, args + s[w - 1], n[w - 1], MACRO_DELAY_MAX_MS,
		      "SPAM for", &span);
	if (r)
		return r;
	if (span < every)
		return perr(p, -EINVAL,
			    "SPAM for (%u ms) is shorter than every (%u ms)",
			    span, every);
	op = op_new(p, MACRO_OP_SPAM);
	if (!op)
		return -ENOMEM;
	memcpy(op->u.spam.keys, keys, sizeof(keys[0]) * nkeys);
	op->u.spam.n = (uint8_t)nkeys;
	op->u.spam.every_ms = every;
	op->u.spam.for_ms = span;
	return 0;
}

static int p_media(struct parser *p, char *args, size_t len)
{
	struct macro_op *op;
	size_t at = 0;
	enum media_rule rule;
	char msg[200];

	if (!len)
		return perr(p, -EINVAL, "MEDIA needs an image name or eject");
	if (!(len == 5 && !strncasecmp(args, "eject", 5))) {
		rule = media_name_check(args, len, &at);
		if (rule != MEDIA_RULE_OK) {
			media_rule_format(rule, args, len, at, msg,
					  sizeof(msg));
			return perr(p, -EINVAL, "MEDIA: %s", msg);
		}
	}
	op = op_new(p, MACRO_OP_MEDIA);
	if (!op)
		return -ENOMEM;
	args[len] = '\0';
	op->u.media.name = strcasecmp(args, "eject") ? args : NULL;
	return 0;
}

static int p_reboot(struct parser *p, char *args, size_t len)
{
	static const char *const modes[] = {"soft", "sysrq", "hard"};
	struct macro_op *op;
	int mode = len ? -1 : MACRO_REBOOT_SOFT;
	char b[48];

	for (int k = 0; len && k < 3; k++)
		if (strlen(modes[k]) == len &&
		    !strncasecmp(args, modes[k], len))
			mode = k;
	if (mode < 0)
		return perr(p, -EINVAL,
			    "REBOOT soft, sysrq or hard, not \"%s\"",
			    shown(args, len, b));
	op = op_new(p, MACRO_OP_REBOOT);
	if (!op)
		return -ENOMEM;
	op->u.reboot = (enum macro_reboot)mode;
	return 0;
}

static const struct parse_cmd parse_cmds[] = {
	{"REM", p_rem},
	{"DELAY", p_delay},
	{"DEFAULT_DELAY", p_default_delay},
	{"DEFAULTDELAY", p_default_delay},
	{"STRING", p_string},
	{"STRINGLN", p_stringln},
	{"REPEAT", p_repeat},
	{"HOLD", p_hold},
	{"RELEASE", p_release},
	{"LAYOUT", p_layout},
	{"PROFILE", p_profile},
	{"WAIT_USB", p_wait_usb},
	{"WAIT_LED", p_wait_led},
	{"WAIT_PHASE", p_wait_phase},
	{"WAIT_MEDIA_READ", p_wait_media_read},
	{"WAIT_CONSOLE", p_wait_console},
	{"SPAM", p_spam},
	{"MEDIA", p_media},
	{"REBOOT", p_reboot},
};

/* One line, NUL-terminated at line[len], line ending removed. */
static int parse_line(struct parser *p, char *line, size_t len)
{
	size_t i = 0, start, n;
	struct key_chord c;
	struct macro_op *op;
	char b[48];
	int r;

	n = word(line, len, &i, &start);
	if (!n)
		return 0; /* blank */
	for (size_t k = 0; k < sizeof(parse_cmds) / sizeof(parse_cmds[0]);
	     k++) {
		const struct parse_cmd *pc = &parse_cmds[k];
		char *args;
		size_t alen;

		if (strlen(pc->name) != n ||
		    strncasecmp(line + start, pc->name, n))
			continue;
		if (pc->parse == p_string || pc->parse == p_stringln) {
			/* The text is kept as written: one blank after the
			 * command separates, the rest is typed. */
			args = line + i + (i < len);
			alen = len - (size_t)(args - line);
		} else {
			while (i < len && blank(line[i]))
				i++;
			args = line + i;
			alen = trim_end(args, len - i);
		}
		return pc->parse(p, args, alen);
	}
	/* Not a command: a line of keys, pressed together. */
	memset(&c, 0, sizeof(c));
	r = chord_add_token(&c, line + start, n);
	if (r == -ENOENT)
		return perr(p, -EINVAL, "unknown command or key \"%s\"",
			    shown(line + start, n, b));
	r = pchord(p, line + start, trim_end(line + start, len - start), &c,
		   "unknown key");
	if (r)
		return r;
	op = op_new(p, MACRO_OP_CHORD);
	if (!op)
		return -ENOMEM;
	op->u.chord = c;
	return 0;
}

void macro_script_free(struct macro_script *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->ops[i].kind == MACRO_OP_WAIT_CONSOLE) {
			regfree(s->ops[i].u.console.re);
			free(s->ops[i].u.console.re);
		}
	}
	free(s->ops);
	free(s->text);
	memset(s, 0, sizeof(*s));
}

int macro_parse(const char *script, size_t len, const struct layout *deflt,
		struct macro_script *out, struct macro_error *err)
{
	struct parser p = {
		.s = out,
		.err = err,
		.profile = -1,
		.deflt = deflt ? deflt : layout_find("us"),
	};
	size_t off = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (len > MACRO_FILE_MAX) {
		snprintf(err->msg, sizeof(err->msg),
			 "the macro is %zu bytes, more than %d", len,
			 MACRO_FILE_MAX);
		return -E2BIG;
	}
	if (len >= 3 && !memcmp(script, "\xef\xbb\xbf", 3)) {
		script += 3;
		len -= 3;
	}
	out->text = malloc(len + 1);
	if (!out->text) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	memcpy(out->text, script, len);
	out->text[len] = '\0';
	while (off < len && !r) {
		char *line = out->text + off;
		char *nl = memchr(line, '\n', len - off);
		size_t n = nl ? (size_t)(nl - line) : len - off;

		off += n + (nl != NULL);
		p.line++;
		if (p.line > MACRO_LINES_MAX) {
			r = perr(&p, -E2BIG, "more than %d lines",
				 MACRO_LINES_MAX);
			break;
		}
		if (n && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		if (n > MACRO_LINE_MAX)
			r = perr(&p, -E2BIG, "the line is longer than %d bytes",
				 MACRO_LINE_MAX);
		else if (strlen(line) != n)
			r = perr(&p, -EINVAL, "the line holds a NUL byte");
		else if (!payload_utf8_valid(line, n))
			r = perr(&p, -EINVAL, "the line is not valid UTF-8");
		else
			r = parse_line(&p, line, n);
	}
	out->lines = p.line;
	if (r) {
		macro_script_free(out);
		return r;
	}
	return 0;
}

void macro_error_format(const struct macro_error *e, char *buf, size_t len)
{
	if (e->line)
		snprintf(buf, len, "line %u: %s", (unsigned)e->line, e->msg);
	else
		snprintf(buf, len, "%s", e->msg);
}
