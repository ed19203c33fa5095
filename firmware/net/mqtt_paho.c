/*
 * Paho's side of the session: its callbacks run on Paho's threads, so
 * they copy what they get into an event, queue it and wake the loop
 * through the eventfd. Nothing else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/net/mqtt_priv.h"

void mqtt_ev_append(struct mqtt_ev **head, struct mqtt_ev **tail,
		    struct mqtt_ev *ev)
{
	ev->next = NULL;
	if (*tail)
		(*tail)->next = ev;
	else
		*head = ev;
	*tail = ev;
}

static void mqtt_push(struct mqtt *m, struct mqtt_ev *ev)
{
	uint64_t one = 1;
	bool wake;

	pthread_mutex_lock(&m->lock);
	mqtt_ev_append(&m->head, &m->tail, ev);
	wake = m->ack_wake || !(ev->type == EV_DELIVERED ||
				(ev->type == EV_TRACKED && ev->track->quiet));
	pthread_mutex_unlock(&m->lock);
	if (wake && write(m->efd, &one, sizeof(one)) < 0) {
		/* The counter saturating still leaves the loop woken. */
	}
}

void mqtt_push_simple(struct mqtt *m, enum mqtt_ev_type type, int code,
		      int reason, const char *why)
{
	struct mqtt_ev *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return;
	ev->type = type;
	ev->code = code;
	ev->reason = reason;
	if (why)
		snprintf(ev->why, sizeof(ev->why), "%s", why);
	mqtt_push(m, ev);
}

void mqtt_msg_free(struct mqtt_msg *msg)
{
	if (!msg)
		return;
	free(msg->topic);
	free(msg->payload);
	free(msg->response_topic);
	free(msg->correlation);
	free(msg);
}

/*
 * Take room for a message of len bytes: one always fits when nothing is
 * queued. Nothing waits here: Paho holds its own mutex around this
 * callback, and the loop's next MQTTAsync_sendMessage would block on it
 * (seen in gdb), so a full loop refuses the message instead.
 */
static enum mqtt_room mqtt_take_room(struct mqtt *m, size_t len)
{
	enum mqtt_room room = MQTT_ROOM;

	pthread_mutex_lock(&m->lock);
	if (m->in_count && (m->in_count >= MQTT_IN_ENTRIES_MAX ||
			    m->in_bytes + len > m->in_bytes_max))
		room = m->in_refused < MQTT_IN_REFUSED_MAX ? MQTT_REFUSE
							   : MQTT_DROP;
	if (room == MQTT_ROOM) {
		m->in_count++;
		m->in_bytes += len;
	} else if (room == MQTT_REFUSE) {
		m->in_refused++;
		m->refused++;
	} else {
		m->dropped++;
	}
	pthread_mutex_unlock(&m->lock);
	return room;
}

/* What a refused message keeps: its command id, for the busy answer. */
static int mqtt_refuse(struct mqtt_msg *msg, const MQTTAsync_message *pm)
{
	struct payload p = {0};
	char err[64];

	payload_parse(pm->payload, (size_t)pm->payloadlen, SIZE_MAX, &p, err,
		      sizeof(err));
	snprintf(msg->refused_id, sizeof(msg->refused_id), "%s", p.id);
	payload_free(&p);
	msg->refused = true;
	msg->payload = strdup("");
	return msg->payload ? 0 : -ENOMEM;
}

int mqtt_on_message(void *ctx, char *topic, int topic_len,
		    MQTTAsync_message *pm)
{
	struct mqtt *m = ctx;
	struct mqtt_ev *ev = NULL;
	struct mqtt_msg *msg = NULL;
	size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);

	enum mqtt_room room = mqtt_take_room(m, (size_t)pm->payloadlen);

	if (room == MQTT_DROP)
		goto done;

	ev = calloc(1, sizeof(*ev));
	msg = calloc(1, sizeof(*msg));
	if (!ev || !msg)
		goto oom;
	msg->topic = malloc(tl + 1);
	if (!msg->topic)
		goto oom;
	memcpy(msg->topic, topic, tl);
	msg->topic[tl] = '\0';
	if (room == MQTT_REFUSE) {
		if (mqtt_refuse(msg, pm))
			goto oom;
	} else {
		msg->payload = malloc((size_t)pm->payloadlen + 1);
		if (!msg->payload)
			goto oom;
		memcpy(msg->payload, pm->payload, (size_t)pm->payloadlen);
		msg->payload[pm->payloadlen] = '\0';
		msg->len = (size_t)pm->payloadlen;
	}
	msg->qos = pm->qos;
	msg->retained = pm->retained;
	for (int i = 0; i < pm->properties.count; i++) {
		MQTTProperty *p = &pm->properties.array[i];

		if (p->identifier == MQTTPROPERTY_CODE_RESPONSE_TOPIC &&
		    !msg->response_topic) {
			msg->response_topic = strndup(
				p->value.data.data, (size_t)p->value.data.len);
		} else if (p->identifier ==
				   MQTTPROPERTY_CODE_CORRELATION_DATA &&
			   !msg->correlation && p->value.data.len > 0) {
			msg->correlation = malloc((size_t)p->value.data.len);
			if (msg->correlation) {
				memcpy(msg->correlation, p->value.data.data,
				       (size_t)p->value.data.len);
				msg->correlation_len =
					(size_t)p->value.data.len;
			}
		}
	}
	ev->type = EV_MESSAGE;
	ev->msg = msg;
	mqtt_push(m, ev);
done:
	MQTTAsync_freeMessage(&pm);
	MQTTAsync_free(topic);
	return 1;
