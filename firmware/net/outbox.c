#include "firmware/net/outbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/net/mqtt.h"

/* Retry interval while Paho's queue is full. */
#define OUTBOX_RETRY_MS 10
/* While the broker's window is full: an acknowledgement flushes first. */
#define OUTBOX_WINDOW_RETRY_MS 1000

struct outbox_msg {
	char *topic;
	char *payload;
	size_t len;
	void *corr;
	size_t corr_len;
	int qos;
	bool retain;
	/*
	 * A QoS 1 message stays until the broker acknowledges it (done), so
	 * a link cut after Paho took it does not lose it: sent in session
	 * `session` under `tag`, it goes again in a later session.
	 */
	bool sent, done;
	uint64_t tag;
	unsigned int session;
};

struct outbox {
	struct loop *loop;
	struct mqtt *mqtt;
	struct outbox_msg q[OUTBOX_MAX];
	size_t head, n;
	uint64_t dropped;
	uint64_t next_tag;
	bool flushing;
	int timer;
	void (*space_fn)(void *data);
	void *space_data;
};

static void outbox_msg_free(struct outbox_msg *m)
{
	free(m->topic);
	free(m->payload);
	free(m->corr);
	memset(m, 0, sizeof(*m));
}

static struct outbox_msg *outbox_at(struct outbox *o, size_t i)
{
	return &o->q[(o->head + i) % OUTBOX_MAX];
}

/* The oldest message goes: sent, or given up. */
static void outbox_pop(struct outbox *o)
{
	outbox_msg_free(outbox_at(o, 0));
	o->head = (o->head + 1) % OUTBOX_MAX;
	o->n--;
}

/* Results wait for room in the broker's window; events do not. */
static bool outbox_must_wait(const struct outbox *o, int qos)
{
	return qos > 0 && mqtt_window_full(o->mqtt);
}

int outbox_new(struct loop *l, struct mqtt *m, struct outbox **out)
{
	struct outbox *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->loop = l;
	o->mqtt = m;
	*out = o;
	return 0;
}

void outbox_free(struct outbox *o)
{
	if (!o)
		return;
	if (o->timer)
		loop_timer_cancel(o->loop, o->timer);
	while (o->n)
		outbox_pop(o);
	free(o);
}

void outbox_on_space(struct outbox *o, void (*fn)(void *data), void *data)
{
	o->space_fn = fn;
	o->space_data = data;
}

bool outbox_busy(const struct outbox *o)
{
	return o->n >= OUTBOX_BUSY;
}

/* Make room for one: the oldest QoS 0 message, or else the oldest. */
static void outbox_drop_one(struct outbox *o)
{
	struct outbox_msg victim;
	size_t v = 0;

	for (size_t i = 0; i < o->n; i++) {
		if (outbox_at(o, i)->qos == 0) {
			v = i;
			break;
		}
	}
	/* The older ones move up a place; the victim leaves from the head. */
	victim = *outbox_at(o, v);
	for (size_t i = v; i > 0; i--)
		*outbox_at(o, i) = *outbox_at(o, i - 1);
	*outbox_at(o, 0) = victim;
	outbox_pop(o);
	o->dropped++;
}

static void outbox_timer_cb(void *data)
{
	struct outbox *o = data;

	o->timer = 0;
	outbox_flush(o);
}

/* What is done leaves from the front, keeping the order of the rest. */
static void outbox_compact(struct outbox *o)
{
	while (o->n && outbox_at(o, 0)->done)
		outbox_pop(o);
}

static void outbox_acked(void *data, uint64_t tag, bool ok)
{
	struct outbox *o = data;

	for (size_t i = 0; i < o->n; i++) {
		struct outbox_msg *m = outbox_at(o, i);

		if (m->sent && m->tag == tag) {
			/* Not confirmed: sent again (the session is ending,
			 * or the broker refused it once). */
			if (ok)
				m->done = true;
			else
				m->sent = false;
			break;
		}
	}
	if (!o->flushing)
		outbox_flush(o);
}

