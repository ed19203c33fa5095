/* The composite gadget in configfs, through libusbgx. */
#include "gadget/compose.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <usbg/usbg.h>
#include <usbg/function/hid.h>
#include <usbg/function/ms.h>
#include <usbg/function/serial.h>

#include "gadget/udc.h"

/*
 * Class 0 (defined per interface), not 0xEF/02/01 (interface association):
 * EDK2 UEFI firmware (OVMF, and the many BIOSes built on EDK2) matches the
 * boot keyboard for its console input by the device's class fields, so
 * with 0xEF it lists the keyboard but never reads it (measured in the
 * lab: nothing typed arrived). Linux and firmware bind CDC-ACM either
 * way; Windows wants 0xEF for the serial port's association, which
 * matters less than a keyboard that works in the BIOS.
 */
#define GADGET_DEVICE_CLASS 0x00
#define GADGET_DEVICE_SUBCLASS 0x00
#define GADGET_DEVICE_PROTOCOL 0x00

#define F_HID_INSTANCE "keyboard"
#define F_MS_INSTANCE "media"
#define F_ACM_INSTANCE "console"
#define CFG_LABEL "c"
#define CFG_ID 1
#define CFG_STRING "keyboard, media and console"
/* Bit 7 is reserved and must be set; bit 5 is remote wakeup. */
#define CFG_ATTRS 0xa0
/* configfs takes milliamperes; a Pi Zero with its radio off stays below. */
#define CFG_MAX_POWER 250
#define BCD_USB 0x0200
#define BCD_DEVICE 0x0100

/*
 * The boot keyboard report descriptor of the HID 1.11 specification
 * (appendix B.1 and E.6): modifier byte, reserved byte, five LED bits of
 * output report padded to a byte, six key slots. The key array's range
 * is widened from 0..101 to 0..255 so that F13-F24, the international and
 * language keys reach an operating system; firmware in boot protocol
 * ignores the descriptor.
 */
