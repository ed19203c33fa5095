/*
 * `zerobmc [-c FILE] gadget up|down|status`: the gadget managed from the
 * command line, for people who build it in a boot script and run the
 * agent with [gadget] manage = false.
 */
#ifndef ZB_GADGET_CLI_H
#define ZB_GADGET_CLI_H

#include "firmware/core/config.h"
#include "gadget/compose.h"

/*
 * The gadget spec for cfg's [gadget] section. The spec points into cfg,
 * which must outlive it.
 */
void gadget_cli_spec(const struct config *cfg, struct gadget_spec *spec);

/*
 * argv[0] is "gadget", argv[1] the action. Prints what it did, or the
 * status, on stdout and errors on stderr. Returns the exit code: 0 on
 * success (for status: the gadget is bound with the configured layout),
 * 1 otherwise.
 */
int gadget_cli_main(int argc, char **argv, const struct config *cfg);

/*
 * Give user the gadget's device nodes, the LUN attributes the agent
 * writes and the UDC's srp file (remote wakeup), so that the agent needs
 * no root. Returns 0 or a negative errno with err naming the file.
 */
int gadget_cli_handover(const struct gadget_info *info, const char *user,
			char *err, size_t errlen);

/*
 * The root half of an agent started as root: with [gadget] manage, build
 * and bind the gadget, hand it to [agent] user and point cfg at its
 * devices (manage becomes false: the unprivileged agent keeps it as is).
 */
int gadget_cli_before_drop(struct config *cfg, char *err, size_t errlen);

#endif
