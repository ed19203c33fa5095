/*
 * Messages that must not be lost to a full Paho queue or a short outage:
 * command results (QoS 1) and timeline events (QoS 0). A bounded FIFO
 * retried from a timer, in order. The agent takes no new command while
 * it is busy (OUTBOX_BUSY or more waiting), so results are not dropped;
 * if it fills all the same, the oldest QoS 0 message goes first, then the
 * oldest of any, and each is counted.
 */
#ifndef ZB_OUTBOX_H
#define ZB_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/loop.h"

struct mqtt;
struct outbox;

#define OUTBOX_MAX 64
#define OUTBOX_BUSY 16

int outbox_new(struct loop *l, struct mqtt *m, struct outbox **out);
void outbox_free(struct outbox *o);
/* Publish now, or keep it for later; copies everything. */
int outbox_publish(struct outbox *o, const char *topic, const char *payload,
		   size_t len, int qos, bool retain, const void *corr,
		   size_t corr_len);
/* Called on the loop when it was busy and no longer is. */
void outbox_on_space(struct outbox *o, void (*fn)(void *data), void *data);
bool outbox_busy(const struct outbox *o);
/* Try again now (e.g. after reconnecting). */
void outbox_flush(struct outbox *o);
uint64_t outbox_dropped(const struct outbox *o);
size_t outbox_pending(const struct outbox *o);

#endif
