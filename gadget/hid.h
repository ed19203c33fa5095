/*
 * The HID keyboard device (/dev/hidgN, or a pseudo-terminal standing in
 * for it): non-blocking report writes and LED report reads. f_hid keeps
 * one report in flight: EAGAIN means the host has not polled yet,
 * ESHUTDOWN that the function is not bound.
 */
#ifndef ZB_HID_H
#define ZB_HID_H

#include <stdint.h>

#include "gadget/hid_report.h"

/* Opens non-blocking; a tty is put into raw mode. Returns fd or -errno. */
int hid_open(const char *path);
/* 0, -EAGAIN (host busy or not polling), -ESHUTDOWN, or -errno. */
int hid_report_write(int fd, const struct hid_report *r);
/*
 * Reads the latest LED report: 0 with *leds set, -EAGAIN, -EPIPE at end
 * of file (the device or its stand-in is gone), or -errno.
 */
int hid_led_read(int fd, uint8_t *leds);

#endif
