/* Key lines of a macro script: a chord, HOLD, RELEASE and SPAM. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "firmware/macro/macro_parse_priv.h"

/*
 * Every blank-separated word of s is a key of one chord: a name, or
 * names joined by '+' or '-' (gadget/keys.c's keys_chord_parse).
 */
static int macro_parse_chord_line(struct macro_parser *p, const char *s,
				  size_t len, struct key_chord *c,
				  const char *what)
{
	size_t off = 0, n = 0;
	char b[48];
	int r = keys_chord_parse(s, len, ' ', c, &off, &n);

	if (r == -E2BIG)
		return macro_parse_error(
			p, -EINVAL,
			"more than %d keys in one chord (modifiers "
			"aside)",
			KEYS_CHORD_MAX);
	if (r)
		return macro_parse_error(p, -EINVAL, "%s \"%s\"", what,
					 macro_lex_shown(s + off, n, b));
	return 0;
}

int macro_parse_hold(struct macro_parser *p, char *args, size_t len)
{
	struct key_chord c;
	struct macro_op *op;
	int r;

	if (!len)
		return macro_parse_error(p, -EINVAL,
					 "HOLD needs a key (e.g. HOLD SHIFT)");
	r = macro_parse_chord_line(p, args, len, &c, "unknown key");
	if (r)
		return r;
	op = macro_parse_op_new(p, MACRO_OP_HOLD);
	if (!op)
		return -ENOMEM;
	op->u.chord = c;
	return 0;
}

int macro_parse_release(struct macro_parser *p, char *args, size_t len)
{
	struct key_chord c = {0};
	struct macro_op *op;
	int r;

	/* RELEASE alone (or RELEASE ALL) lets every key go. */
	if (len && !(len == 3 && !strncasecmp(args, "all", 3))) {
		r = macro_parse_chord_line(p, args, len, &c, "unknown key");
		if (r)
			return r;
	}
	op = macro_parse_op_new(p, MACRO_OP_RELEASE);
	if (!op)
		return -ENOMEM;
	op->u.chord = c;
	return 0;
}

int macro_parse_spam(struct macro_parser *p, char *args, size_t len)
{
	size_t i = 0, s[MACRO_SPAM_KEYS_MAX + 2], n[MACRO_SPAM_KEYS_MAX + 2];
	struct key_chord keys[MACRO_SPAM_KEYS_MAX];
	size_t w = 0, nkeys;
	uint32_t every, span;
	struct macro_op *op;
	char b[48];
	int r;

	while (i < len) {
		size_t s0, n0 = macro_lex_word(args, len, &i, &s0);

		if (!n0)
			break;
		if (w == MACRO_SPAM_KEYS_MAX + 2)
			return macro_parse_error(
				p, -EINVAL,
				"SPAM takes at most %d keys, then every "
				"and for times",
				MACRO_SPAM_KEYS_MAX);
		s[w] = s0;
		n[w++] = n0;
	}
	if (w < 3)
		return macro_parse_error(
			p, -EINVAL,
			"SPAM needs keys, how often and how long (e.g. "
			"SPAM F2 100ms 30s)");
	nkeys = w - 2;
	for (size_t k = 0; k < nkeys; k++) {
		r = keys_chord_parse(args + s[k], n[k], ' ', &keys[k], NULL,
				     NULL);
		if (r)
			return macro_parse_error(
				p, -EINVAL, "SPAM: unknown key \"%s\"",
				macro_lex_shown(args + s[k], n[k], b));
	}
	r = macro_lex_duration(p, args + s[w - 2], n[w - 2],
			       MACRO_SPAM_EVERY_MAX_MS, "SPAM every", &every);
	if (r)
		return r;
	if (every < MACRO_SPAM_EVERY_MIN_MS)
		return macro_parse_error(
			p, -EINVAL,
			"SPAM every must be at least %d ms (a host takes "
			"keys no faster)",
			MACRO_SPAM_EVERY_MIN_MS);
	r = macro_lex_duration(p, args + s[w - 1], n[w - 1], MACRO_DELAY_MAX_MS,
			       "SPAM for", &span);
	if (r)
		return r;
	if (span < every)
		return macro_parse_error(
			p, -EINVAL,
			"SPAM for (%u ms) is shorter than every (%u ms)", span,
			every);
	op = macro_parse_op_new(p, MACRO_OP_SPAM);
	if (!op)
		return -ENOMEM;
	memcpy(op->u.spam.keys, keys, sizeof(keys[0]) * nkeys);
	op->u.spam.n = (uint8_t)nkeys;
	op->u.spam.every_ms = every;
	op->u.spam.for_ms = span;
	return 0;
}

/*
 * Not a command: a line of keys, pressed together. s is the line from
 * its first word (n bytes) on, len bytes in all.
 */
int macro_parse_key_line(struct macro_parser *p, const char *s, size_t n,
			 size_t len)
{
	struct key_chord c;
	struct macro_op *op;
	char b[48];
	int r;

	r = keys_chord_parse(s, n, ' ', &c, NULL, NULL);
	if (r == -ENOENT)
		return macro_parse_error(p, -EINVAL,
					 "unknown command or key \"%s\"",
					 macro_lex_shown(s, n, b));
	r = macro_parse_chord_line(p, s, macro_lex_trim_end(s, len), &c,
				   "unknown key");
	if (r)
		return r;
	op = macro_parse_op_new(p, MACRO_OP_CHORD);
	if (!op)
		return -ENOMEM;
	op->u.chord = c;
	return 0;
}