static const uint8_t gadget_kbd_desc[] = {
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

/* One operation: the spec with its defaults, the library state, errors. */
struct op {
	const char *name, *udc, *serial, *manufacturer, *product, *configfs;
	uint16_t vid, pid;
	int luns;
	char gadgets_dir[GADGET_PATH_MAX];
	usbg_state *s;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int op_fail(struct op *op, int rc,
							 const char *fmt, ...)
{
	va_list ap;

	if (op->err && op->errlen) {
		va_start(ap, fmt);
		vsnprintf(op->err, op->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static const struct {
	int usbg;
	int err;
} usbg_errnos[] = {
	{USBG_ERROR_NO_MEM, ENOMEM},
	{USBG_ERROR_NO_ACCESS, EACCES},
	{USBG_ERROR_INVALID_PARAM, EINVAL},
	{USBG_ERROR_NOT_FOUND, ENOENT},
	{USBG_ERROR_IO, EIO},
	{USBG_ERROR_EXIST, EEXIST},
	{USBG_ERROR_NO_DEV, ENODEV},
	{USBG_ERROR_BUSY, EBUSY},
	{USBG_ERROR_NOT_SUPPORTED, EOPNOTSUPP},
	{USBG_ERROR_PATH_TOO_LONG, ENAMETOOLONG},
	{USBG_ERROR_INVALID_FORMAT, EINVAL},
	{USBG_ERROR_MISSING_TAG, EINVAL},
	{USBG_ERROR_INVALID_TYPE, EINVAL},
	{USBG_ERROR_INVALID_VALUE, EINVAL},
	{USBG_ERROR_NOT_EMPTY, ENOTEMPTY},
};

static int usbg_errno(int ret)
{
	size_t i;

	for (i = 0; i < sizeof(usbg_errnos) / sizeof(usbg_errnos[0]); i++)
		if (usbg_errnos[i].usbg == ret)
			return -usbg_errnos[i].err;
	return -EIO;
}

/* A libusbgx failure while doing what: permission problems get the fix. */
static int op_usbg_fail(struct op *op, int ret, const char *what)
{
	if (ret == USBG_ERROR_NO_ACCESS)
		return op_fail(op, -EACCES,
			       "%s: permission denied in %s: run as root", what,
			       op->gadgets_dir);
	return op_fail(op, usbg_errno(ret), "%s: %s", what,
		       usbg_strerror((usbg_error)ret));
}

static const char *or_default(const char *s, const char *def)
{
	return s && *s ? s : def;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= USBG_MAX_NAME_LENGTH || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") == n;
}

static bool string_valid(const char *s)
{
	size_t n = strlen(s);

	if (n > GADGET_STR_MAX)
		return false;
	while (n-- > 0)
		if (iscntrl((unsigned char)s[n]))
			return false;
	return true;
}

static int op_resolve(struct op *op, const struct gadget_spec *spec)
{
	size_t i;

	op->name = or_default(spec->name, GADGET_DEFAULT_NAME);
	op->udc = or_default(spec->udc, "");
	op->manufacturer =
		or_default(spec->manufacturer, GADGET_DEFAULT_MANUFACTURER);
	op->product = or_default(spec->product, GADGET_DEFAULT_PRODUCT);
	op->serial = or_default(spec->serial, GADGET_DEFAULT_SERIAL);
	op->configfs = or_default(spec->configfs, GADGET_DEFAULT_CONFIGFS);
	op->vid = spec->vendor_id ? spec->vendor_id : GADGET_DEFAULT_VID;
	op->pid = spec->product_id ? spec->product_id : GADGET_DEFAULT_PID;
	op->luns = spec->luns ? spec->luns : 1;

	if (!name_valid(op->name))
		return op_fail(op, -EINVAL,
			       "gadget name '%s': use 1 to %d letters, digits, "
			       "'.', '_' or '-'",
			       op->name, USBG_MAX_NAME_LENGTH - 1);
	if (op->luns < 1 || op->luns > GADGET_LUNS_MAX)
		return op_fail(op, -EINVAL, "gadget luns %d: allowed 1 to %d",
			       op->luns, GADGET_LUNS_MAX);

	const struct {
		const char *what, *s;
	} strs[] = {
		{"serial", op->serial},
		{"manufacturer", op->manufacturer},
		{"product", op->product},
	};

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!string_valid(strs[i].s))
			return op_fail(op, -EINVAL,
				       "gadget %s string: at most %d "
				       "characters, no control characters",
				       strs[i].what, GADGET_STR_MAX);
	return 0;
}

/* Check the kernel side, then let libusbgx read configfs and the UDCs. */
static int op_open(struct op *op, const struct gadget_spec *spec, char *err,
		   size_t errlen)
{
	struct stat st;
	int n, ret;

	memset(op, 0, sizeof(*op));
	op->err = err;
	op->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	ret = op_resolve(op, spec);
	if (ret < 0)
		return ret;

	n = snprintf(op->gadgets_dir, sizeof(op->gadgets_dir), "%s/usb_gadget",
		     op->configfs);
	/* Room for "/<name>/functions/mass_storage.media/lun.N" below. */
	if (n < 0 ||
	    (size_t)n + USBG_MAX_NAME_LENGTH + 48 > sizeof(op->gadgets_dir))
		return op_fail(op, -ENAMETOOLONG, "configfs path too long");
	if (stat(op->gadgets_dir, &st) < 0) {
		if (errno == EACCES)
			return op_fail(op, -EACCES,
				       "%s: permission denied: run as root",
				       op->gadgets_dir);
		return op_fail(
			op, -ENODEV,
			"%s missing: configfs not mounted or libcomposite "
			"not loaded: modprobe libcomposite",
			op->gadgets_dir);
	}
	/* libusbgx reads the UDC list from here and fails without it. */
	if (stat(UDC_CLASS_DIR, &st) < 0)
		return op_fail(op, -ENODEV,
			       "no USB device controller in %s: on a Raspberry "
			       "Pi add dtoverlay=dwc2 to config.txt and dwc2 "
			       "to modules",
			       UDC_CLASS_DIR);
	ret = usbg_init(op->configfs, &op->s);
	if (ret != USBG_SUCCESS) {
		op->s = NULL;
		return op_usbg_fail(op, ret, "reading the gadgets in configfs");
	}
	return 0;
}

static void op_close(struct op *op)
{
	if (op->s)
		usbg_cleanup(op->s);
	op->s = NULL;
}

/* Layout checks: each returns false and names the difference. */

static bool check_hid(usbg_function *f, char *why, size_t len)
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
	     a.report_desc.len == sizeof(gadget_kbd_desc) &&
	     memcmp(a.report_desc.desc, gadget_kbd_desc,
		    sizeof(gadget_kbd_desc)) == 0;
	usbg_f_hid_cleanup_attrs(&a);
	if (!ok)
		snprintf(why, len, "HID keyboard attributes differ");
	return ok;
}

static bool check_ms(usbg_function *f, int luns, char *why, size_t len)
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

/* The functions, in the order their interfaces appear to the host. */
static const struct {
	usbg_function_type type;
	const char *instance;
} gadget_funcs[] = {
	/* Some PC firmware only looks for a boot keyboard at interface 0. */
	{USBG_F_HID, F_HID_INSTANCE},
	{USBG_F_MASS_STORAGE, F_MS_INSTANCE},
	{USBG_F_ACM, F_ACM_INSTANCE},
};

#define N_FUNCS (sizeof(gadget_funcs) / sizeof(gadget_funcs[0]))

static bool check_funcs(struct op *op, usbg_gadget *g, char *why, size_t len)
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
		    !check_hid(f, why, len))
			return false;
		if (gadget_funcs[i].type == USBG_F_MASS_STORAGE &&
		    !check_ms(f, op->luns, why, len))
			return false;
	}
	return true;
}

