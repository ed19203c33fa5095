/*
 * The host capability (agent/cap.h): builds the hostwatch of the UDC's
 * state file and publishes it as state.usb. Its handle is the struct
 * hostwatch (host/hostwatch.h), which other capabilities listen to.
 */
#ifndef ZB_HOST_CAP_H
#define ZB_HOST_CAP_H

#include "firmware/agent/cap.h"

extern const struct cap_def host_cap;

#endif