oom:
	/* Returning 0 makes Paho offer the message again later. */
	mqtt_in_release(m, room == MQTT_REFUSE, (size_t)pm->payloadlen);
	mqtt_msg_free(msg);
	free(ev);
	return 0;
}

void mqtt_on_lost(void *ctx, char *cause)
{
	mqtt_push_simple(ctx, EV_LOST, 0, 0, cause ? cause : "connection lost");
}

void mqtt_on_connect5(void *ctx, MQTTAsync_successData5 *r)
{
	int rmax =
		r ? MQTTProperties_getNumericValue(
			    &r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM)
		  : 0;

	mqtt_push_simple(ctx, EV_CONNECTED, rmax > 0 ? rmax : 0, 0, NULL);
}

void mqtt_on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	mqtt_push_simple(ctx, EV_CONNECT_FAILED, r ? r->code : -1,
			 r ? (int)r->reasonCode : 0, r ? r->message : NULL);
}

void mqtt_on_connect(void *ctx, MQTTAsync_successData *r)
{
	mqtt_push_simple(ctx, EV_CONNECTED, 0, 0, NULL);
}

void mqtt_on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
	mqtt_push_simple(ctx, EV_CONNECT_FAILED, r ? r->code : -1, 0,
			 r ? r->message : NULL);
}

void mqtt_on_sub5(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt *m = ctx;
	int bad = 0;

	/* Paho 1.3.12 fills alt.sub only for more than one filter; with
	 * one, count and pointer are stack garbage and the code is in
	 * reasonCode. Our own count of filters says which applies. */
	for (int i = 0; r && m->n_subs > 1 && i < r->alt.sub.reasonCodeCount;
	     i++)
		if (r->alt.sub.reasonCodes[i] >= 0x80)
			bad = 1;
	if (r && m->n_subs <= 1 && r->reasonCode >= 0x80)
		bad = 1;
	mqtt_push_simple(ctx, bad ? EV_SUBSCRIBE_FAILED : EV_SUBSCRIBED, 0, 0,
			 bad ? "the broker refused a subscription" : NULL);
}

void mqtt_on_sub(void *ctx, MQTTAsync_successData *r)
{
	mqtt_push_simple(ctx, EV_SUBSCRIBED, 0, 0, NULL);
}

void mqtt_on_sub_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	mqtt_push_simple(ctx, EV_SUBSCRIBE_FAILED, 0, 0,
			 "the broker refused a subscription");
}

void mqtt_on_sub_fail(void *ctx, MQTTAsync_failureData *r)
{
	mqtt_push_simple(ctx, EV_SUBSCRIBE_FAILED, 0, 0,
			 "the broker refused a subscription");
}

void mqtt_on_delivered5(void *ctx, MQTTAsync_successData5 *r)
{
	mqtt_push_simple(ctx, EV_DELIVERED, 0, 0, NULL);
}

void mqtt_on_undelivered5(void *ctx, MQTTAsync_failureData5 *r)
{
	mqtt_push_simple(ctx, EV_DELIVERED, 0, 0, NULL);
}

void mqtt_on_will_acked5(void *ctx, MQTTAsync_successData5 *r)
{
	mqtt_push_simple(ctx, EV_DELIVERED, 0, 0, NULL);
	mqtt_push_simple(ctx, EV_WILL_DONE, 1, 0, NULL);
}

void mqtt_on_will_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
	mqtt_push_simple(ctx, EV_DELIVERED, 0, 0, NULL);
	mqtt_push_simple(ctx, EV_WILL_DONE, 0, 0, NULL);
}

static void mqtt_push_track(struct mqtt_track *t, int ok)
{
	struct mqtt_ev *ev = calloc(1, sizeof(*ev));

	if (!ev) {
		/* The loop never hears of it: the window slot stays taken
		 * until the next session, the line is sent again then. */
		free(t);
		return;
	}
	ev->type = EV_TRACKED;
	ev->code = ok;
	ev->track = t;
	mqtt_push(t->m, ev);
}

void mqtt_on_tracked5(void *ctx, MQTTAsync_successData5 *r)
{
	mqtt_push_track(ctx, 1);
}

void mqtt_on_untracked5(void *ctx, MQTTAsync_failureData5 *r)
{
	mqtt_push_track(ctx, 0);
}

void mqtt_on_tracked(void *ctx, MQTTAsync_successData *r)
{
	mqtt_push_track(ctx, 1);
}

void mqtt_on_untracked(void *ctx, MQTTAsync_failureData *r)
{
	mqtt_push_track(ctx, 0);
}

void mqtt_on_delivered(void *ctx, MQTTAsync_successData *r)
{
	mqtt_push_simple(ctx, EV_DELIVERED, 0, 0, NULL);
}

void mqtt_on_undelivered(void *ctx, MQTTAsync_failureData *r)
{
	mqtt_push_simple(ctx, EV_DELIVERED, 0, 0, NULL);
}

void mqtt_on_disc5(void *ctx, MQTTAsync_successData5 *r)
{
	mqtt_push_simple(ctx, EV_DISCONNECTED, 0, 0, NULL);
}

void mqtt_on_disc_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	mqtt_push_simple(ctx, EV_DISCONNECTED, 0, 0, NULL);
}

void mqtt_on_disc(void *ctx, MQTTAsync_successData *r)
{
	mqtt_push_simple(ctx, EV_DISCONNECTED, 0, 0, NULL);
}

void mqtt_on_disc_fail(void *ctx, MQTTAsync_failureData *r)
{
	mqtt_push_simple(ctx, EV_DISCONNECTED, 0, 0, NULL);
}
