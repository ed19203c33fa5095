/* `zerobmc send`: a command and its result, by exit status. */
#ifndef ZB_SEND_H
#define ZB_SEND_H

#include "firmware/core/config.h"

int send_main(int argc, char **argv, const struct config *cfg);

#endif
