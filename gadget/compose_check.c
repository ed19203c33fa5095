/* Does an existing gadget have the layout the spec asks for? */
#include <stdio.h>
#include <string.h>

#include "gadget/compose_priv.h"

/* Layout checks: each returns false and names the difference. */

static bool compose_check_hid(usbg_function *f, char *why, size_t len)
{
	struct usbg_f_hid_attrs a;
	usbg_f_hid *hf = usbg_to_hid_function(f);
	bool ok;

	memset(&a, 0, sizeof(a));
	if (!hf || usbg_f_hid_get_attrs(hf, &a) != USBG_SUCCESS) {
		snprintf(why, len, "HID function unreadable");
		return false;
	}
	ok = a.protocol == 1 && a.subclass == 1 && a.report_length == 8 &&
	     a.report_desc.len == gadget_kbd_desc_size &&
	     memcmp(a.report_desc.desc, gadget_kbd_desc,
		    gadget_kbd_desc_size) == 0;
	usbg_f_hid_cleanup_attrs(&a);
	if (!ok)
		snprintf(why, len, "HID keyboard attributes differ");
	return ok;
}

static bool compose_check_ms(usbg_function *f, int luns, char *why, size_t len)
{
	struct usbg_f_ms_attrs a;
	usbg_f_ms *mf = usbg_to_ms_function(f);
	bool ok;
	int i;

	memset(&a, 0, sizeof(a));
	if (!mf || usbg_f_ms_get_attrs(mf, &a) != USBG_SUCCESS) {
		snprintf(why, len, "mass storage function unreadable");
		return false;
	}
	ok = false;
	if (a.nluns != luns)
		snprintf(why, len, "mass storage has %d LUNs, %d wanted",
			 a.nluns, luns);
	else if (!a.stall)
		snprintf(why, len, "mass storage stall is off");
	else
		ok = true;
	for (i = 0; ok && i < a.nluns; i++) {
		ok = a.luns[i] && a.luns[i]->removable;
		if (!ok)
			snprintf(why, len, "LUN %d is not removable", i);
	}
	usbg_f_ms_cleanup_attrs(&a);
	return ok;
}

static bool compose_check_funcs(struct compose_op *op, usbg_gadget *g,
				char *why, size_t len)
{
	usbg_function *f;
	size_t i, n = 0;

	for (f = usbg_get_first_function(g); f; f = usbg_get_next_function(f))
		n++;
	if (n != N_FUNCS) {
		snprintf(why, len, "%zu functions, %zu wanted", n, N_FUNCS);
		return false;
	}
	for (i = 0; i < N_FUNCS; i++) {
		f = usbg_get_function(g, gadget_funcs[i].type,
				      gadget_funcs[i].instance);
		if (!f) {
			snprintf(why, len, "function %s.%s missing",
				 usbg_get_function_type_str(
					 gadget_funcs[i].type),
				 gadget_funcs[i].instance);
			return false;
		}
		if (gadget_funcs[i].type == USBG_F_HID &&
		    !compose_check_hid(f, why, len))
			return false;
		if (gadget_funcs[i].type == USBG_F_MASS_STORAGE &&
		    !compose_check_ms(f, op->luns, why, len))
			return false;
	}
	return true;
}

static bool compose_check_config(usbg_gadget *g, char *why, size_t len)
{
	struct usbg_config_attrs ca;
	struct usbg_config_strs cs;
	usbg_config *c;
	usbg_binding *b;
	unsigned seen = 0;
	size_t i, n = 0;
	bool ok;

	for (c = usbg_get_first_config(g); c; c = usbg_get_next_config(c))
		n++;
	c = usbg_get_config(g, CFG_ID, CFG_LABEL);
	if (n != 1 || !c) {
		snprintf(why, len, "configurations differ");
		return false;
	}
	if (usbg_get_config_attrs(c, &ca) != USBG_SUCCESS ||
	    ca.bmAttributes != CFG_ATTRS || ca.bMaxPower != CFG_MAX_POWER) {
		snprintf(why, len, "configuration attributes differ");
		return false;
	}
	memset(&cs, 0, sizeof(cs));
	ok = usbg_get_config_strs(c, LANG_US_ENG, &cs) == USBG_SUCCESS &&
	     cs.configuration && strcmp(cs.configuration, CFG_STRING) == 0;
	usbg_free_config_strs(&cs);
	if (!ok) {
		snprintf(why, len, "configuration string differs");
		return false;
	}
	n = 0;
	for (b = usbg_get_first_binding(c); b; b = usbg_get_next_binding(b)) {
		usbg_function *f = usbg_get_binding_target(b);

		n++;
		for (i = 0; f && i < N_FUNCS; i++)
			if (usbg_get_function(g, gadget_funcs[i].type,
					      gadget_funcs[i].instance) == f)
				seen |= 1u << i;
	}
	if (n != N_FUNCS || seen != (1u << N_FUNCS) - 1) {
		snprintf(why, len, "configuration's functions differ");
		return false;
	}
	return true;
}

static bool compose_str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

bool compose_layout_matches(struct compose_op *op, usbg_gadget *g, char *why,
			    size_t len)
{
	struct usbg_gadget_attrs ga;
	struct usbg_gadget_strs gs;
	size_t i;
	bool ok;

	if (usbg_get_gadget_attrs(g, &ga) != USBG_SUCCESS) {
		snprintf(why, len, "device attributes unreadable");
		return false;
	}
	if (ga.idVendor != op->vid || ga.idProduct != op->pid) {
		snprintf(why, len, "vendor:product %04x:%04x, %04x:%04x wanted",
			 ga.idVendor, ga.idProduct, op->vid, op->pid);
		return false;
	}
	if (ga.bcdUSB != BCD_USB || ga.bcdDevice != BCD_DEVICE ||
	    ga.bDeviceClass != GADGET_DEVICE_CLASS ||
	    ga.bDeviceSubClass != GADGET_DEVICE_SUBCLASS ||
	    ga.bDeviceProtocol != GADGET_DEVICE_PROTOCOL) {
		snprintf(why, len, "device class or versions differ");
		return false;
	}
	memset(&gs, 0, sizeof(gs));
	if (usbg_get_gadget_strs(g, LANG_US_ENG, &gs) != USBG_SUCCESS) {
		snprintf(why, len, "English strings missing");
		return false;
	}
	const struct {
		const char *what, *have, *want;
	} strs[] = {
		{"manufacturer", gs.manufacturer, op->manufacturer},
		{"product", gs.product, op->product},
		{"serial", gs.serial, op->serial},
	};
	ok = true;
	for (i = 0; ok && i < sizeof(strs) / sizeof(strs[0]); i++) {
		ok = compose_str_eq(strs[i].have, strs[i].want);
		if (!ok)
			snprintf(why, len, "%s string differs", strs[i].what);
	}
	usbg_free_gadget_strs(&gs);
	if (!ok)
		return false;
	return compose_check_funcs(op, g, why, len) &&
	       compose_check_config(g, why, len);
}
