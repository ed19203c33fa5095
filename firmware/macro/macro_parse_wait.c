/*
 * The WAIT_* lines of a macro script: USB state, keyboard LEDs, the
 * server phase, reads of the virtual media and console patterns (with
 * what a pattern may cost).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firmware/host/phase.h"
#include "firmware/macro/macro_parse_priv.h"

/* The index whose name is the word (case aside; '_' stands for sep), or
 * -1. */
static int macro_parse_wait_name(const char *w, size_t n,
				 const char *(*name_of)(int), int count,
				 char sep)
{
	for (int i = 0; i < count && n; i++) {
		const char *name = name_of(i);
		size_t k;

		if (strlen(name) != n)
			continue;
		for (k = 0; k < n; k++) {
			char c = w[k] == '_' ? sep : w[k];

			if ((c | 0x20) != (name[k] | 0x20))
				break;
		}
		if (k == n)
			return i;
	}
	return -1;
}

/* One kind of "WAIT_X <name> <timeout>" line. */
struct macro_wait_kind {
	const char *what;    /* WAIT_USB */
	const char *noun;    /* state */
	const char *choices; /* configured, suspended or not_attached */
	const char *(*name_of)(int);
	int count;
	char sep;
};

/* The index of the line's name in the kind's table in *want, and the
 * timeout in *ms; or the error, reported. */
static int macro_parse_wait_named(struct macro_parser *p, char *args,
				  size_t len, const struct macro_wait_kind *k,
				  int *want, uint32_t *ms)
{
	size_t i = 0, s0, n0, s1, n1;
	char b[48], tmo[32];

	n0 = macro_lex_word(args, len, &i, &s0);
	n1 = macro_lex_word(args, len, &i, &s1);
	if (i < len && macro_lex_word(args, len, &i, &s1))
		return macro_parse_error(p, -EINVAL,
					 "%s takes a %s and a timeout, no more",
					 k->what, k->noun);
	*want = macro_parse_wait_name(args + s0, n0, k->name_of, k->count,
				      k->sep);
	if (*want < 0)
		return macro_parse_error(
			p, -EINVAL, "%s needs a %s: %s, not \"%s\"", k->what,
			k->noun, k->choices, macro_lex_shown(args + s0, n0, b));
	snprintf(tmo, sizeof(tmo), "%s timeout", k->what);
	return macro_lex_timeout(p, args + s1, n1, tmo, ms);
}

static const char *macro_parse_usb_name(int i)
{
	return udc_state_name((enum udc_state)i);
}

static const char *macro_parse_phase_name(int i)
{
	return phase_name((enum phase)i);
}

int macro_parse_wait_usb(struct macro_parser *p, char *args, size_t len)
{
	static const struct macro_wait_kind usb = {
		"WAIT_USB",
		"state",
		"configured, suspended or not_attached",
		macro_parse_usb_name,
		UDC_STATE_UNKNOWN,
		' ',
	};
	struct macro_op *op;
	uint32_t ms;
	int want, r;

	r = macro_parse_wait_named(p, args, len, &usb, &want, &ms);
	if (r)
		return r;
	op = macro_parse_op_new(p, MACRO_OP_WAIT_USB);
	if (!op)
		return -ENOMEM;
	op->u.usb.want = (enum udc_state)want;
	op->u.usb.timeout_ms = ms;
	return 0;
}

int macro_parse_wait_phase(struct macro_parser *p, char *args, size_t len)
{
	static const struct macro_wait_kind phase = {
		"WAIT_PHASE",
		"phase",
		"off, firmware, booting-media, os, asleep or unknown",
		macro_parse_phase_name,
		PHASE_COUNT,
		'-',
	};
	struct macro_op *op;
	uint32_t ms;
	int want, r;

	r = macro_parse_wait_named(p, args, len, &phase, &want, &ms);
	if (r)
		return r;
	op = macro_parse_op_new(p, MACRO_OP_WAIT_PHASE);
	if (!op)
		return -ENOMEM;
	op->u.phase.want = want;
	op->u.phase.timeout_ms = ms;
	return 0;
}

int macro_parse_wait_media_read(struct macro_parser *p, char *args, size_t len)
{
	size_t i = 0, s0, n0;
	struct macro_op *op;
	uint32_t ms;
	int r;

	n0 = macro_lex_word(args, len, &i, &s0);
	if (i < len && macro_lex_word(args, len, &i, &s0))
		return macro_parse_error(
			p, -EINVAL, "WAIT_MEDIA_READ takes a timeout, no more");
	r = macro_lex_timeout(p, args + s0, n0, "WAIT_MEDIA_READ timeout", &ms);
	if (r)
		return r;
	op = macro_parse_op_new(p, MACRO_OP_WAIT_MEDIA_READ);
	if (!op)
		return -ENOMEM;
	op->u.media_read.timeout_ms = ms;
	return 0;
}

