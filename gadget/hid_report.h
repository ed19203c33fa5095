/* The 8-byte boot-protocol keyboard report and its modifier bits. */
#ifndef ZB_HID_REPORT_H
#define ZB_HID_REPORT_H

#include <stdint.h>
#include <string.h>

#define HID_REPORT_LEN 8

enum hid_mod {
	HID_MOD_LCTRL = 0x01,
	HID_MOD_LSHIFT = 0x02,
	HID_MOD_LALT = 0x04,
	HID_MOD_LGUI = 0x08,
	HID_MOD_RCTRL = 0x10,
	HID_MOD_RSHIFT = 0x20,
	HID_MOD_RALT = 0x40, /* AltGr on European layouts */
	HID_MOD_RGUI = 0x80,
};

/* LED output report bits sent by the host. */
enum hid_led {
	HID_LED_NUM = 0x01,
	HID_LED_CAPS = 0x02,
	HID_LED_SCROLL = 0x04,
};

struct hid_report {
	uint8_t b[HID_REPORT_LEN]; /* mods, reserved, six usages */
};

static inline void hid_report_clear(struct hid_report *r)
{
	memset(r->b, 0, sizeof(r->b));
}

#endif
