/* Composition: the keyboard descriptor, the functions, the gadget. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gadget/compose_priv.h"

/*
 * The boot keyboard report descriptor of the HID 1.11 specification
 * (appendix B.1 and E.6): modifier byte, reserved byte, five LED bits of
 * output report padded to a byte, six key slots. The key array's range
 * is widened from 0..101 to 0..255 so that F13-F24, the international and
 * language keys reach an operating system; firmware in boot protocol
 * ignores the descriptor.
 */
const uint8_t gadget_kbd_desc[] = {
	0x05, 0x01,	  /* Usage Page (Generic Desktop) */
	0x09, 0x06,	  /* Usage (Keyboard) */
	0xa1, 0x01,	  /* Collection (Application) */
	0x05, 0x07,	  /*   Usage Page (Keyboard/Keypad) */
	0x19, 0xe0,	  /*   Usage Minimum (Left Control) */
	0x29, 0xe7,	  /*   Usage Maximum (Right GUI) */
	0x15, 0x00,	  /*   Logical Minimum (0) */
	0x25, 0x01,	  /*   Logical Maximum (1) */
	0x75, 0x01,	  /*   Report Size (1) */
	0x95, 0x08,	  /*   Report Count (8) */
	0x81, 0x02,	  /*   Input (Data, Variable, Absolute): modifiers */
	0x95, 0x01,	  /*   Report Count (1) */
	0x75, 0x08,	  /*   Report Size (8) */
	0x81, 0x01,	  /*   Input (Constant): reserved byte */
	0x95, 0x05,	  /*   Report Count (5) */
	0x75, 0x01,	  /*   Report Size (1) */
	0x05, 0x08,	  /*   Usage Page (LEDs) */
	0x19, 0x01,	  /*   Usage Minimum (Num Lock) */
	0x29, 0x05,	  /*   Usage Maximum (Kana) */
	0x91, 0x02,	  /*   Output (Data, Variable, Absolute): LEDs */
	0x95, 0x01,	  /*   Report Count (1) */
	0x75, 0x03,	  /*   Report Size (3) */
	0x91, 0x01,	  /*   Output (Constant): LED padding */
	0x95, 0x06,	  /*   Report Count (6) */
	0x75, 0x08,	  /*   Report Size (8) */
	0x15, 0x00,	  /*   Logical Minimum (0) */
	0x26, 0xff, 0x00, /* Logical Maximum (255) */
	0x05, 0x07,	  /*   Usage Page (Keyboard/Keypad) */
	0x19, 0x00,	  /*   Usage Minimum (0) */
	0x2a, 0xff, 0x00, /* Usage Maximum (255) */
	0x81, 0x00,	  /*   Input (Data, Array): six key slots */
	0xc0,		  /* End Collection */
};

const size_t gadget_kbd_desc_size = sizeof(gadget_kbd_desc);

/* The functions, in the order their interfaces appear to the host. */
const struct gadget_func gadget_funcs[] = {
	/* Some PC firmware only looks for a boot keyboard at interface 0. */
	{USBG_F_HID, F_HID_INSTANCE},
	{USBG_F_MASS_STORAGE, F_MS_INSTANCE},
	{USBG_F_ACM, F_ACM_INSTANCE},
};

/* Composition. */

