/*
 * The table of capabilities, in attach order, and the commands they
 * serve: each name of zerobmc/<id>/cmd/<name> and its handler. The
 * agent serves one command itself, refresh.
 */
#ifndef ZB_COMMANDS_H
#define ZB_COMMANDS_H

#include <stddef.h>

#include "firmware/agent/cap.h"

extern const struct cap_def *const commands_caps[];
extern const size_t commands_n_caps;

/*
 * The command called name, and the index of its capability in
 * commands_caps[] (-1 for the agent's own); NULL when there is none.
 */
const struct cap_command *commands_find(const char *name, int *cap);
/* "key, type, ..., refresh": every command name, for an error message. */
void commands_names(char *buf, size_t len);

#endif
