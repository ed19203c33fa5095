/*
 * Messages that must not be lost to a full Paho queue or a short outage:
 * command results. A bounded FIFO retried from a timer, in order; when it
 * is full the oldest message is dropped and counted.
 */
#ifndef ZB_OUTBOX_H
#define ZB_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/loop.h"

struct mqtt;
struct outbox;

#define OUTBOX_MAX 64

int outbox_new(struct loop *l, struct mqtt *m, struct outbox **out);
void outbox_free(struct outbox *o);
/* Publish now, or keep it for later; copies everything. */
int outbox_publish(struct outbox *o, const char *topic, const char *payload,
		   size_t len, int qos, bool retain, const void *corr,
		   size_t corr_len);
/* Try again now (e.g. after reconnecting). */
void outbox_flush(struct outbox *o);
uint64_t outbox_dropped(const struct outbox *o);
size_t outbox_pending(const struct outbox *o);

#endif
