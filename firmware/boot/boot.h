/*
 * The boot capability (agent/cap.h): cmd/boot boots the server once from
 * the virtual media and proves it did: after the reboot and the USB
 * re-enumeration, the server reads the medium within a deadline. When
 * the proof does not come it tries the next strategy (media first, the
 * firmware's one-time boot menu, setup's boot manager) and answers with
 * every attempt. state.boot tells where it is.
 */
#ifndef ZB_BOOT_H
#define ZB_BOOT_H

#include "firmware/agent/cap.h"

struct boot;

/* After macros: it takes the handles of keyboard, host, media, power and
 * timeline, and is busy while a macro owns the keyboard. */
extern const struct cap_def boot_cap;

#endif
