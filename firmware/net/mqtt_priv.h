/*
 * What the MQTT session's files share: the session, the events Paho's
 * threads queue for the loop, and the callbacks handed to Paho. Only
 * mqtt*.c include this.
 */
#ifndef ZB_MQTT_PRIV_H
#define ZB_MQTT_PRIV_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "firmware/net/mqtt.h"

#define MQTT_SUBS_MAX 16
#define MQTT_PASSWORD_MAX 256
/* MQTT's Receive Maximum when the broker names none. */
#define MQTT_WINDOW_DEFAULT 65535
/*
 * Inbound messages not yet taken by the consumer (queued for the loop or
 * held), at most. Beyond either bound a message is refused: only its
 * topic, properties and command id are kept, and the command is answered
 * busy. Waiting in Paho's callback instead would block the loop (Paho
 * holds its mutex around the callback, and every publish takes it), and
 * a small Receive Maximum bounds nothing (Paho acknowledges on arrival).
 * Past MQTT_IN_REFUSED_MAX refused ones waiting, messages are dropped
 * and counted.
 */
#define MQTT_IN_ENTRIES_MAX 64
#define MQTT_IN_BYTES_MIN (1u << 20)
#define MQTT_IN_REFUSED_MAX 1024
#define MQTT_STOP_WAIT_MS 1000
/* Topic, properties and headers around a payload of max_payload. */
#define MQTT_PACKET_SLACK 8192

enum mqtt_room {
	MQTT_ROOM,
	MQTT_REFUSE,
	MQTT_DROP
};

enum mqtt_ev_type {
	EV_CONNECTED,
	EV_CONNECT_FAILED,
	EV_SUBSCRIBED,
	EV_SUBSCRIBE_FAILED,
	EV_LOST,
	EV_MESSAGE,
	EV_DISCONNECTED,
	EV_DELIVERED, /* a QoS 1 publish acknowledged, or failed */
	EV_WILL_DONE, /* the will's own message: code 1 acknowledged, 0 not */
	EV_TRACKED,   /* a tracked publish: code 1 acknowledged, 0 not */
};

/* One tracked publish, Paho's context until it answers. */
struct mqtt_track {
	struct mqtt *m;
	mqtt_acked_fn fn;
	void *data;
	uint64_t tag;
	unsigned int session;
	bool quiet; /* see mqtt_publish_tracked() */
};

struct mqtt_ev {
	struct mqtt_ev *next;
	enum mqtt_ev_type type;
	int code, reason;
	char why[128];
	struct mqtt_msg *msg;
	struct mqtt_track *track;
};

struct mqtt {
	struct loop *loop;
	const struct config *cfg;
	const char *uri;
	struct mqtt_cbs cbs;
	void *cb_data;
	char will_topic[256];
	char will_payload[32];
	char password[MQTT_PASSWORD_MAX];

	MQTTAsync client;
	int version; /* MQTTVERSION_5 or MQTTVERSION_3_1_1 */
	bool online, connecting, stopping;
	/*
	 * QoS 1 publishes Paho has and the broker has not acknowledged, and
	 * how many the broker takes (its Receive Maximum). Paho 1.3.12 does
	 * not wake its sending thread when an acknowledgement opens a full
	 * window: anything queued beyond it waits up to a second. So
	 * callers that send many (the outbox) wait for mqtt_window_full()
	 * to clear instead, which cbs.writable tells them.
	 */
	unsigned int inflight, window;
	unsigned int session; /* counts connections, for tracked publishes */
	unsigned int failures;
	int retry_timer;
	char *subs[MQTT_SUBS_MAX];
	int n_subs;
	void (*stop_done)(void *);
	void *stop_data;
	/*
	 * The will's payload published by us (e.g. "offline" at shutdown):
	 * pending until the broker acknowledges it. The DISCONNECT waits
	 * for that (at most MQTT_STOP_WAIT_MS) and keeps the will unless it
	 * was confirmed: a clean DISCONNECT would discard the will, and
	 * subscribers would never learn the agent is gone.
	 */
	enum {
		MQTT_WILL_NONE,
		MQTT_WILL_PENDING,
		MQTT_WILL_CONFIRMED
	} will_sent;
	bool stop_waiting;
	int stop_timer;
	uint64_t connect_ms; /* when the last CONNECT was started */

