#include "firmware/console/console_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int console_ring_init(struct console_ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(cap);
	if (!r->buf)
		return -ENOMEM;
	r->cap = cap;
	return 0;
}

void console_ring_free(struct console_ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Copy in and out at a ring offset, wrapping at the end. */
static void console_ring_write(struct console_ring *r, size_t off,
			       const void *src, size_t n)
{
	size_t first = r->cap - off < n ? r->cap - off : n;

	memcpy(r->buf + off, src, first);
	memcpy(r->buf, (const char *)src + first, n - first);
}

static void console_ring_read(const struct console_ring *r, size_t off,
			      void *dst, size_t n)
{
	size_t first = r->cap - off < n ? r->cap - off : n;

	memcpy(dst, r->buf + off, first);
	memcpy((char *)dst + first, r->buf, n - first);
}

static uint32_t console_ring_head_len(const struct console_ring *r)
{
	uint32_t len;

	console_ring_read(r, r->head, &len, sizeof(len));
	return len;
}

void console_ring_pop(struct console_ring *r)
{
	size_t rec;

	if (!r->count)
		return;
	rec = CONSOLE_RING_RECORD(console_ring_head_len(r));
	r->head = (r->head + rec) % r->cap;
	r->used -= rec;
	r->count--;
	r->head_seq++;
	if (r->sent)
		r->sent--;
	else
		r->send_off = r->head;
	if (!r->count)
		r->head = r->used = r->send_off = 0;
}

int console_ring_push(struct console_ring *r, const void *data, size_t len,
		      size_t *dropped)
{
	size_t rec = CONSOLE_RING_RECORD(len);
	uint32_t len32 = (uint32_t)len;
	size_t tail;

	if (rec > r->cap || len > UINT32_MAX)
		return -E2BIG;
	while (r->cap - r->used < rec) {
		console_ring_pop(r);
		(*dropped)++;
	}
	tail = (r->head + r->used) % r->cap;
	console_ring_write(r, tail, &len32, sizeof(len32));
	console_ring_write(r, (tail + sizeof(len32)) % r->cap, data, len);
	r->used += rec;
	r->count++;
	return 0;
}

ssize_t console_ring_peek(const struct console_ring *r, void *out, size_t cap)
{
	uint32_t len;

	if (!r->count)
		return -ENOENT;
	len = console_ring_head_len(r);
	if (len > cap)
		return -ENOBUFS;
	console_ring_read(r, (r->head + sizeof(len)) % r->cap, out, len);
	return len;
}

static uint32_t console_ring_len_at(const struct console_ring *r, size_t off)
{
	uint32_t len;

	console_ring_read(r, off, &len, sizeof(len));
	return len;
}

ssize_t console_ring_next(const struct console_ring *r, void *out, size_t cap,
			  uint64_t *seq)
{
	uint32_t len;

	if (r->sent >= r->count)
		return -ENOENT;
	len = console_ring_len_at(r, r->send_off);
	if (len > cap)
		return -ENOBUFS;
	console_ring_read(r, (r->send_off + sizeof(len)) % r->cap, out, len);
	*seq = r->head_seq + r->sent;
	return len;
}

void console_ring_mark_sent(struct console_ring *r)
{
	if (r->sent >= r->count)
		return;
	r->send_off =
		(r->send_off +
		 CONSOLE_RING_RECORD(console_ring_len_at(r, r->send_off))) %
		r->cap;
	r->sent++;
}

void console_ring_acked(struct console_ring *r, uint64_t seq)
{
	while (r->count && r->sent && r->head_seq <= seq)
		console_ring_pop(r);
}

void console_ring_rewind(struct console_ring *r)
{
	r->sent = 0;
	r->send_off = r->head;
}
