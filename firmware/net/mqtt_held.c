/*
 * The loop's side of the event queue: drain what Paho's threads pushed,
 * and hold messages back, in order, while the consumer cannot take them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "firmware/net/mqtt_priv.h"

void mqtt_in_release(struct mqtt *m, bool refused, size_t len)
{
	pthread_mutex_lock(&m->lock);
	if (refused) {
		m->in_refused--;
	} else {
		m->in_count--;
		m->in_bytes -= len;
	}
	pthread_mutex_unlock(&m->lock);
}

void mqtt_ev_free(struct mqtt_ev *ev)
{
	mqtt_msg_free(ev->msg);
	free(ev->track);
	free(ev);
}

static bool mqtt_can_take(struct mqtt *m)
{
	return !m->cbs.can_take || m->cbs.can_take(m->cb_data);
}

/*
 * Messages go out in arrival order: once one is held, every later one
 * waits behind it. Session events are handled at once, so going offline
 * or online is never stuck behind a backlog.
 */
static void mqtt_dispatch(struct mqtt *m, struct mqtt_ev *list)
{
	while (list) {
		struct mqtt_ev *next = list->next;

		if (list->type == EV_MESSAGE &&
		    (m->held || !mqtt_can_take(m))) {
			mqtt_ev_append(&m->held, &m->held_tail, list);
			m->n_held++;
		} else {
			mqtt_handle(m, list);
			mqtt_ev_free(list);
		}
		list = next;
	}
}

static void mqtt_release_held(struct mqtt *m)
{
	while (m->held && mqtt_can_take(m)) {
		struct mqtt_ev *ev = m->held;

		m->held = ev->next;
		if (!m->held)
			m->held_tail = NULL;
		m->n_held--;
		mqtt_handle(m, ev);
		mqtt_ev_free(ev);
	}
}

void mqtt_on_wake(int fd, short revents, void *data)
{
	struct mqtt *m = data;
	uint64_t n;
	struct mqtt_ev *list;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: already drained. */
	}
	mqtt_release_held(m);
	pthread_mutex_lock(&m->lock);
	list = m->head;
	m->head = m->tail = NULL;
	pthread_mutex_unlock(&m->lock);
	mqtt_dispatch(m, list);
	mqtt_ack_wake_update(m);
}

/*
 * A broker's acknowledgement of a plain or quiet QoS 1 publish (a result)
 * only frees a slot of its window and some memory. It waits in the queue
 * without waking the loop (the wake cost more than the rest of the
 * acknowledgement), and is handled at the next wake, a command's arrival
 * say, in order with the other events. Only a loop that waits for the
 * broker, with the window full, messages held until results are
 * confirmed, or a stop waiting for nothing in flight, is woken by each
 * one; acknowledgements queued before it started to wait wake it now.
 */
void mqtt_ack_wake_update(struct mqtt *m)
{
	bool want = m->stop_waiting || m->inflight >= m->window || m->held;
	bool queued;
	uint64_t one = 1;

	if (want == m->ack_wake)
		return;
	pthread_mutex_lock(&m->lock);
	m->ack_wake = want;
	queued = m->head != NULL;
	pthread_mutex_unlock(&m->lock);
	if (want && queued && write(m->efd, &one, sizeof(one)) < 0) {
		/* The counter saturating still leaves the loop woken. */
	}
}

void mqtt_resume(struct mqtt *m)
{
	uint64_t one = 1;

	/* Through the eventfd: the caller may be inside a message's
	 * handler, and the next loop round is soon enough. */
	if (m->held && write(m->efd, &one, sizeof(one)) < 0) {
		/* The counter saturating still leaves the loop woken. */
	}
}

size_t mqtt_held(const struct mqtt *m)
{
	return m->n_held;
}