static int compose_create_funcs(struct compose_op *op, usbg_gadget *g,
				usbg_function **fs)
{
	struct usbg_f_hid_attrs hid = {
		.protocol = 1, /* keyboard */
		.subclass = 1, /* boot interface */
		.report_length = 8,
		.report_desc = {.desc = (char *)gadget_kbd_desc,
				.len = gadget_kbd_desc_size},
	};
	struct usbg_f_ms_lun_attrs lun[GADGET_LUNS_MAX];
	struct usbg_f_ms_lun_attrs *luns[GADGET_LUNS_MAX + 1];
	/*
	 * Stalling bulk endpoints is what the Bulk-Only Transport spec asks
	 * for and the kernel's default; set it explicitly so a changed
	 * default cannot make firmware see a different drive.
	 */
	struct usbg_f_ms_attrs ms = {
		.stall = true, .nluns = op->luns, .luns = luns};
	void *attrs[N_FUNCS] = {&hid, &ms, NULL};
	char what[96];
	size_t i;
	int ret;

	for (i = 0; i < (size_t)op->luns; i++) {
		lun[i] = (struct usbg_f_ms_lun_attrs){
			.id = (int)i,
			.removable = true,
			.file = "",
		};
		luns[i] = &lun[i];
	}
	luns[op->luns] = NULL;

	for (i = 0; i < N_FUNCS; i++) {
		ret = usbg_create_function(g, gadget_funcs[i].type,
					   gadget_funcs[i].instance, attrs[i],
					   &fs[i]);
		if (ret != USBG_SUCCESS) {
			snprintf(what, sizeof(what), "creating function %s.%s",
				 usbg_get_function_type_str(
					 gadget_funcs[i].type),
				 gadget_funcs[i].instance);
			if (ret == USBG_ERROR_NOT_FOUND ||
			    ret == USBG_ERROR_NO_DEV)
				return compose_fail(
					op, -ENOENT,
					"%s: kernel module missing: "
					"modprobe usb_f_%s",
					what,
					usbg_get_function_type_str(
						gadget_funcs[i].type));
			return compose_usbg_fail(op, ret, what);
		}
	}
	return 0;
}

int compose_create_gadget(struct compose_op *op, usbg_gadget **out)
{
	struct usbg_gadget_attrs ga = {
		.bcdUSB = BCD_USB,
		.bDeviceClass = GADGET_DEVICE_CLASS,
		.bDeviceSubClass = GADGET_DEVICE_SUBCLASS,
		.bDeviceProtocol = GADGET_DEVICE_PROTOCOL,
		.bMaxPacketSize0 = 64,
		.idVendor = op->vid,
		.idProduct = op->pid,
		.bcdDevice = BCD_DEVICE,
	};
	struct usbg_gadget_strs gs = {
		.manufacturer = (char *)op->manufacturer,
		.product = (char *)op->product,
		.serial = (char *)op->serial,
	};
	struct usbg_config_attrs ca = {
		.bmAttributes = CFG_ATTRS,
		.bMaxPower = CFG_MAX_POWER,
	};
	struct usbg_config_strs cs = {.configuration = CFG_STRING};
	usbg_function *fs[N_FUNCS];
	usbg_gadget *g;
	usbg_config *c;
	size_t i;
	int ret;

	ret = usbg_create_gadget(op->s, op->name, &ga, &gs, &g);
	if (ret != USBG_SUCCESS)
		return compose_usbg_fail(op, ret, "creating the gadget");
	ret = compose_create_funcs(op, g, fs);
	if (ret < 0)
		goto fail;
	ret = usbg_create_config(g, CFG_ID, CFG_LABEL, &ca, &cs, &c);
	if (ret != USBG_SUCCESS) {
		ret = compose_usbg_fail(op, ret, "creating the configuration");
		goto fail;
	}
	for (i = 0; i < N_FUNCS; i++) {
		char link[USBG_MAX_NAME_LENGTH];

		snprintf(link, sizeof(link), "%s.%s",
			 usbg_get_function_type_str(gadget_funcs[i].type),
			 gadget_funcs[i].instance);
		ret = usbg_add_config_function(c, link, fs[i]);
		if (ret != USBG_SUCCESS) {
			ret = compose_usbg_fail(op, ret, "adding a function");
			goto fail;
		}
	}
	*out = g;
	return 0;
fail:
	/* Leave no half-built gadget behind for the next attempt. */
	usbg_rm_gadget(g, USBG_RM_RECURSE);
	return ret;
}
