#include "firmware/agent/commands.h"

#include <stdio.h>
#include <string.h>

#include "firmware/boot/boot.h"
#include "firmware/console/console.h"
#include "firmware/host/host_cap.h"
#include "firmware/host/timeline.h"
#include "firmware/keyboard/keyboard_cap.h"
#include "firmware/macro/macro.h"
#include "firmware/media/media_cap.h"
#include "firmware/power/power_cap.h"
#include "ha-integration/ha.h"

/*
 * Each row sees the handles of the rows above it: power listens to the
 * host, the keyboard presses power's reset pin, the timeline hears the
 * keyboard, media and console, macros drive all of them, and Home
 * Assistant announces what the others offer.
 */
const struct cap_def *const commands_caps[] = {
	&host_cap,     &power_cap,  &keyboard_cap, &media_cap, &console_cap,
	&timeline_cap, &macros_cap, &boot_cap,	   &ha_cap,
};
const size_t commands_n_caps = sizeof(commands_caps) / sizeof(commands_caps[0]);

static const struct cap_command commands_agent[] = {
	{"refresh", NULL, "republish state and discovery"},
	{NULL, NULL, NULL},
};

const struct cap_command *commands_find(const char *name, int *cap)
{
	for (size_t i = 0; i < commands_n_caps; i++)
		for (const struct cap_command *c = commands_caps[i]->commands;
		     c && c->name; c++)
			if (!strcmp(c->name, name)) {
				if (cap)
					*cap = (int)i;
				return c;
			}
	for (const struct cap_command *c = commands_agent; c->name; c++)
		if (!strcmp(c->name, name)) {
			if (cap)
				*cap = -1;
			return c;
		}
	return NULL;
}

void commands_names(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i <= commands_n_caps; i++) {
		const struct cap_command *c =
			i < commands_n_caps ? commands_caps[i]->commands
					    : commands_agent;

		for (; c && c->name && off < len; c++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off ? ", " : "", c->name);
	}
}
