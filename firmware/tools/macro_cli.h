/*
 * `zerobmc macro ...`: check macro files offline (errors with line
 * numbers, exit 1), and show the built-in macros to copy from.
 */
#ifndef ZB_MACRO_CLI_H
#define ZB_MACRO_CLI_H

#include "firmware/core/config.h"

int macro_cli_main(int argc, char **argv, const struct config *cfg);

#endif
