/*
 * The MQTT session over Paho MQTTAsync. Paho's threads only copy what
 * they get into a queue and wake the loop through an eventfd; every
 * callback below runs on the loop's thread.
 */
#ifndef ZB_MQTT_H
#define ZB_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/config.h"
#include "firmware/core/loop.h"
#include "topics/payload.h"

struct mqtt;

struct mqtt_msg {
	char *topic;
	char *payload; /* NUL-terminated copy; len excludes the NUL */
	size_t len;
	int qos;
	bool retained;
	char *response_topic; /* MQTT 5, or NULL */
	void *correlation;
	size_t correlation_len;
	/*
	 * Not kept: the loop was full when it came (see mqtt_priv.h), so
	 * only the topic, the properties and the command's "id" were
	 * (payload is ""). A command is answered busy; anything else is
	 * only counted.
	 */
	bool refused;
	char refused_id[PAYLOAD_ID_MAX + 1];
};

struct mqtt_cbs {
	/* Connected and subscribed: publish status and state now. */
	void (*online)(void *data);
	/* Lost or failed; why is for logs and state. */
	void (*offline)(void *data, const char *why);
	/* The message is the callee's: free it with mqtt_msg_free(). */
	void (*message)(void *data, struct mqtt_msg *m);
	/*
	 * Optional: false holds messages back, in order, until
	 * mqtt_resume() (session events still pass). This is how results
	 * are never dropped: no new command while they cannot be sent.
	 */
	bool (*can_take)(void *data);
	/* Optional: mqtt_window_full() has just become false. */
	void (*writable)(void *data);
};

struct mqtt_will {
	const char *topic;
	const char *payload;
};

int mqtt_new(struct loop *l, const struct config *c, const char *uri,
	     const struct mqtt_will *will, const struct mqtt_cbs *cbs,
	     void *data, struct mqtt **out, char *err, size_t errlen);
void mqtt_free(struct mqtt *m);

/* Subscriptions made on every (re)connect. Copies the filters. */
int mqtt_add_subscription(struct mqtt *m, const char *filter);
int mqtt_start(struct mqtt *m);
/* Ask Paho to disconnect; done is called on the loop when it has. */
int mqtt_stop(struct mqtt *m, void (*done)(void *data), void *data);

/*
 * As many QoS 1 messages are unacknowledged as the broker takes (its
 * Receive Maximum, 20 on a default mosquitto). Paho still queues more,
 * but sends them only after a stall of up to a second.
 */
bool mqtt_window_full(const struct mqtt *m);
/* Deliver held messages again (from the next loop round). */
void mqtt_resume(struct mqtt *m);
/* Messages held back now. */
size_t mqtt_held(const struct mqtt *m);
/*
 * Inbound messages refused (topic and id kept, answered busy) and
 * dropped (more than MQTT_IN_REFUSED_MAX refused waiting) since start,
 * because the loop was full.
 */
void mqtt_inbound(const struct mqtt *m, uint64_t *refused, uint64_t *dropped);

/*
 * A QoS 1 publish whose acknowledgement is told: fn(data, tag, true) on
 * the loop once the broker has it, fn(data, tag, false) if it failed.
 * Nothing is told for a session that ended meanwhile (the caller sends
 * again when online) or once mqtt_stop() was called. A quiet one's
 * acknowledgement does not wake the loop by itself: it is told at the
 * next wake, or at once while the loop waits for the broker (window
 * full, messages held, a stop); for callers that only free memory then.
 */
typedef void (*mqtt_acked_fn)(void *data, uint64_t tag, bool ok);
int mqtt_publish_tracked(struct mqtt *m, const char *topic, const void *payload,
			 size_t len, bool retain, const void *correlation,
			 size_t correlation_len, mqtt_acked_fn fn, void *data,
			 uint64_t tag, bool quiet);
/* Counts sessions: what was sent in an earlier one must go again. */
unsigned int mqtt_session(const struct mqtt *m);

bool mqtt_is_online(const struct mqtt *m);
int mqtt_version(const struct mqtt *m);

/*
 * Publish. While offline returns -ENOTCONN (nothing is queued: callers
 * keep their own bounded buffers); -EAGAIN while Paho's queue is full.
 * correlation may be NULL.
 */
int mqtt_publish(struct mqtt *m, const char *topic, const void *payload,
		 size_t len, int qos, bool retain, const void *correlation,
		 size_t correlation_len);

/*
 * A QoS 1 command with an MQTT 5 response topic and correlation data;
 * on an MQTT 3.1.1 session, a plain publish (answers come by JSON id).
 */
int mqtt_publish_request(struct mqtt *m, const char *topic, const void *payload,
			 size_t len, const char *response_topic,
			 const void *correlation, size_t correlation_len);
void mqtt_msg_free(struct mqtt_msg *m);

/* Backoff after the n-th failure (from 1): 1 s doubling to 30 s, ±20 %. */
unsigned int mqtt_backoff_ms(unsigned int failures, unsigned int rnd);

#endif
