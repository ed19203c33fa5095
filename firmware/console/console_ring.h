/*
 * A bounded ring of console lines waiting for the broker: records of a
 * length and the bytes, in one buffer allocated once. When a new line
 * does not fit, the oldest lines make room and are counted as dropped:
 * memory never grows past the capacity.
 *
 * Lines stay until the broker has them: the oldest `sent` ones are out
 * and not yet acknowledged; each line has a sequence number (head_seq
 * for the oldest), which is what an acknowledgement names.
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
	uint64_t head_seq; /* sequence number of the oldest line */
	size_t sent;	   /* lines out, waiting for acknowledgement */
	size_t send_off;   /* offset of the first line not sent */
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

/* The first line not sent: its length (or -ENOENT) and *seq. */
ssize_t console_ring_next(const struct console_ring *r, void *out, size_t cap,
			  uint64_t *seq);
/* That line went out. */
void console_ring_mark_sent(struct console_ring *r);
/* The broker has every line up to seq: they go. */
void console_ring_acked(struct console_ring *r, uint64_t seq);
/* A new session: every line still held is to be sent again. */
void console_ring_rewind(struct console_ring *r);

#endif