	/* Messages held back while the consumer cannot take them; the
	 * loop's own, in arrival order. */
	struct mqtt_ev *held, *held_tail;
	size_t n_held;

	/* Filled by Paho's threads, drained by the loop. */
	pthread_mutex_t lock;
	struct mqtt_ev *head, *tail;
	int efd;
	/*
	 * Under lock, written by the loop only: whether an acknowledgement
	 * (EV_DELIVERED, a quiet EV_TRACKED) wakes the loop. See
	 * mqtt_ack_wake_update().
	 */
	bool ack_wake;

	/* Inbound messages not yet given to the consumer, under lock. */
	size_t in_count, in_bytes, in_bytes_max, in_refused;
	uint64_t refused, dropped;
};

/* mqtt_paho.c: run on Paho's threads, they copy and enqueue only. */
void mqtt_ev_append(struct mqtt_ev **head, struct mqtt_ev **tail,
		    struct mqtt_ev *ev);
void mqtt_push_simple(struct mqtt *m, enum mqtt_ev_type type, int code,
		      int reason, const char *why);
int mqtt_on_message(void *ctx, char *topic, int topic_len,
		    MQTTAsync_message *pm);
void mqtt_on_lost(void *ctx, char *cause);
void mqtt_on_connect5(void *ctx, MQTTAsync_successData5 *r);
void mqtt_on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r);
void mqtt_on_connect(void *ctx, MQTTAsync_successData *r);
void mqtt_on_connect_fail(void *ctx, MQTTAsync_failureData *r);
void mqtt_on_sub5(void *ctx, MQTTAsync_successData5 *r);
void mqtt_on_sub(void *ctx, MQTTAsync_successData *r);
void mqtt_on_sub_fail5(void *ctx, MQTTAsync_failureData5 *r);
void mqtt_on_sub_fail(void *ctx, MQTTAsync_failureData *r);
void mqtt_on_delivered5(void *ctx, MQTTAsync_successData5 *r);
void mqtt_on_undelivered5(void *ctx, MQTTAsync_failureData5 *r);
void mqtt_on_delivered(void *ctx, MQTTAsync_successData *r);
void mqtt_on_undelivered(void *ctx, MQTTAsync_failureData *r);
void mqtt_on_will_acked5(void *ctx, MQTTAsync_successData5 *r);
void mqtt_on_will_failed5(void *ctx, MQTTAsync_failureData5 *r);
void mqtt_on_tracked5(void *ctx, MQTTAsync_successData5 *r);
void mqtt_on_untracked5(void *ctx, MQTTAsync_failureData5 *r);
void mqtt_on_tracked(void *ctx, MQTTAsync_successData *r);
void mqtt_on_untracked(void *ctx, MQTTAsync_failureData *r);
void mqtt_on_disc5(void *ctx, MQTTAsync_successData5 *r);
void mqtt_on_disc_fail5(void *ctx, MQTTAsync_failureData5 *r);
void mqtt_on_disc(void *ctx, MQTTAsync_successData *r);
void mqtt_on_disc_fail(void *ctx, MQTTAsync_failureData *r);

/* mqtt_held.c: the loop's side of the queue, and the held messages. */
void mqtt_on_wake(int fd, short revents, void *data);
void mqtt_ev_free(struct mqtt_ev *ev);
/* Whether acknowledgements must wake the loop now; after inflight or
 * stop_waiting changed. */
void mqtt_ack_wake_update(struct mqtt *m);
/* A message leaves the inbound bound (given to the consumer). */
void mqtt_in_release(struct mqtt *m, bool refused, size_t len);

/* mqtt.c: one event, on the loop. */
void mqtt_handle(struct mqtt *m, struct mqtt_ev *ev);

/* A binary or string property of an outgoing message. */
void mqtt_prop_add(MQTTProperties *props, enum MQTTPropertyCodes id,
		   const void *data, size_t len);
/* What MQTTAsync_sendMessage's answer means for the caller. */
int mqtt_send_errno(int rc);

#endif
