/*
 * The macro parser's driver and its plain commands (DELAY, STRING,
 * REPEAT, LAYOUT, PROFILE, MEDIA, REBOOT); lexing is in macro_lex.c, the
 * key lines in macro_parse_keys.c and the WAIT_* lines in
 * macro_parse_wait.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firmware/media/media_name.h"
#include "firmware/macro/macro_parse_priv.h"

struct parse_cmd {
	const char *name;
	int (*parse)(struct macro_parser *p, char *args, size_t len);
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

int macro_parse_error(struct macro_parser *p, int ret, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return ret;
}

struct macro_op *macro_parse_op_new(struct macro_parser *p,
				    enum macro_op_kind kind)
{
	struct macro_script *s = p->s;
	struct macro_op *op;

	if (s->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct macro_op *ops = realloc(s->ops, cap * sizeof(*ops));

		if (!ops) {
			macro_parse_error(p, -ENOMEM, "out of memory");
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

static int macro_parse_rem(struct macro_parser *p, char *args, size_t len)
{
	(void)p;
	(void)args;
	(void)len;
	return 0;
}

static int macro_parse_delay(struct macro_parser *p, char *args, size_t len)
{
	struct macro_op *op;
	uint32_t ms;
	int r;

	if (!len)
		return macro_parse_error(p, -EINVAL,
					 "DELAY needs a time (e.g. DELAY 500)");
	r = macro_lex_duration(p, args, len, MACRO_DELAY_MAX_MS, "DELAY", &ms);
	if (r)
		return r;
	op = macro_parse_op_new(p, MACRO_OP_DELAY);
	if (!op)
		return -ENOMEM;
	op->u.ms = ms;
	return 0;
}

static int macro_parse_default_delay(struct macro_parser *p, char *args,
				     size_t len)
{
	int r;

	if (!len)
		return macro_parse_error(
			p, -EINVAL,
			"DEFAULT_DELAY needs a time (e.g. DEFAULT_DELAY "
			"100)");
	r = macro_lex_duration(p, args, len, MACRO_DEFAULT_DELAY_MAX_MS,
			       "DEFAULT_DELAY", &p->default_delay);
	p->repeatable = false;
	return r;
}

static int macro_parse_text(struct macro_parser *p, char *args, size_t len,
			    bool enter)
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
		return macro_parse_error(
			p, -EINVAL,
			"character U+%04X at position %zu cannot be typed "
			"in layout %s",
			(unsigned)cp, pos + 1, l->name);
	if (r == -EILSEQ)
		return macro_parse_error(p, -EINVAL,
					 "the text is not valid UTF-8");
	if (r)
		return macro_parse_error(p, r, "cannot type the text: %s",
					 strerror(-r));
	op = macro_parse_op_new(p, MACRO_OP_TYPE);
	if (!op)
		return -ENOMEM;
	op->u.text.s = args;
	op->u.text.len = len;
	op->u.text.enter = enter;
	return 0;
}

static int macro_parse_string(struct macro_parser *p, char *args, size_t len)
{
	return macro_parse_text(p, args, len, false);
}

static int macro_parse_stringln(struct macro_parser *p, char *args, size_t len)
{
	return macro_parse_text(p, args, len, true);
}

static int macro_parse_repeat(struct macro_parser *p, char *args, size_t len)
{
	struct macro_op *op;
	uint64_t n = 0;
	size_t i;

	if (!len)
		return macro_parse_error(
			p, -EINVAL, "REPEAT needs a count (e.g. REPEAT 3)");
	for (i = 0; i < len; i++) {
		if (args[i] < '0' || args[i] > '9')
			return macro_parse_error(
				p, -EINVAL,
				"REPEAT needs a whole number, not \"%.*s\"",
				(int)(len > 20 ? 20 : len), args);
		n = n * 10 + (uint64_t)(args[i] - '0');
		if (n > MACRO_REPEAT_MAX)
			break;
	}
	if (n < 1 || n > MACRO_REPEAT_MAX)
		return macro_parse_error(p, -EINVAL,
					 "REPEAT count must be 1 to %d",
					 MACRO_REPEAT_MAX);
	if (!p->s->n || !p->repeatable)
		return macro_parse_error(
			p, -EINVAL,
			"REPEAT repeats the line before it, which must be "
			"STRING, STRINGLN, DELAY or keys");
	op = &p->s->ops[p->s->n - 1];
	if (op->runs + n > MACRO_REPEAT_MAX)
		return macro_parse_error(p, -EINVAL,
					 "line %u would run more than %d times",
					 (unsigned)op->line, MACRO_REPEAT_MAX);
	if (p->s->runs + n > MACRO_STEPS_MAX)
		return macro_parse_error(
			p, -EINVAL, "the macro would run more than %d steps",
			MACRO_STEPS_MAX);
	op->runs += (uint32_t)n;
	p->s->runs += n;
	return 0;
}

static int macro_parse_layout(struct macro_parser *p, char *args, size_t len)
{
	const struct layout *l;
	char b[48];

	p->repeatable = false;
	if (!len)
		return macro_parse_error(
			p, -EINVAL, "LAYOUT needs a layout name (e.g. de)");
	args[len] = '\0';
	l = layout_find(args);
	if (!l)
		return macro_parse_error(p, -EINVAL, "unknown layout \"%s\"",
					 macro_lex_shown(args, len, b));
	p->layout = l;
	return 0;
}

static int macro_parse_profile(struct macro_parser *p, char *args, size_t len)
{
	enum typing_profile prof;
	char b[48];

	p->repeatable = false;
	args[len] = '\0';
	if (!len || typing_profile_parse(args, &prof))
		return macro_parse_error(
			p, -EINVAL,
			"unknown profile \"%s\" (" TYPING_PROFILE_NAMES ")",
			macro_lex_shown(args, len, b));
	p->profile = (int)prof;
	return 0;
}

static int macro_parse_media(struct macro_parser *p, char *args, size_t len)
{
	struct macro_op *op;
	size_t at = 0;
	enum media_rule rule;
	char msg[200];

	if (!len)
		return macro_parse_error(p, -EINVAL,
					 "MEDIA needs an image name or eject");
	if (!(len == 5 && !strncasecmp(args, "eject", 5))) {
		rule = media_name_check(args, len, &at);
		if (rule != MEDIA_RULE_OK) {
			media_rule_format(rule, args, len, at, msg,
					  sizeof(msg));
			return macro_parse_error(p, -EINVAL, "MEDIA: %s", msg);
		}
	}
	op = macro_parse_op_new(p, MACRO_OP_MEDIA);
	if (!op)
		return -ENOMEM;
	args[len] = '\0';
	op->u.media.name = strcasecmp(args, "eject") ? args : NULL;
	return 0;
}

static int macro_parse_reboot(struct macro_parser *p, char *args, size_t len)
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
		return macro_parse_error(
			p, -EINVAL, "REBOOT soft, sysrq or hard, not \"%s\"",
			macro_lex_shown(args, len, b));
	op = macro_parse_op_new(p, MACRO_OP_REBOOT);
	if (!op)
		return -ENOMEM;
	op->u.reboot = (enum macro_reboot)mode;
	return 0;
}

static const struct parse_cmd parse_cmds[] = {
	{"REM", macro_parse_rem},
	{"DELAY", macro_parse_delay},
	{"DEFAULT_DELAY", macro_parse_default_delay},
	{"DEFAULTDELAY", macro_parse_default_delay},
	{"STRING", macro_parse_string},
	{"STRINGLN", macro_parse_stringln},
	{"REPEAT", macro_parse_repeat},
	{"HOLD", macro_parse_hold},
	{"RELEASE", macro_parse_release},
	{"LAYOUT", macro_parse_layout},
	{"PROFILE", macro_parse_profile},
	{"WAIT_USB", macro_parse_wait_usb},
	{"WAIT_LED", macro_parse_wait_led},
	{"WAIT_PHASE", macro_parse_wait_phase},
	{"WAIT_MEDIA_READ", macro_parse_wait_media_read},
	{"WAIT_CONSOLE", macro_parse_wait_console},
	{"SPAM", macro_parse_spam},
	{"MEDIA", macro_parse_media},
	{"REBOOT", macro_parse_reboot},
};

/* One line, NUL-terminated at line[len], line ending removed. */
int macro_parse_line(struct macro_parser *p, char *line, size_t len)
{
	size_t i = 0, start, n;

	n = macro_lex_word(line, len, &i, &start);
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
		if (pc->parse == macro_parse_string ||
		    pc->parse == macro_parse_stringln) {
			/* The text is kept as written: one blank after the
			 * command separates, the rest is typed. */
			args = line + i + (i < len);
			alen = len - (size_t)(args - line);
		} else {
			while (i < len && macro_lex_blank(line[i]))
				i++;
			args = line + i;
			alen = macro_lex_trim_end(args, len - i);
		}
		return pc->parse(p, args, alen);
	}
	return macro_parse_key_line(p, line + start, n, len - start);
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
	struct macro_parser p = {
		.s = out,
		.err = err,
		.profile = -1,
		.deflt = deflt ? deflt : layout_find("us"),
	};
	int r;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (len > MACRO_FILE_MAX) {
		snprintf(err->msg, sizeof(err->msg),
			 "the macro is %zu bytes, more than %d", len,
			 MACRO_FILE_MAX);
		return -E2BIG;
	}
	r = macro_lex_script(&p, script, len);
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
