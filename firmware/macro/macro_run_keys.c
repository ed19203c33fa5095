/* The macro runner's keyboard lines: key chords, text, HOLD and RELEASE
 * become typing plans in the macro's layout and profile. */
#include "firmware/macro/macro_run_priv.h"

#include <errno.h>
#include <string.h>

enum typing_profile macro_run_profile(const struct macro_run *r,
				      const struct macro_op *op)
{
	return op->profile < 0 ? r->env->profile
			       : (enum typing_profile)op->profile;
}

/* Keys that HOLD keeps down stay down in every report of a plan. */
void macro_run_overlay(const struct macro_run *r, struct typing_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		uint8_t *b = p->steps[i].r.b;

		b[0] |= r->held.b[0];
		for (int k = 2; k < HID_REPORT_LEN; k++) {
			uint8_t u = r->held.b[k];
			int j, free_at = -1;

			if (!u)
				continue;
			for (j = 2; j < HID_REPORT_LEN && b[j] != u; j++)
				if (!b[j] && free_at < 0)
					free_at = j;
			if (j == HID_REPORT_LEN && free_at >= 0)
				b[free_at] = u;
		}
	}
}

/* HOLD adds the chord to the held keys, RELEASE takes it away. */
static int macro_run_hold_plan(struct macro_run *r, const struct macro_op *op,
			       struct typing_plan *p)
{
	const struct key_chord *c = &op->u.chord;
	struct hid_report next = r->held;
	int k, j;

	if (op->kind == MACRO_OP_HOLD) {
		next.b[0] |= c->mods;
		for (k = 0; k < c->nkeys; k++) {
			for (j = 2; j < HID_REPORT_LEN; j++)
				if (next.b[j] == c->keys[k] || !next.b[j])
					break;
			if (j < HID_REPORT_LEN)
				next.b[j] = c->keys[k];
		}
	} else if (!c->mods && !c->nkeys) {
		hid_report_clear(&next);
	} else {
		next.b[0] &= (uint8_t)~c->mods;
		for (k = 0; k < c->nkeys; k++)
			for (j = 2; j < HID_REPORT_LEN; j++)
				if (next.b[j] == c->keys[k])
					next.b[j] = 0;
	}
	k = typing_plan_report(
		p, &next,
		typing_gap(macro_run_profile(r, op), &r->held, &next));
	if (!k)
		r->held = next;
	return k;
}

static int macro_run_plan(struct macro_run *r, const struct macro_op *op,
			  struct typing_plan *p)
{
	const struct macro_env *e = r->env;
	enum typing_profile prof = macro_run_profile(r, op);
	struct key_chord c = {0};
	size_t pos;
	uint32_t cp;
	int err = 0;

	switch (op->kind) {
	case MACRO_OP_TYPE:
		if (op->u.text.len)
			err = typing_plan_text(
				p, op->layout ? op->layout : e->layout,
				op->u.text.s, op->u.text.len, prof, &pos, &cp);
		if (!err && op->u.text.enter) {
			c.nkeys = 1;
			c.keys[0] = 0x28; /* Enter */
			err = typing_plan_chords(p, &c, 1, prof);
		}
		break;
	case MACRO_OP_CHORD:
		err = typing_plan_chords(p, &op->u.chord, 1, prof);
		break;
	case MACRO_OP_HOLD:
	case MACRO_OP_RELEASE:
		return macro_run_hold_plan(r, op, p);
	case MACRO_OP_REBOOT:
		if (op->u.reboot == MACRO_REBOOT_SYSRQ)
			return e->sysrq_plan(e->data, p);
		c.mods = HID_MOD_LCTRL | HID_MOD_LALT;
		c.nkeys = 1;
		c.keys[0] = 0x4c; /* Delete */
		return typing_plan_chords(p, &c, 1, prof);
	default:
		return -EINVAL;
	}
	if (!err)
		macro_run_overlay(r, p);
	return err;
}

/* Start the op's keyboard job. */
void macro_run_kb_op(struct macro_run *r, const struct macro_op *op)
{
	const struct macro_env *e = r->env;
	struct typing_plan plan = {0};
	int err = macro_run_plan(r, op, &plan);

	if (err) {
		typing_plan_free(&plan);
		macro_run_fail(r, op->line,
			       "%s: cannot build the keystrokes: %s",
			       macro_op_name(op->kind), strerror(-err));
		return;
	}
	r->phase = MACRO_PH_KB;
	r->kb_err = 0;
	r->kb_msg[0] = '\0';
	if (!plan.n)
		return; /* nothing to type: done at once */
	r->kb_job = true;
	r->kb_is_spam = false;
	err = e->kb_run(e->data, &plan);
	if (err) {
		r->kb_job = false;
		typing_plan_free(&plan);
		macro_run_fail(r, op->line, "%s: %s", macro_op_name(op->kind),
			       err == -ENODEV ? "no keyboard device is open"
					      : strerror(-err));
	}
}