static bool check_config(usbg_gadget *g, char *why, size_t len)
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

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool layout_matches(struct op *op, usbg_gadget *g, char *why, size_t len)
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
		ok = str_eq(strs[i].have, strs[i].want);
		if (!ok)
			snprintf(why, len, "%s string differs", strs[i].what);
	}
	usbg_free_gadget_strs(&gs);
	if (!ok)
		return false;
	return check_funcs(op, g, why, len) && check_config(g, why, len);
}

/* Composition. */

static int create_funcs(struct op *op, usbg_gadget *g, usbg_function **fs)
{
	struct usbg_f_hid_attrs hid = {
		.protocol = 1, /* keyboard */
		.subclass = 1, /* boot interface */
		.report_length = 8,
		.report_desc = {.desc = (char *)gadget_kbd_desc,
				.len = sizeof(gadget_kbd_desc)},
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
				return op_fail(op, -ENOENT,
					       "%s: kernel module missing: "
					       "modprobe usb_f_%s",
					       what,
					       usbg_get_function_type_str(
						       gadget_funcs[i].type));
			return op_usbg_fail(op, ret, what);
		}
	}
	return 0;
}

static int create_gadget(struct op *op, usbg_gadget **out)
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
		return op_usbg_fail(op, ret, "creating the gadget");
	ret = create_funcs(op, g, fs);
	if (ret < 0)
		goto fail;
	ret = usbg_create_config(g, CFG_ID, CFG_LABEL, &ca, &cs, &c);
	if (ret != USBG_SUCCESS) {
		ret = op_usbg_fail(op, ret, "creating the configuration");
		goto fail;
	}
	for (i = 0; i < N_FUNCS; i++) {
		char link[USBG_MAX_NAME_LENGTH];

		snprintf(link, sizeof(link), "%s.%s",
			 usbg_get_function_type_str(gadget_funcs[i].type),
			 gadget_funcs[i].instance);
		ret = usbg_add_config_function(c, link, fs[i]);
		if (ret != USBG_SUCCESS) {
			ret = op_usbg_fail(op, ret, "adding a function");
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

/* Where things are. */

static void hid_dev_path(usbg_function *f, char *buf, size_t len)
{
	char link[64], target[GADGET_PATH_MAX];
	const char *base;
	dev_t dev;
	ssize_t n;

	buf[0] = '\0';
	if (!f ||
	    usbg_f_hid_get_dev(usbg_to_hid_function(f), &dev) != USBG_SUCCESS)
		return;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u", major(dev),
		 minor(dev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		base = strrchr(target, '/');
		snprintf(buf, len, "/dev/%s", base ? base + 1 : target);
		return;
	}
	/* Not bound yet: the kernel names the device after its minor. */
	snprintf(buf, len, "/dev/hidg%u", minor(dev));
}

static void fill_info(struct op *op, usbg_gadget *g, usbg_udc *udc,
		      struct gadget_info *info)
{
	usbg_function *f;
	int i, port, nluns = 0;

	snprintf(info->name, sizeof(info->name), "%s", op->name);
	info->udc[0] = info->udc_state[0] = '\0';
	if (udc) {
		snprintf(info->udc, sizeof(info->udc), "%s",
			 usbg_get_udc_name(udc));
		udc_state_path(info->udc_state, sizeof(info->udc_state),
			       info->udc);
	}
	hid_dev_path(usbg_get_function(g, USBG_F_HID, F_HID_INSTANCE),
		     info->hid_dev, sizeof(info->hid_dev));

	info->acm_tty[0] = '\0';
	f = usbg_get_function(g, USBG_F_ACM, F_ACM_INSTANCE);
	if (f && usbg_f_serial_get_port_num(usbg_to_serial_function(f),
					    &port) == USBG_SUCCESS)
		snprintf(info->acm_tty, sizeof(info->acm_tty), "/dev/ttyGS%d",
			 port);

	f = usbg_get_function(g, USBG_F_MASS_STORAGE, F_MS_INSTANCE);
	if (!f ||
	    usbg_f_ms_get_nluns(usbg_to_ms_function(f), &nluns) != USBG_SUCCESS)
		nluns = 0;
	if (nluns > GADGET_LUNS_MAX)
		nluns = GADGET_LUNS_MAX;
	info->nluns = nluns;
	for (i = 0; i < nluns; i++) {
		int n = snprintf(info->lun[i], sizeof(info->lun[i]),
				 "%s/%s/functions/mass_storage.%s/lun.%d",
				 op->gadgets_dir, op->name, F_MS_INSTANCE, i);

		/* op_open() keeps the configfs path short enough. */
		if (n < 0 || (size_t)n >= sizeof(info->lun[i]))
			info->lun[i][0] = '\0';
	}
}

/* Binding. */

static int find_udc(struct op *op, usbg_udc **out)
{
	char names[128] = "";
	usbg_udc *u;
	size_t n = 0;

	if (!*op->udc) {
		*out = usbg_get_first_udc(op->s);
		if (*out)
			return 0;
		return op_fail(op, -ENODEV,
			       "no USB device controller in %s: on a Raspberry "
			       "Pi add dtoverlay=dwc2 to config.txt and dwc2 "
			       "to modules",
			       UDC_CLASS_DIR);
	}
	*out = usbg_get_udc(op->s, op->udc);
	if (*out)
		return 0;
	for (u = usbg_get_first_udc(op->s); u; u = usbg_get_next_udc(u)) {
		int w = snprintf(names + n, sizeof(names) - n, "%s%s",
				 n ? ", " : "", usbg_get_udc_name(u));

		if (w < 0 || (size_t)w >= sizeof(names) - n)
			break;
		n += (size_t)w;
	}
	return op_fail(op, -ENODEV, "UDC '%s' not found in %s (there: %s)",
		       op->udc, UDC_CLASS_DIR, n ? names : "none");
}

static int udc_busy(struct op *op, usbg_udc *udc)
{
	usbg_gadget *other = usbg_get_udc_gadget(udc);

	return op_fail(op, -EBUSY,
		       "UDC %s is busy: gadget '%s' is bound to it (unbind "
		       "it: echo \"\" > %s/%s/UDC)",
		       usbg_get_udc_name(udc),
		       other ? usbg_get_gadget_name(other) : "?",
		       op->gadgets_dir,
		       other ? usbg_get_gadget_name(other) : "?");
}

static int unbind(struct op *op, usbg_gadget *g)
{
	int ret = usbg_disable_gadget(g);

	if (ret != USBG_SUCCESS)
		return op_usbg_fail(op, ret, "unbinding the gadget");
	return 0;
}

int gadget_up(const struct gadget_spec *spec,
	      int (*before_bind)(const struct gadget_info *info, void *user),
	      void *user, struct gadget_info *out, char *err, size_t errlen)
{
	usbg_udc *cur = NULL, *udc = NULL;
	usbg_gadget *g, *other;
	struct op op;
	bool keep;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = op_open(&op, spec, err, errlen);
	if (ret < 0)
		goto out;

	g = usbg_get_gadget(op.s, op.name);
	if (g) {
		out->existed = true;
		out->matches = layout_matches(&op, g, out->mismatch,
					      sizeof(out->mismatch));
		cur = usbg_get_gadget_udc(g);
	}
	/* Left alone: same layout, bound, and to the UDC asked for. */
	keep = g && out->matches && cur &&
	       (!*op.udc || strcmp(op.udc, usbg_get_udc_name(cur)) == 0);
	if (keep) {
		udc = cur;
	} else {
		/* Find the UDC and check it is free before touching anything.
		 */
		ret = find_udc(&op, &udc);
		if (ret < 0)
			goto out;
		other = usbg_get_udc_gadget(udc);
		if (other && other != g) {
			ret = udc_busy(&op, udc);
			goto out;
		}
	}

	if (g && !out->matches) {
		if (cur) {
			ret = unbind(&op, g);
			if (ret < 0)
				goto out;
		}
		ret = usbg_rm_gadget(g, USBG_RM_RECURSE);
		if (ret != USBG_SUCCESS) {
			ret = op_usbg_fail(&op, ret,
					   "removing the old gadget to rebuild "
					   "it");
			goto out;
		}
		g = NULL;
	} else if (g && cur && !keep) {
		ret = unbind(&op, g);
		if (ret < 0)
			goto out;
	}
	if (!g) {
		ret = create_gadget(&op, &g);
		if (ret < 0)
			goto out;
	}

	out->was_bound = keep;
	out->bound = keep;
	fill_info(&op, g, udc, out);
	if (before_bind) {
		ret = before_bind(out, user);
		if (ret < 0) {
			ret = op_fail(&op, ret, "before binding: %s",
				      strerror(-ret));
			goto out;
		}
	}
	if (!keep) {
		ret = usbg_enable_gadget(g, udc);
		if (ret == USBG_ERROR_BUSY) {
			ret = udc_busy(&op, udc);
			goto out;
		}
		if (ret != USBG_SUCCESS) {
			char what[96];

			snprintf(what, sizeof(what), "binding to UDC %s",
				 usbg_get_udc_name(udc));
			ret = op_usbg_fail(&op, ret, what);
			goto out;
		}
		out->bound = true;
		/* The HID device node exists now: take its real name. */
		hid_dev_path(usbg_get_function(g, USBG_F_HID, F_HID_INSTANCE),
			     out->hid_dev, sizeof(out->hid_dev));
	}
	ret = 0;
out:
	op_close(&op);
	return ret;
}

int gadget_down(const struct gadget_spec *spec, char *err, size_t errlen)
{
	usbg_gadget *g;
	struct op op;
	int ret;

	ret = op_open(&op, spec, err, errlen);
	if (ret < 0)
		goto out;
	g = usbg_get_gadget(op.s, op.name);
	if (!g) {
		ret = op_fail(&op, -ENOENT, "gadget '%s' does not exist in %s",
			      op.name, op.gadgets_dir);
		goto out;
	}
	if (usbg_get_gadget_udc(g)) {
		ret = unbind(&op, g);
		if (ret < 0)
			goto out;
	}
	ret = usbg_rm_gadget(g, USBG_RM_RECURSE);
	if (ret != USBG_SUCCESS)
		ret = op_usbg_fail(&op, ret, "removing the gadget");
out:
	op_close(&op);
	return ret;
}

int gadget_status(const struct gadget_spec *spec, struct gadget_info *out,
		  bool *bound, char *err, size_t errlen)
{
	usbg_gadget *g;
	usbg_udc *udc;
	struct op op;
	int ret;

	memset(out, 0, sizeof(*out));
	*bound = false;
	ret = op_open(&op, spec, err, errlen);
	if (ret < 0)
		goto out;
	g = usbg_get_gadget(op.s, op.name);
	if (!g) {
		ret = op_fail(&op, -ENOENT, "gadget '%s' does not exist in %s",
			      op.name, op.gadgets_dir);
		goto out;
	}
	udc = usbg_get_gadget_udc(g);
	out->existed = true;
	out->matches =
		layout_matches(&op, g, out->mismatch, sizeof(out->mismatch));
	out->bound = *bound = udc != NULL;
	out->was_bound = out->bound;
	fill_info(&op, g, udc, out);
out:
	op_close(&op);
	return ret;
}