/* Send m; 0, or -EAGAIN / -ENOTCONN (stop for now), or another error. */
static int outbox_send(struct outbox *o, struct outbox_msg *m,
		       unsigned int session)
{
	int r;

	if (!m->qos) {
		r = mqtt_publish(o->mqtt, m->topic, m->payload, m->len, 0,
				 m->retain, m->corr, m->corr_len);
		m->done = r == 0;
		return r;
	}
	/* Marked first: the acknowledgement may come before the return. */
	m->tag = ++o->next_tag;
	m->session = session;
	m->sent = true;
	r = mqtt_publish_tracked(o->mqtt, m->topic, m->payload, m->len,
				 m->retain, m->corr, m->corr_len, outbox_acked,
				 o, m->tag, true);
	if (r)
		m->sent = false;
	return r;
}

void outbox_flush(struct outbox *o)
{
	bool was_busy = outbox_busy(o);
	unsigned int session = mqtt_session(o->mqtt);

	o->flushing = true;
	for (size_t i = 0; i < o->n; i++) {
		struct outbox_msg *m = outbox_at(o, i);
		int r;

		if (m->done || (m->sent && m->session == session))
			continue;
		/* The broker's acknowledgement calls outbox_flush() again;
		 * the timer is only a safety net. */
		if (outbox_must_wait(o, m->qos)) {
			loop_timer_rearm(o->loop, &o->timer,
					 OUTBOX_WINDOW_RETRY_MS,
					 outbox_timer_cb, o);
			break;
		}
		r = outbox_send(o, m, session);
		if (r == -EAGAIN) {
			loop_timer_rearm(o->loop, &o->timer, OUTBOX_RETRY_MS,
					 outbox_timer_cb, o);
			break;
		}
		if (r == -ENOTCONN)
			break; /* flushed again when online */
		if (r) {
			/* Paho refuses it for good: counted, not retried. */
			m->done = true;
			o->dropped++;
		}
	}
	o->flushing = false;
	outbox_compact(o);
	if (was_busy && !outbox_busy(o) && o->space_fn)
		o->space_fn(o->space_data);
}

int outbox_publish(struct outbox *o, const char *topic, const char *payload,
		   size_t len, int qos, bool retain, const void *corr,
		   size_t corr_len)
{
	struct outbox_msg *m;
	bool first = !o->n;

	/* QoS 0 straight out when nothing waits; QoS 1 is kept until the
	 * broker has it. */
	if (first && !qos) {
		int r = mqtt_publish(o->mqtt, topic, payload, len, qos, retain,
				     corr, corr_len);
		if (r != -EAGAIN && r != -ENOTCONN)
			return r;
	}
	if (o->n == OUTBOX_MAX)
		outbox_drop_one(o);
	m = outbox_at(o, o->n);
	m->topic = strdup(topic);
	m->payload = malloc(len ? len : 1);
	m->corr = corr_len ? malloc(corr_len) : NULL;
	if (!m->topic || !m->payload || (corr_len && !m->corr)) {
		outbox_msg_free(m);
		return -ENOMEM;
	}
	memcpy(m->payload, payload, len);
	if (corr_len)
		memcpy(m->corr, corr, corr_len);
	m->len = len;
	m->corr_len = corr_len;
	m->qos = qos;
	m->retain = retain;
	m->sent = m->done = false;
	o->n++;
	if (first && qos) {
		outbox_flush(o);
		return 0;
	}
	if (!o->timer)
		loop_timer_rearm(o->loop, &o->timer, OUTBOX_RETRY_MS,
				 outbox_timer_cb, o);
	return 0;
}

uint64_t outbox_dropped(const struct outbox *o)
{
	return o->dropped;
}

size_t outbox_pending(const struct outbox *o)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n; i++)
		n += !o->q[(o->head + i) % OUTBOX_MAX].done;
	return n;
}
