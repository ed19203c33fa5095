/* The keyboard commands: key, type and the keyboard forms of reboot. */
#include "firmware/keyboard/keyboard_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "firmware/power/power_cap.h"
#include "gadget/keys.h"

#define CMD_KEY_CHORDS_MAX 64

static void keyboard_cmd_done(void *data, int err, const char *msg)
{
	struct keyboard_cap *k = data;
	struct cmd_req *req = k->req;

	k->req = NULL;
	cap_state_dirty(k->c);
	if (!req)
		return;
	if (err == -ECANCELED)
		cap_reply(k->c, req, RESULT_CANCELLED, NULL, NULL);
	else if (err)
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
	else
		cap_reply(k->c, req, RESULT_OK, NULL, NULL);
}

static void keyboard_cmd_start(struct keyboard_cap *k, struct cmd_req *req,
			       struct typing_plan *plan, uint32_t hold_ms)
{
	int r;

	if (keyboard_busy(k->kb) || k->claim) {
		typing_plan_free(plan);
		cap_reply(k->c, req, RESULT_BUSY,
			  k->claim ? k->claim
				   : "another keyboard job is running",
			  NULL);
		return;
	}
	k->req = req;
	/* Busy now: said before the run, which may finish (and answer,
	 * taking the state along) before it returns. */
	cap_state_dirty(k->c);
	r = keyboard_run(k->kb, plan, hold_ms, keyboard_cmd_done, k);
	if (r) {
		k->req = NULL;
		typing_plan_free(plan);
		cap_reply(k->c, req, RESULT_ERROR,
			  r == -ENODEV ? "no keyboard device is open"
				       : strerror(-r),
			  NULL);
	}
}

/*
 * Release without a plan, when none could be allocated: the keyboard
 * writes its own all-up report. Answers ok only if the keys are up.
 */
static void keyboard_cmd_release_now(struct keyboard_cap *k,
				     struct cmd_req *req)
{
	if (keyboard_busy(k->kb) || k->claim) {
		cap_reply(k->c, req, RESULT_BUSY,
			  k->claim ? k->claim
				   : "another keyboard job is running",
			  NULL);
		return;
	}
	keyboard_release(k->kb);
	cap_state_dirty(k->c);
	if (keyboard_keys_down(k->kb))
		cap_reply(k->c, req, RESULT_ERROR,
			  "out of memory: the release is pending, keys may "
			  "still be down",
			  NULL);
	else
		cap_reply(k->c, req, RESULT_OK, NULL, NULL);
}

/* The profile of a command: its JSON "profile", else the configured one. */
static int keyboard_cmd_profile(struct keyboard_cap *k, struct cmd_req *req,
				enum typing_profile *prof)
{
	bool bad;
	const char *name = payload_str(&req->p, "profile", false, &bad);

	*prof = k->profile;
	if (bad) {
		cap_reply(k->c, req, RESULT_ERROR,
			  "\"profile\" must be a string", NULL);
		return -EINVAL;
	}
	if (name && typing_profile_parse(name, prof)) {
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "unknown profile \"%.32s\" (" TYPING_PROFILE_NAMES ")",
			 name);
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return -EINVAL;
	}
	return 0;
}

static const char *const key_fields[] = {"keys", "hold_ms", "action", "profile",
					 NULL};

