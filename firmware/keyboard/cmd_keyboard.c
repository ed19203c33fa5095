/* The keyboard commands: key, type and the keyboard forms of reboot. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "firmware/agent/commands.h"
#include "firmware/keyboard/keyboard.h"
#include "firmware/macro/macro.h"
#include "firmware/power/power.h"
#include "gadget/keys.h"

#define CMD_KEY_CHORDS_MAX 64

static void cmd_kb_done(void *data, int err, const char *msg)
{
	struct agent *a = data;
	struct cmd_req *req = a->kb_req;

	a->kb_req = NULL;
	agent_state_dirty(a);
	if (!req)
		return;
	if (err == -ECANCELED)
		agent_reply(a, req, RESULT_CANCELLED, NULL, NULL);
	else if (err)
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
	else
		agent_reply(a, req, RESULT_OK, NULL, NULL);
}

void cmd_keyboard_start(struct agent *a, struct cmd_req *req,
			struct typing_plan *plan, uint32_t hold_ms)
{
	int r;

	if (keyboard_busy(a->kb) || macros_busy(a->macros)) {
		typing_plan_free(plan);
		agent_reply(a, req, RESULT_BUSY,
			    macros_busy(a->macros)
				    ? "a macro is running (cmd/macro cancel "
				      "stops it)"
				    : "another keyboard job is running",
			    NULL);
		return;
	}
	a->kb_req = req;
	r = keyboard_run(a->kb, plan, hold_ms, cmd_kb_done, a);
	if (r) {
		a->kb_req = NULL;
		typing_plan_free(plan);
		agent_reply(a, req, RESULT_ERROR,
			    r == -ENODEV ? "no keyboard device is open"
					 : strerror(-r),
			    NULL);
		return;
	}
	agent_state_dirty(a);
}

/* The profile of a command: its JSON "profile", else the configured one. */
static int cmd_profile(struct agent *a, struct cmd_req *req,
		       enum typing_profile *prof)
{
	bool bad;
	const char *name = payload_str(&req->p, "profile", false, &bad);

	*prof = a->profile;
	if (bad) {
		agent_reply(a, req, RESULT_ERROR,
			    "\"profile\" must be a string", NULL);
		return -EINVAL;
	}
	if (name && typing_profile_parse(name, prof)) {
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "unknown profile \"%.32s\" (fast or bios)", name);
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return -EINVAL;
	}
	return 0;
}

static const char *const key_fields[] = {"keys", "hold_ms", "action", "profile",
					 NULL};

