/*
 * The server's side of the USB link as the UDC reports it: configured
 * (on and enumerated), suspended (asleep), not attached (off or
 * unplugged). The kernel notifies changes of the sysfs state file with
 * POLLPRI; a plain file standing in for it (tests) is watched with
 * inotify. Either way no timer polls.
 */
#ifndef ZB_HOSTWATCH_H
#define ZB_HOSTWATCH_H

#include <stdint.h>

#include "firmware/core/loop.h"
#include "gadget/udc.h"

struct hostwatch;

typedef void (*hostwatch_cb)(void *data, enum udc_state old,
			     enum udc_state now);

int hostwatch_new(struct loop *l, const char *path, struct hostwatch **out);
void hostwatch_free(struct hostwatch *h);
/* Several modules listen; at most HOSTWATCH_LISTENERS. */
#define HOSTWATCH_LISTENERS 8
int hostwatch_listen(struct hostwatch *h, hostwatch_cb cb, void *data);

enum udc_state hostwatch_state(const struct hostwatch *h);
/* Monotonic ms of the last change (or of the start). */
uint64_t hostwatch_since_ms(const struct hostwatch *h);
const char *hostwatch_path(const struct hostwatch *h);

#endif
