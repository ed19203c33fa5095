/* The keyboard capability: the device, its listeners and its state. */
#include "firmware/keyboard/keyboard_priv.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/host/hostwatch.h"
#include "gadget/hid_report.h"

static void keyboard_cap_on_leds(void *data, uint8_t leds)
{
	struct keyboard_cap *k = data;

	for (int i = 0; i < k->leds.n; i++)
		if (k->leds.l[i].fn)
			((void (*)(void *, uint8_t))k->leds.l[i].fn)(
				k->leds.l[i].data, leds);
	cap_state_dirty(k->c);
}

static void keyboard_cap_on_taking(void *data, bool taking)
{
	struct keyboard_cap *k = data;

	for (int i = 0; i < k->host.n; i++)
		if (k->host.l[i].fn)
			((void (*)(void *, bool))k->host.l[i].fn)(
				k->host.l[i].data, taking);
	cap_state_dirty(k->c);
}

static void keyboard_cap_on_usb(void *data, enum udc_state old,
				enum udc_state now)
{
	struct keyboard_cap *k = data;

	/* A host that polls again gets the release it may have missed. */
	if (now == UDC_STATE_CONFIGURED)
		keyboard_release(k->kb);
}

static cJSON *keyboard_cap_state_json(void *data)
{
	struct keyboard_cap *k = data;
	cJSON *o = cJSON_CreateObject(), *leds;
	uint8_t l = keyboard_leds(k->kb);
	size_t done = 0, total = 0;

	cJSON_AddStringToObject(o, "layout", k->layout->name);
	cJSON_AddStringToObject(o, "profile", typing_profile_name(k->profile));
	cJSON_AddBoolToObject(o, "busy", keyboard_busy(k->kb));
	keyboard_progress(k->kb, &done, &total);
	if (total) {
		cJSON_AddNumberToObject(o, "progress", (double)done);
		cJSON_AddNumberToObject(o, "total", (double)total);
	}
	cJSON_AddBoolToObject(o, "keys_down", keyboard_keys_down(k->kb));
	leds = cJSON_AddObjectToObject(o, "leds");
	cJSON_AddBoolToObject(leds, "num", l & HID_LED_NUM);
	cJSON_AddBoolToObject(leds, "caps", l & HID_LED_CAPS);
	cJSON_AddBoolToObject(leds, "scroll", l & HID_LED_SCROLL);
	return o;
}

static void keyboard_cap_detach(void *self);

static int keyboard_cap_attach(const struct cap *c, void **self, char *msg,
			       size_t len)
{
	static const struct keyboard_cbs cbs = {
		.leds = keyboard_cap_on_leds,
		.host = keyboard_cap_on_taking,
	};
	const struct config *cfg = c->cfg;
	struct keyboard_cap *k;
	int r;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->c = c;
	k->power = c->h->power;
	k->layout = layout_find(cfg->keyboard.layout);
	if (!k->layout) {
		snprintf(msg, len, "[keyboard] layout: unknown layout \"%s\"",
			 cfg->keyboard.layout);
		r = -EINVAL;
		goto fail;
	}
	if (typing_profile_parse(cfg->keyboard.profile, &k->profile)) {
		snprintf(msg, len,
			 "[keyboard] profile: unknown profile \"%s\" "
			 "(" TYPING_PROFILE_NAMES ")",
			 cfg->keyboard.profile);
		r = -EINVAL;
		goto fail;
	}
	r = keyboard_new(c->loop, cfg->keyboard.write_timeout_ms,
			 cfg->keyboard.hold_timeout_ms, &cbs, k, &k->kb);
	if (r)
		goto fail;
	r = state_provider_add(c->state, "keyboard", keyboard_cap_state_json,
			       k);
	if (r)
		goto fail;
	if (c->h->host)
		hostwatch_listen(c->h->host, keyboard_cap_on_usb, k);
	*self = k;
	r = keyboard_open(k->kb, cfg->keyboard.device);
	if (r)
		/* Not fatal: the device may appear when the gadget binds. */
		snprintf(msg, len, "keyboard %s: %s", cfg->keyboard.device,
			 strerror(-r));
	return 0;
fail:
	keyboard_cap_detach(k);
	return r;
}

/* A stopping agent answers its keyboard job and lets go of the keys. */
static void keyboard_cap_stop(void *self)
{
	struct keyboard_cap *k = self;

	keyboard_cancel(k->kb);
	keyboard_release(k->kb);
}

static void keyboard_cap_detach(void *self)
{
	struct keyboard_cap *k = self;

	if (!k)
		return;
	if (k->kb)
		keyboard_free(k->kb);
	cmd_req_free(k->req);
	free(k);
}

int keyboard_cap_listen(struct keyboard_cap *k,
			const struct keyboard_listener *l, void *data)
{
	int r = listeners_add(&k->leds, KEYBOARD_LISTENERS,
			      (listener_fn)l->leds, data);

	/* Both lists grow together: the second has room if the first had. */
	return r ? r
		 : listeners_add(&k->host, KEYBOARD_LISTENERS,
				 (listener_fn)l->host, data);
}

struct keyboard *keyboard_cap_device(struct keyboard_cap *k)
{
	return k->kb;
}

const struct layout *keyboard_cap_layout(const struct keyboard_cap *k)
{
	return k->layout;
}

enum typing_profile keyboard_cap_profile(const struct keyboard_cap *k)
{
	return k->profile;
}

void keyboard_cap_claim(struct keyboard_cap *k, const char *why)
{
	k->claim = why;
}

void keyboard_cap_unclaim(struct keyboard_cap *k)
{
	k->claim = NULL;
}

const char *keyboard_cap_claimed(const struct keyboard_cap *k)
{
	return k->claim;
}

static const struct cap_command keyboard_cap_commands[] = {
	{"key", keyboard_cmd_key, "tap key chords, or press and release keys"},
	{"type", keyboard_cmd_type, "type text in a keyboard layout"},
	{"reboot", keyboard_cmd_reboot,
	 "Ctrl+Alt+Del, SysRq REISUB or reset pin"},
	{NULL, NULL, NULL},
};

const struct cap_def keyboard_cap = {
	.name = "keyboard",
	.attach = keyboard_cap_attach,
	.stop = keyboard_cap_stop,
	.detach = keyboard_cap_detach,
	.commands = keyboard_cap_commands,
	.required = true,
	.handle_offset = offsetof(struct cap_handles, keyboard),
};
