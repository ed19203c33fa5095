/* Where the gadget's parts are, and binding it to a UDC. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gadget/compose_priv.h"
#include "gadget/udc.h"

/* Where things are. */

void compose_hid_dev_path(usbg_function *f, char *buf, size_t len)
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

void compose_fill_info(struct compose_op *op, usbg_gadget *g, usbg_udc *udc,
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
	compose_hid_dev_path(usbg_get_function(g, USBG_F_HID, F_HID_INSTANCE),
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

		/* op_open() (compose.c) keeps the configfs path short enough.
		 */
		if (n < 0 || (size_t)n >= sizeof(info->lun[i]))
			info->lun[i][0] = '\0';
	}
}

/* Binding. */

int compose_no_udc(struct compose_op *op)
{
	return compose_fail(op, -ENODEV,
			    "no USB device controller in %s: on a Raspberry "
			    "Pi add dtoverlay=dwc2 to config.txt and dwc2 to "
			    "modules",
			    UDC_CLASS_DIR);
}

int compose_find_udc(struct compose_op *op, usbg_udc **out)
{
	char names[128] = "";
	usbg_udc *u;
	size_t n = 0;

	if (!*op->udc) {
		*out = usbg_get_first_udc(op->s);
		if (*out)
			return 0;
		return compose_no_udc(op);
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
	return compose_fail(op, -ENODEV, "UDC '%s' not found in %s (there: %s)",
			    op->udc, UDC_CLASS_DIR, n ? names : "none");
}

int compose_udc_busy(struct compose_op *op, usbg_udc *udc)
{
	usbg_gadget *other = usbg_get_udc_gadget(udc);

	return compose_fail(
		op, -EBUSY,
		"UDC %s is busy: gadget '%s' is bound to it (unbind "
		"it: echo \"\" > %s/%s/UDC)",
		usbg_get_udc_name(udc),
		other ? usbg_get_gadget_name(other) : "?", op->gadgets_dir,
		other ? usbg_get_gadget_name(other) : "?");
}

int compose_unbind(struct compose_op *op, usbg_gadget *g)
{
	int ret = usbg_disable_gadget(g);

	if (ret != USBG_SUCCESS)
		return compose_usbg_fail(op, ret, "unbinding the gadget");
	return 0;
}
