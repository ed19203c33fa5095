/*
 * Firmware profiles: what the boot capability needs to know of a
 * server's firmware to reach its boot menus blind. Data only; the
 * sources of every row are in docs/BOOT.md.
 */
#ifndef ZB_BOOT_PROFILES_H
#define ZB_BOOT_PROFILES_H

#include <stddef.h>

struct boot_profile {
	const char *name;
	/* Macro key names (docs/MACROS.md), pressed in turn while it starts. */
	const char *setup_keys;
	const char *menu_keys;
	/* Macro lines from the first screen after the menu key to the list
	 * of boot devices ("" when the key opens the list itself). */
	const char *menu_nav;
	/* The same from the first screen of setup to a list of boot
	 * devices that boots the one chosen (a boot manager or override). */
	const char *setup_nav;
	/* The first position (DOWN presses) to try for the USB entry. */
	unsigned int usb_position;
	/* How the menus list the gadget's drive, for people (docs, state). */
	const char *usb_entry;
};

/* The profile of [server] firmware, or NULL when the name is unknown. */
const struct boot_profile *boot_profile_find(const char *name);
/* The names, comma-separated, for error messages. */
void boot_profile_names(char *buf, size_t len);

#endif
