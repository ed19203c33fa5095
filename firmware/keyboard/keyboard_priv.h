/* Inside the keyboard capability: shared by keyboard_cap.c and _cmd.c. */
#ifndef ZB_KEYBOARD_PRIV_H
#define ZB_KEYBOARD_PRIV_H

#include "firmware/core/listeners.h"
#include "firmware/keyboard/keyboard.h"
#include "firmware/keyboard/keyboard_cap.h"

struct keyboard_cap {
	const struct cap *c;
	struct keyboard *kb;
	const struct layout *layout;
	enum typing_profile profile;
	struct cmd_req *req; /* the command whose job runs */
	const char *claim;   /* who owns the keyboard, or NULL */
	struct power_cap *power;
	/* The two halves of every keyboard_listener, side by side. */
	struct listeners leds, host;
};

void keyboard_cmd_key(void *self, struct cmd_req *req);
void keyboard_cmd_type(void *self, struct cmd_req *req);
void keyboard_cmd_reboot(void *self, struct cmd_req *req);

#endif
