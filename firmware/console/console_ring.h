/*
 * A bounded ring of console lines waiting for the broker: records of a
 * length and the bytes, in one buffer allocated once. When a new line
 * does not fit, the oldest lines make room and are counted as dropped:
 * memory never grows past the capacity.
 */
#ifndef ZB_CONSOLE_RING_H
#define ZB_CONSOLE_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct console_ring {
	char *buf;
	size_t cap;
	size_t head; /* offset of the oldest record */
	size_t used; /* bytes held, headers included */
	size_t count;
};

/* The bytes one record of len bytes takes. */
#define CONSOLE_RING_RECORD(len) ((len) + sizeof(uint32_t))

int console_ring_init(struct console_ring *r, size_t cap);
void console_ring_free(struct console_ring *r);

/*
 * Append a line, dropping the oldest lines while it does not fit; their
 * number is added to *dropped. -E2BIG if it could never fit.
 */
int console_ring_push(struct console_ring *r, const void *data, size_t len,
		      size_t *dropped);
/* Copy the oldest line to out (cap bytes); its length, or -ENOENT. */
ssize_t console_ring_peek(const struct console_ring *r, void *out, size_t cap);
void console_ring_pop(struct console_ring *r);

#endif
