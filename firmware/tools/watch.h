/* `zerobmc watch ID`: an agent's status, events and results, live. */
#ifndef ZB_WATCH_H
#define ZB_WATCH_H

#include "firmware/core/config.h"

int watch_main(int argc, char **argv, const struct config *cfg);

#endif
