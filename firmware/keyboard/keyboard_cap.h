/*
 * The keyboard capability (agent/cap.h): the HID device of the gadget, the
 * key, type and reboot commands, and state.keyboard. Its handle lets
 * other capabilities (the timeline, macros) hear the host's LEDs, run
 * their own jobs on the device, and claim the keyboard so that the
 * commands answer busy while, say, a macro owns it.
 */
#ifndef ZB_KEYBOARD_CAP_H
#define ZB_KEYBOARD_CAP_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/agent/cap.h"
#include "gadget/layout.h"
#include "gadget/typing.h"

struct keyboard;
struct keyboard_cap;

/* After host and power: reboot hard presses the reset pin. */
extern const struct cap_def keyboard_cap;

#define KEYBOARD_LISTENERS 4
struct keyboard_listener {
	void (*leds)(void *data, uint8_t leds);
	/* The host takes reports again, or stopped taking them. */
	void (*host)(void *data, bool taking_reports);
};
int keyboard_cap_listen(struct keyboard_cap *k,
			const struct keyboard_listener *l, void *data);

/* The device, for a capability that runs its own jobs on it. */
struct keyboard *keyboard_cap_device(struct keyboard_cap *k);
const struct layout *keyboard_cap_layout(const struct keyboard_cap *k);
enum typing_profile keyboard_cap_profile(const struct keyboard_cap *k);

/*
 * Own the keyboard: until keyboard_cap_unclaim, key, type and reboot
 * commands answer busy with why (a string that outlives the claim).
 */
void keyboard_cap_claim(struct keyboard_cap *k, const char *why);
void keyboard_cap_unclaim(struct keyboard_cap *k);
/* Why the keyboard is claimed, or NULL. */
const char *keyboard_cap_claimed(const struct keyboard_cap *k);

#endif