int macro_parse_wait_led(struct macro_parser *p, char *args, size_t len)
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

	n0 = macro_lex_word(args, len, &i, &s0);
	for (size_t k = 0; k < sizeof(leds) / sizeof(leds[0]); k++)
		if (strlen(leds[k].name) == n0 &&
		    !strncasecmp(args + s0, leds[k].name, n0))
			bit = leds[k].bit;
	if (!bit)
		return macro_parse_error(
			p, -EINVAL,
			"WAIT_LED needs caps, num or scroll, not \"%s\"",
			macro_lex_shown(args + s0, n0, b));
	n1 = macro_lex_word(args, len, &i, &s1);
	for (size_t k = 0; n1 && k < sizeof(wants) / sizeof(wants[0]); k++) {
		if (strlen(wants[k]) == n1 &&
		    !strncasecmp(args + s1, wants[k], n1)) {
			want = (enum macro_led_want)k;
			n1 = macro_lex_word(args, len, &i, &s1);
			break;
		}
	}
	if (i < len && macro_lex_word(args, len, &i, &s0))
		return macro_parse_error(
			p, -EINVAL,
			"WAIT_LED takes an LED, on/off/change and a "
			"timeout, no more");
	r = macro_lex_timeout(p, args + s1, n1, "WAIT_LED timeout", &ms);
	if (r)
		return r;
	op = macro_parse_op_new(p, MACRO_OP_WAIT_LED);
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
static int macro_parse_regex_cost(struct macro_parser *p, const char *pat,
				  size_t len, uint64_t *weight)
{
	uint64_t prod = 1;

	for (size_t i = 0; i < len; i++) {
		uint64_t lo = 0, hi = 0;
		size_t k = i + 1;

		if (pat[i] == '\\' && i + 1 < len) {
			if (pat[i + 1] >= '1' && pat[i + 1] <= '9')
				return macro_parse_error(
					p, -EINVAL,
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
			return macro_parse_error(
				p, -EINVAL,
				"WAIT_CONSOLE: the pattern's repetition "
				"counts {...} multiply to more than %d",
				MACRO_REGEX_REPEAT);
	}
	*weight = (uint64_t)len * prod;
	if (p->regex_weight + *weight > MACRO_REGEX_WEIGHT)
		return macro_parse_error(
			p, -EINVAL,
			"WAIT_CONSOLE: the patterns of the macro are too "
			"large together (length times repetition counts "
			"over %d)",
			MACRO_REGEX_WEIGHT);
	return 0;
}

int macro_parse_wait_console(struct macro_parser *p, char *args, size_t len)
{
	char *end = len ? memrchr(args, '/', len) : NULL;
	size_t plen, i, s0, n0;
	struct macro_op *op;
	uint64_t weight = 0;
	regex_t *re;
	uint32_t ms;
	int r;

	if (!len || args[0] != '/' || end == args)
		return macro_parse_error(
			p, -EINVAL,
			"WAIT_CONSOLE needs a pattern between slashes "
			"(e.g. WAIT_CONSOLE /login:/ 2m)");
	plen = (size_t)(end - args) - 1;
	if (!plen)
		return macro_parse_error(p, -EINVAL,
					 "WAIT_CONSOLE: the pattern is empty");
	if (plen > MACRO_REGEX_MAX)
		return macro_parse_error(
			p, -EINVAL,
			"WAIT_CONSOLE: the pattern is longer than %d bytes",
			MACRO_REGEX_MAX);
	if (p->nregex == MACRO_REGEXES_MAX)
		return macro_parse_error(p, -EINVAL,
					 "more than %d WAIT_CONSOLE lines",
					 MACRO_REGEXES_MAX);
	i = (size_t)(end - args) + 1;
	n0 = macro_lex_word(args, len, &i, &s0);
	if (i < len && macro_lex_word(args, len, &i, &s0))
		return macro_parse_error(
			p, -EINVAL,
			"WAIT_CONSOLE takes a /pattern/ and a timeout, no "
			"more");
	r = macro_lex_timeout(p, args + s0, n0, "WAIT_CONSOLE timeout", &ms);
	if (!r)
		r = macro_parse_regex_cost(p, args + 1, plen, &weight);
	if (r)
		return r;
	re = calloc(1, sizeof(*re));
	if (!re)
		return macro_parse_error(p, -ENOMEM, "out of memory");
	*end = '\0';
	r = regcomp(re, args + 1, REG_EXTENDED | REG_NOSUB);
	if (r) {
		char msg[100];

		regerror(r, re, msg, sizeof(msg));
		free(re);
		return macro_parse_error(p, -EINVAL,
					 "WAIT_CONSOLE: bad pattern: %s", msg);
	}
	op = macro_parse_op_new(p, MACRO_OP_WAIT_CONSOLE);
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
