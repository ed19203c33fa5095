/*
 * The composite gadget's inside, shared by compose.c (one operation, up,
 * down, status), compose_check.c (the layout checks), compose_build.c
 * (composition) and compose_bind.c (paths and binding).
 */
#ifndef ZB_COMPOSE_PRIV_H
#define ZB_COMPOSE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <usbg/usbg.h>
#include <usbg/function/hid.h>
#include <usbg/function/ms.h>
#include <usbg/function/serial.h>

#include "gadget/compose.h"

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
 * The boot keyboard report descriptor (compose_build.c), which
 * compose_check.c compares an existing gadget's with.
 */
extern const uint8_t gadget_kbd_desc[];
extern const size_t gadget_kbd_desc_size;

/* The functions, in the order their interfaces appear to the host. */
struct gadget_func {
	usbg_function_type type;
	const char *instance;
};

#define N_FUNCS ((size_t)3)
extern const struct gadget_func gadget_funcs[N_FUNCS];

/* One operation: the spec with its defaults, the library state, errors. */
struct compose_op {
	const char *name, *udc, *serial, *manufacturer, *product, *configfs;
	uint16_t vid, pid;
	int luns;
	char gadgets_dir[GADGET_PATH_MAX];
	usbg_state *s;
	char *err;
	size_t errlen;
};

/* compose.c */
int compose_fail(struct compose_op *op, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int compose_usbg_fail(struct compose_op *op, int ret, const char *what);

/* compose_check.c */
bool compose_layout_matches(struct compose_op *op, usbg_gadget *g, char *why,
			    size_t len);

/* compose_build.c */
int compose_create_gadget(struct compose_op *op, usbg_gadget **out);

/* compose_bind.c */
void compose_hid_dev_path(usbg_function *f, char *buf, size_t len);
void compose_fill_info(struct compose_op *op, usbg_gadget *g, usbg_udc *udc,
		       struct gadget_info *info);
int compose_find_udc(struct compose_op *op, usbg_udc **out);
int compose_udc_busy(struct compose_op *op, usbg_udc *udc);
int compose_unbind(struct compose_op *op, usbg_gadget *g);

/* The error of a board without a USB device controller. */
int compose_no_udc(struct compose_op *op);

#endif