void keyboard_cmd_key(void *self, struct cmd_req *req)
{
	struct keyboard_cap *k = self;
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
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (keyboard_cmd_profile(k, req, &prof))
		return;
	action = payload_str(&req->p, "action", false, &bad);
	if (bad || (action && strcmp(action, "tap") &&
		    strcmp(action, "press") && strcmp(action, "release"))) {
		cap_reply(k->c, req, RESULT_ERROR,
			  "\"action\" must be tap, press or release", NULL);
		return;
	}
	r = payload_int(&req->p, "hold_ms", 0, 3600000, &hold);
	if (r == -EINVAL) {
		cap_reply(k->c, req, RESULT_ERROR,
			  "\"hold_ms\" must be a number from 0 to 3600000",
			  NULL);
		return;
	}
	if (action && !strcmp(action, "release")) {
		struct hid_report zero;

		hid_report_clear(&zero);
		if (typing_plan_report(&plan, &zero, 0) == 0) {
			keyboard_cmd_start(k, req, &plan, 0);
			return;
		}
		keyboard_cmd_release_now(k, req);
		return;
	}
	keys = payload_str(&req->p, "keys", true, &bad);
	if (bad || !keys || !keys[0]) {
		cap_reply(k->c, req, RESULT_ERROR,
			  "no keys given (e.g. ctrl+alt+delete)", NULL);
		return;
	}
	r = keys_parse_sequence(keys, chords, CMD_KEY_CHORDS_MAX, &n, &eo, &el);
	if (r == -ENOENT) {
		snprintf(msg, sizeof(msg), "unknown key name \"%.*s\"",
			 (int)(el > 64 ? 64 : el), keys + eo);
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (r) {
		snprintf(msg, sizeof(msg),
			 r == -E2BIG ? "more than %d chords in one command"
				     : "cannot parse the keys (%d)",
			 r == -E2BIG ? CMD_KEY_CHORDS_MAX : r);
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (action && !strcmp(action, "press")) {
		struct key_chord all = {0};

		/* Press every named key at once and keep them down. */
		for (size_t i = 0; i < n; i++) {
			all.mods |= chords[i].mods;
			for (int j = 0; j < chords[i].nkeys; j++)
				if (all.nkeys < KEYS_CHORD_MAX)
					all.keys[all.nkeys++] =
						chords[i].keys[j];
		}
		r = typing_plan_chords(&plan, &all, 1, prof);
		/* Drop the trailing release: the keys stay pressed. */
		if (!r && plan.n)
			plan.n--;
		if (r) {
			cap_reply(k->c, req, RESULT_ERROR, strerror(-r), NULL);
			return;
		}
		keyboard_cmd_start(k, req, &plan, (uint32_t)hold);
		return;
	}
	if (hold > 0) {
		for (size_t i = 0; i < n && !r; i++) {
			struct typing_plan one = {0};

			r = typing_plan_chords(&one, &chords[i], 1, prof);
			/* The last step releases; the one before holds. */
			if (!r && one.n >= 2)
				one.steps[one.n - 2].gap_us =
					(uint32_t)(hold > 60000 ? 60000
								: hold) *
					1000;
			for (size_t j = 0; !r && j < one.n; j++)
				r = typing_plan_report(&plan, &one.steps[j].r,
						       one.steps[j].gap_us);
			typing_plan_free(&one);
		}
	} else {
		r = typing_plan_chords(&plan, chords, n, prof);
	}
	if (r) {
		typing_plan_free(&plan);
		cap_reply(k->c, req, RESULT_ERROR, strerror(-r), NULL);
		return;
	}
	keyboard_cmd_start(k, req, &plan, 0);
}

static const char *const type_fields[] = {"text", "layout", "profile", NULL};

void keyboard_cmd_type(void *self, struct cmd_req *req)
{
	struct keyboard_cap *k = self;
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
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (keyboard_cmd_profile(k, req, &prof))
		return;
	lname = payload_str(&req->p, "layout", false, &bad);
	layout = lname ? layout_find(lname) : k->layout;
	if (bad || !layout) {
		snprintf(msg, sizeof(msg), "unknown layout \"%.32s\"",
			 lname ? lname : "?");
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (req->p.json) {
		text = payload_str(&req->p, "text", true, &bad);
		if (bad || !text) {
			cap_reply(k->c, req, RESULT_ERROR,
				  "\"text\" is missing or not a string", NULL);
			return;
		}
	} else {
		text = req->p.text;
	}
	if (!text || !text[0]) {
		cap_reply(k->c, req, RESULT_ERROR, "no text to type", NULL);
		return;
	}
	r = typing_plan_text(&plan, layout, text, strlen(text), prof, &pos,
			     &cp);
	if (r == -ENOENT) {
		snprintf(msg, sizeof(msg),
			 "character U+%04X at position %zu cannot be typed "
			 "in layout %s; nothing was typed",
			 cp, pos, layout->name);
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (r) {
		snprintf(msg, sizeof(msg), "cannot type the text: %s",
			 r == -EILSEQ ? "invalid UTF-8" : strerror(-r));
		typing_plan_free(&plan);
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	keyboard_cmd_start(k, req, &plan, 0);
}

void keyboard_cmd_reboot(void *self, struct cmd_req *req)
{
	struct keyboard_cap *k = self;
	static const char *const fields[] = {"mode", NULL};
	struct typing_plan plan = {0};
	struct key_chord cad;
	const char *mode;
	char msg[200];
	bool bad;
	int r;

	if (payload_check_fields(&req->p, fields, msg, sizeof(msg))) {
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	mode = payload_str(&req->p, "mode", true, &bad);
	if (bad) {
		cap_reply(k->c, req, RESULT_ERROR, "\"mode\" must be a string",
			  NULL);
		return;
	}
	if (!mode || !mode[0] || !strcasecmp(mode, "PRESS") ||
	    !strcasecmp(mode, "soft")) {
		r = keys_parse_chord("ctrl+alt+delete", 15, '+', &cad);
		if (!r)
			r = typing_plan_chords(&plan, &cad, 1, k->profile);
	} else if (!strcasecmp(mode, "sysrq")) {
		r = typing_plan_sysrq(&plan);
	} else if (!strcasecmp(mode, "hard")) {
		/* The reset pin, or the error naming what is missing. */
		power_cap_reboot_hard(k->power, k->c, req);
		return;
	} else {
		snprintf(msg, sizeof(msg),
			 "unknown reboot mode \"%.32s\" (soft, sysrq, hard)",
			 mode);
		cap_reply(k->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (r) {
		typing_plan_free(&plan);
		cap_reply(k->c, req, RESULT_ERROR, strerror(-r), NULL);
		return;
	}
	keyboard_cmd_start(k, req, &plan, 0);
}
