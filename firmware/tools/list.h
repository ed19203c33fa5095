/* `zerobmc list`: the fleet on a broker, from retained status and state. */
#ifndef ZB_LIST_H
#define ZB_LIST_H

#include "firmware/core/config.h"

int list_main(int argc, char **argv, const struct config *cfg);

#endif
