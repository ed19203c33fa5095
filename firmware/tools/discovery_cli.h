/*
 * `zerobmc [-c FILE] discovery [ID]`: the Home Assistant discovery
 * payloads of an agent, printed for an operator to publish with admin
 * rights, so that the Pis run with [homeassistant] discovery = false and
 * need no write access to the discovery prefix.
 */
#ifndef ZB_DISCOVERY_CLI_H
#define ZB_DISCOVERY_CLI_H

#include "firmware/core/config.h"

/*
 * argv[0] is "discovery", argv[1] the agent id (default: [agent] id).
 * Prints one "TOPIC PAYLOAD" line per retained message. Returns the
 * exit code.
 */
int discovery_cli_main(int argc, char **argv, const struct config *cfg);

#endif
