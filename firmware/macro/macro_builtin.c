/*
 * The built-in macros, as scripts. A file of the same name in the macros
 * folder replaces one: copy it there and change the keys or times to
 * suit a particular machine.
 */
#include <stdbool.h>
#include <string.h>

#include "firmware/macro/macro_store.h"

static const struct macro_builtin builtins[] = {
	{
		"enter_setup",
		"reboot and enter the firmware setup (Del, F2)",
		"REM Reboot (Ctrl+Alt+Del), then press Delete and F2 in turn\n"
		"REM from the reboot until the server's USB comes back, and\n"
		"REM for a while after, when the firmware reads its hotkeys.\n"
		"PROFILE bios\n"
		"REBOOT soft\n"
		"SPAM DELETE F2 100ms 2m\n"
		"WAIT_USB configured 2m\n"
		"SPAM DELETE F2 100ms 15s\n",
	},
	{
		"boot_menu",
		"reboot and open the firmware boot menu (F12, F11, Esc)",
		"REM Reboot (Ctrl+Alt+Del), then press F12, F11 and Escape in\n"
		"REM turn from the reboot until the server's USB comes back,\n"
		"REM and for a while after. Most machines use one of them;\n"
		"REM copy this to boot_menu.txt with only yours.\n"
		"PROFILE bios\n"
		"REBOOT soft\n"
		"SPAM F12 F11 ESCAPE 100ms 2m\n"
		"WAIT_USB configured 2m\n"
		"SPAM F12 F11 ESCAPE 100ms 15s\n",
	},
	{
		"ctrl_alt_del",
		"press Ctrl+Alt+Del",
		"CTRL ALT DELETE\n",
	},
	{
		"sysrq_reboot",
		"reboot a hung Linux with Alt+SysRq R E I S U B",
		"REBOOT sysrq\n",
	},
	{NULL, NULL, NULL},
};

const struct macro_builtin *macro_builtins(void)
{
	return builtins;
}

const struct macro_builtin *macro_builtin_find(const char *name)
{
	for (const struct macro_builtin *b = builtins; b->name; b++)
		if (!strcmp(b->name, name))
			return b;
	return NULL;
}

const char *macro_available_at(const char (*files)[MACRO_NAME_MAX + 1],
			       size_t n, size_t i)
{
	if (i < n)
		return files[i];
	i -= n;
	for (const struct macro_builtin *b = builtins; b->name; b++) {
		bool file = false;

		for (size_t j = 0; j < n && !file; j++)
			file = !strcmp(files[j], b->name);
		if (!file && i-- == 0)
			return b->name;
	}
	return NULL;
}
