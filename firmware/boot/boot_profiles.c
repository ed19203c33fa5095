/*
 * The firmware profiles table. Hotkeys are the vendors' documented ones
 * (docs/BOOT.md cites each); the navigation lines are for AMI Aptio
 * setup (Save & Exit tab, Boot Override list) and EDK2's front page.
 * Only the OVMF row is proven in the lab; the others start calibration
 * from a documented guess, and calibration corrects the position.
 */
#include "firmware/boot/boot_profiles.h"

#include <stdio.h>
#include <string.h>

/* AMI Aptio: End jumps to the last tab, Save & Exit, whose Boot Override
 * list starts a few lines down, after the save and discard entries. */
#define APTIO_OVERRIDE "END\nDELAY 500\nDOWN\nREPEAT 4\n"

static const struct boot_profile boot_profiles[] = {
	/* EDK2's F2 and Esc both open the front page, whose third entry is
	 * the Boot Manager. Esc on the front page leaves it, so only F2 is
	 * spammed. */
	{"ovmf", "F2", "F2", "DOWN\nDOWN\nENTER\n", "DOWN\nDOWN\nENTER\n", 0,
	 "UEFI <vendor> <product> <serial> (EFI USB Device)"},
	{"dell", "F2", "F12", "", "", 1, "UEFI: <product> (USB)"},
	{"hp", "F10", "F9", "", "", 1, "USB Hard Drive - <product>"},
	{"lenovo", "F1", "F12", "", "", 1, "USB HDD: <vendor> <product>"},
	{"intel-nuc", "F2", "F10", "", "", 1, "UEFI : USB : <product>"},
	{"supermicro", "DELETE", "F11", "", APTIO_OVERRIDE, 1,
	 "UEFI: <vendor> <product>"},
	{"asus", "DELETE F2", "F8", "", APTIO_OVERRIDE, 1,
	 "UEFI: <vendor> <product>"},
	{"msi", "DELETE", "F11", "", APTIO_OVERRIDE, 1,
	 "UEFI: <vendor> <product>"},
	{"gigabyte", "DELETE", "F12", "", APTIO_OVERRIDE, 1,
	 "UEFI: <vendor> <product>"},
	{"asrock", "F2 DELETE", "F11", "", APTIO_OVERRIDE, 1,
	 "UEFI: <vendor> <product>"},
	/* Unknown firmware: the common keys in turn. */
	{"generic", "DELETE F2", "F12 F11 F8", "", "", 1,
	 "UEFI: <vendor> <product>"},
};

const struct boot_profile *boot_profile_find(const char *name)
{
	for (size_t i = 0; i < sizeof(boot_profiles) / sizeof(boot_profiles[0]);
	     i++)
		if (!strcmp(boot_profiles[i].name, name))
			return &boot_profiles[i];
	return NULL;
}

void boot_profile_names(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0;
	     i < sizeof(boot_profiles) / sizeof(boot_profiles[0]) && off < len;
	     i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? ", " : "", boot_profiles[i].name);
}
