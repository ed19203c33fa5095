/*
 * `zerobmc [-c FILE] console [-e CHAR] [ID]`: an interactive terminal on
 * a server's serial console over MQTT, with the configuration's broker
 * settings (TLS included). It shows the agent's console stream and sends
 * what is typed as `cmd/console` {"data": ..., "enter": false}, until the
 * escape (default `~.` at the start of a line, as in ssh).
 */
#ifndef ZB_CONSOLE_CLIENT_H
#define ZB_CONSOLE_CLIENT_H

#include "firmware/core/config.h"

/* argv[0] is "console". Returns the exit code. */
int console_client_main(int argc, char **argv, const struct config *cfg);

#endif
