/*
 * The virtual media capability (agent/cap.h): builds the media module on
 * [media] lun, puts the saved image back, serves cmd/media and publishes
 * state.media. Other capabilities insert and eject through
 * media_cap_media(), and hear of every change with media_listen().
 */
#ifndef ZB_MEDIA_CAP_H
#define ZB_MEDIA_CAP_H

#include "firmware/agent/cap.h"

struct media;
struct media_cap;

/*
 * Needs no other capability: the agent attaches it before the gadget
 * binds (the saved image is in the LUN before the host looks).
 */
extern const struct cap_def media_cap;

struct media *media_cap_media(struct media_cap *mc);
/* fn runs when the medium or the images changed. */
int media_listen(struct media_cap *mc, void (*fn)(void *data), void *data);

#endif
