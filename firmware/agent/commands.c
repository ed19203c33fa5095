#include "firmware/agent/commands.h"
#include "firmware/console/console.h"

#include <string.h>

#include "firmware/macro/macro.h"
#include "firmware/media/media.h"
#include "firmware/power/power.h"

static const struct command_def commands[] = {
	{"key", cmd_key, "tap key chords, or press and release keys"},
	{"type", cmd_type, "type text in a keyboard layout"},
	{"reboot", cmd_reboot, "Ctrl+Alt+Del, SysRq REISUB or reset pin"},
	{"power", cmd_power, "power on, off, reset, cycle, wake"},
	{"media", cmd_media, "insert or eject virtual media"},
	{"macro", cmd_macro, "run or cancel a macro"},
	{"console", cmd_console, "write to the serial console"},
	{"refresh", cmd_refresh, "republish state and discovery"},
};

const struct command_def *commands_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

const struct command_def *commands_all(size_t *n)
{
	*n = sizeof(commands) / sizeof(commands[0]);
	return commands;
}