void cmd_key(struct agent *a, struct cmd_req *req)
{
	struct key_chord chords[CMD_KEY_CHORDS_MAX];
	struct typing_plan plan = {0};
	enum typing_profile prof;
	size_t n = 0, eo = 0, el = 0;
	const char *keys, *action;
	long hold = 0;
	char msg[200];
	bool bad;
	int r;

	if (payload_check_fields(&req->p, key_fields, msg, sizeof(msg))) {
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (cmd_profile(a, req, &prof))
		return;
	action = payload_str(&req->p, "action", false, &bad);
	if (bad || (action && strcmp(action, "tap") &&
		    strcmp(action, "press") && strcmp(action, "release"))) {
		agent_reply(a, req, RESULT_ERROR,
			    "\"action\" must be tap, press or release", NULL);
		return;
	}
	r = payload_int(&req->p, "hold_ms", 0, 3600000, &hold);
	if (r == -EINVAL) {
		agent_reply(a, req, RESULT_ERROR,
			    "\"hold_ms\" must be a number from 0 to 3600000",
			    NULL);
		return;
	}
	if (action && !strcmp(action, "release")) {
		struct hid_report zero;

		hid_report_clear(&zero);
		typing_plan_report(&plan, &zero, 0);
		cmd_keyboard_start(a, req, &plan, 0);
		return;
	}
	keys = payload_str(&req->p, "keys", true, &bad);
	if (bad || !keys || !keys[0]) {
		agent_reply(a, req, RESULT_ERROR,
			    "no keys given (e.g. ctrl+alt+delete)", NULL);
		return;
	}
	r = keys_parse_sequence(keys, chords, CMD_KEY_CHORDS_MAX, &n, &eo, &el);
	if (r == -ENOENT) {
		snprintf(msg, sizeof(msg), "unknown key name \"%.*s\"",
			 (int)(el > 64 ? 64 : el), keys + eo);
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (r) {
		snprintf(msg, sizeof(msg),
			 r == -E2BIG ? "more than %d chords in one command"
				     : "cannot parse the keys (%d)",
			 r == -E2BIG ? CMD_KEY_CHORDS_MAX : r);
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (action && !strcmp(action, "press")) {
		struct key_chord all = {0};

		/* Press every named key at once and keep them down. */
		for (size_t i = 0; i < n; i++) {
			all.mods |= chords[i].mods;
			for (int k = 0; k < chords[i].nkeys; k++)
				if (all.nkeys < KEYS_CHORD_MAX)
					all.keys[all.nkeys++] =
						chords[i].keys[k];
		}
		r = typing_plan_chords(&plan, &all, 1, prof);
		/* Drop the trailing release: the keys stay pressed. */
		if (!r && plan.n)
			plan.n--;
		if (r) {
			agent_reply(a, req, RESULT_ERROR, strerror(-r), NULL);
			return;
		}
		cmd_keyboard_start(a, req, &plan, (uint32_t)hold);
		return;
	}
	if (hold > 0) {
		for (size_t i = 0; i < n && !r; i++) {
			struct typing_plan one = {0};

			r = typing_plan_chords(&one, &chords[i], 1, prof);
			/* The last step releases; the one before holds. */
			if (!r && one.n >= 2)
				one.steps[one.n - 2].gap_ms =
					(uint16_t)(hold > 60000 ? 60000 : hold);
			for (size_t k = 0; !r && k < one.n; k++)
				r = typing_plan_report(&plan, &one.steps[k].r,
						       one.steps[k].gap_ms);
			typing_plan_free(&one);
		}
	} else {
		r = typing_plan_chords(&plan, chords, n, prof);
	}
	if (r) {
		typing_plan_free(&plan);
		agent_reply(a, req, RESULT_ERROR, strerror(-r), NULL);
		return;
	}
	cmd_keyboard_start(a, req, &plan, 0);
}

static const char *const type_fields[] = {"text", "layout", "profile", NULL};

void cmd_type(struct agent *a, struct cmd_req *req)
{
	struct typing_plan plan = {0};
	const struct layout *layout;
	enum typing_profile prof;
	const char *text, *lname;
	size_t pos = 0;
	uint32_t cp = 0;
	char msg[200];
	bool bad;
	int r;

	if (payload_check_fields(&req->p, type_fields, msg, sizeof(msg))) {
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (cmd_profile(a, req, &prof))
		return;
	lname = payload_str(&req->p, "layout", false, &bad);
	layout = lname ? layout_find(lname) : a->layout;
	if (bad || !layout) {
		snprintf(msg, sizeof(msg), "unknown layout \"%.32s\"",
			 lname ? lname : "?");
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (req->p.json) {
		text = payload_str(&req->p, "text", true, &bad);
		if (bad || !text) {
			agent_reply(a, req, RESULT_ERROR,
				    "\"text\" is missing or not a string",
				    NULL);
			return;
		}
	} else {
		text = req->p.text;
	}
	if (!text || !text[0]) {
		agent_reply(a, req, RESULT_ERROR, "no text to type", NULL);
		return;
	}
	r = typing_plan_text(&plan, layout, text, strlen(text), prof, &pos,
			     &cp);
	if (r == -ENOENT) {
		snprintf(msg, sizeof(msg),
			 "character U+%04X at position %zu cannot be typed "
			 "in layout %s; nothing was typed",
			 cp, pos, layout->name);
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (r) {
		snprintf(msg, sizeof(msg), "cannot type the text: %s",
			 r == -EILSEQ ? "invalid UTF-8" : strerror(-r));
		typing_plan_free(&plan);
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	cmd_keyboard_start(a, req, &plan, 0);
}

/* Alt+SysRq then R E I S U B, with time for each step to take effect. */
int cmd_sysrq_plan(struct typing_plan *p)
{
	static const struct {
		uint8_t usage;
		uint16_t after_ms;
	} steps[] = {
		{0x15, 1000}, /* r: keyboard out of raw mode */
		{0x08, 3000}, /* e: SIGTERM to all */
		{0x0c, 3000}, /* i: SIGKILL to all */
		{0x16, 3000}, /* s: sync */
		{0x18, 2000}, /* u: remount read-only */
		{0x05, 100},  /* b: reboot */
	};
	struct hid_report r;
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(steps) / sizeof(steps[0]); i++) {
		hid_report_clear(&r);
		r.b[0] = HID_MOD_LALT;
		err = typing_plan_report(p, &r, 30);
		r.b[2] = 0x46; /* PrintScreen / SysRq */
		if (!err)
			err = typing_plan_report(p, &r, 30);
		r.b[3] = steps[i].usage;
		if (!err)
			err = typing_plan_report(p, &r, 100);
		r.b[3] = 0;
		if (!err)
			err = typing_plan_report(p, &r, 30);
		hid_report_clear(&r);
		if (!err)
			err = typing_plan_report(p, &r, steps[i].after_ms);
	}
	return err;
}

void cmd_reboot(struct agent *a, struct cmd_req *req)
{
	static const char *const fields[] = {"mode", NULL};
	struct typing_plan plan = {0};
	struct key_chord cad;
	const char *mode;
	char msg[200];
	bool bad;
	int r;

	if (payload_check_fields(&req->p, fields, msg, sizeof(msg))) {
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	mode = payload_str(&req->p, "mode", true, &bad);
	if (bad) {
		agent_reply(a, req, RESULT_ERROR, "\"mode\" must be a string",
			    NULL);
		return;
	}
	if (!mode || !mode[0] || !strcasecmp(mode, "PRESS") ||
	    !strcasecmp(mode, "soft")) {
		r = keys_parse_chord("ctrl+alt+delete", 15, '+', &cad);
		if (!r)
			r = typing_plan_chords(&plan, &cad, 1, a->profile);
	} else if (!strcasecmp(mode, "sysrq")) {
		r = cmd_sysrq_plan(&plan);
	} else if (!strcasecmp(mode, "hard")) {
		/* The reset pin, or the error naming what is missing. */
		cmd_power_reboot_hard(a, req);
		return;
	} else {
		snprintf(msg, sizeof(msg),
			 "unknown reboot mode \"%.32s\" (soft, sysrq, hard)",
			 mode);
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (r) {
		typing_plan_free(&plan);
		agent_reply(a, req, RESULT_ERROR, strerror(-r), NULL);
		return;
	}
	cmd_keyboard_start(a, req, &plan, 0);
}
