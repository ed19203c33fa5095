/*
 * The MQTT session on the loop: connect and retry, subscribe, online and
 * offline, publish. Paho's callbacks are in mqtt_paho.c, the queue they
 * fill and the held messages in mqtt_held.c.
 */
#include "firmware/net/mqtt_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "firmware/core/secret.h"

/* ---- the loop's side ---- */

/* A CONNECT that fails sooner than this was refused by a hang-up. */
#define MQTT_HANGUP_MS 3000

unsigned int mqtt_backoff_ms(unsigned int failures, unsigned int rnd)
{
	unsigned int base = 1000;

	for (unsigned int i = 1; i < failures && base < 30000; i++)
		base *= 2;
	if (base > 30000)
		base = 30000;
	/* Jitter of ±20 % so a fleet does not reconnect in lockstep. */
	return base - base / 5 + rnd % (base * 2 / 5 + 1);
}

static int mqtt_create_client(struct mqtt *m)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	int rc;

	co.MQTTVersion = m->version;
	co.sendWhileDisconnected = 0;
	/* Only used while connected: the cap is the back-pressure that the
	 * console and the outbox react to (-EAGAIN). */
	co.maxBufferedMessages = 100;
	rc = MQTTAsync_createWithOptions(
		&m->client, m->uri, m->cfg->mqtt.client_id,
		MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS)
		return -EINVAL;
	MQTTAsync_setCallbacks(m->client, m, mqtt_on_lost, mqtt_on_message,
			       NULL);
	return 0;
}

static void mqtt_connect(struct mqtt *m);
static void mqtt_disconnect(struct mqtt *m);
static bool mqtt_stop_ready(const struct mqtt *m);

static void mqtt_retry_cb(void *data)
{
	struct mqtt *m = data;

	m->retry_timer = 0;
	mqtt_connect(m);
}

static void mqtt_schedule_retry(struct mqtt *m)
{
	unsigned int ms;

	if (m->stopping)
		return;
	m->failures++;
	ms = mqtt_backoff_ms(m->failures, (unsigned int)random());
	loop_timer_rearm(m->loop, &m->retry_timer, ms, mqtt_retry_cb, m);
}

static void mqtt_connect(struct mqtt *m)
{
	MQTTAsync_connectOptions o5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions o3 = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions *o = m->version == MQTTVERSION_5 ? &o5 : &o3;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	MQTTProperty mps = {.identifier =
				    MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE};
	int rc;

	if (m->stopping || m->connecting)
		return;
	o->keepAliveInterval = m->cfg->mqtt.keepalive;
	o->connectTimeout = 10;
	/* Paho 1.3.12 stalls a second when the window fills: keep it wide. */
	o->maxInflight = 65535;
	o->automaticReconnect = 0;
	if (m->version == MQTTVERSION_5) {
		o->cleanstart = 1;
		o->onSuccess5 = mqtt_on_connect5;
		o->onFailure5 = mqtt_on_connect_fail5;
		/* The broker drops what is larger instead of sending it, so
		 * no copy of an oversized message is ever made here. */
		mps.value.integer4 =
			m->cfg->agent.max_payload + MQTT_PACKET_SLACK;
		if (MQTTProperties_add(&props, &mps) == 0)
			o->connectProperties = &props;
	} else {
		o->cleansession = 1;
		o->onSuccess = mqtt_on_connect;
		o->onFailure = mqtt_on_connect_fail;
	}
	o->context = m;
	o->MQTTVersion = m->version;
	if (m->cfg->mqtt.username[0])
		o->username = m->cfg->mqtt.username;
	if (m->password[0])
		o->password = m->password;
	will.topicName = m->will_topic;
	will.message = m->will_payload;
	will.retained = 1;
	will.qos = 1;
	o->will = &will;
	m->connect_ms = loop_now_ms();
	rc = MQTTAsync_connect(m->client, o);
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS) {
		mqtt_schedule_retry(m);
		return;
	}
	m->connecting = true;
}

static void mqtt_subscribe_all(struct mqtt *m)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTSubscribe_options so[MQTT_SUBS_MAX];
	int qos[MQTT_SUBS_MAX];
	int rc;

	if (!m->n_subs) {
		mqtt_push_simple(m, EV_SUBSCRIBED, 0, 0, NULL);
		return;
	}
	for (int i = 0; i < m->n_subs; i++) {
		MQTTSubscribe_options init = MQTTSubscribe_options_initializer;

		so[i] = init;
		/* Retained flags reach us as sent, so retained commands
		 * can be told apart and refused. */
		so[i].retainAsPublished = 1;
		qos[i] = 1;
	}
	ro.context = m;
	if (m->version == MQTTVERSION_5) {
		ro.onSuccess5 = mqtt_on_sub5;
		ro.onFailure5 = mqtt_on_sub_fail5;
		ro.subscribeOptionsCount = m->n_subs;
		ro.subscribeOptionsList = so;
	} else {
		ro.onSuccess = mqtt_on_sub;
		ro.onFailure = mqtt_on_sub_fail;
	}
	rc = MQTTAsync_subscribeMany(m->client, m->n_subs, m->subs, qos, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		mqtt_push_simple(m, EV_SUBSCRIBE_FAILED, rc, 0,
				 "subscribe could not be sent");
}

static void mqtt_went_offline(struct mqtt *m, const char *why)
{
	m->online = false;
	m->cbs.offline(m->cb_data, why);
}

void mqtt_handle(struct mqtt *m, struct mqtt_ev *ev)
{
	char why[200];
	bool no_connack;

	switch (ev->type) {
	case EV_CONNECTED:
		m->connecting = false;
		/* A new session: what the last one had in flight is gone. */
		m->inflight = 0;
		m->will_sent = MQTT_WILL_NONE;
		m->session++;
		m->window = ev->code > 0 ? (unsigned int)ev->code
					 : MQTT_WINDOW_DEFAULT;
		mqtt_subscribe_all(m);
		break;
	case EV_DELIVERED:
		if (m->inflight)
			m->inflight--;
		if (m->stop_waiting && mqtt_stop_ready(m))
			mqtt_disconnect(m);
		if (m->inflight + 1 == m->window && m->cbs.writable)
			m->cbs.writable(m->cb_data);
		break;
	case EV_SUBSCRIBED:
		m->failures = 0;
		m->online = true;
		m->cbs.online(m->cb_data);
		break;
	case EV_SUBSCRIBE_FAILED:
		mqtt_went_offline(m, ev->why);
		MQTTAsync_disconnect(m->client, NULL);
		mqtt_schedule_retry(m);
		break;
	case EV_CONNECT_FAILED:
		m->connecting = false;
		/*
		 * Some MQTT 3.1.1 brokers answer an MQTT 5 CONNECT by closing
		 * the connection at once, without a CONNACK (RabbitMQ 3.10
		 * does): that too is worth one try in 3.1.1 at once. If 3.1.1
		 * gets no CONNACK either, the broker is away: MQTT 5 again,
		 * after the back-off. A connect that timed out (a silent
		 * broker) is not a hang-up and changes nothing.
		 */
		no_connack = ev->code == MQTTASYNC_FAILURE && !ev->reason &&
			     loop_now_ms() - m->connect_ms < MQTT_HANGUP_MS;
		if (m->version == MQTTVERSION_5 &&
		    (ev->reason ==
			     MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION ||
		     ev->code == 1 || no_connack)) {
			/* An MQTT 3.1.1 broker: try again in its language. */
			MQTTAsync_destroy(&m->client);
			m->version = MQTTVERSION_3_1_1;
			if (mqtt_create_client(m) == 0) {
				mqtt_connect(m);
				break;
			}
		} else if (m->version == MQTTVERSION_3_1_1 && no_connack) {
			MQTTAsync_destroy(&m->client);
			m->version = MQTTVERSION_5;
			if (mqtt_create_client(m)) {
				m->version = MQTTVERSION_3_1_1;
				mqtt_create_client(m);
			}
		}
		if (ev->code == 4 || ev->code == 5 || ev->reason == 0x86 ||
		    ev->reason == 0x87)
			snprintf(why, sizeof(why),
				 "the broker refused the credentials");
		else
			snprintf(why, sizeof(why), "connect failed%s%s",
				 ev->why[0] ? ": " : "", ev->why);
		mqtt_went_offline(m, why);
		mqtt_schedule_retry(m);
		break;
	case EV_LOST:
		m->connecting = false;
		mqtt_went_offline(m, ev->why);
		mqtt_schedule_retry(m);
		break;
	case EV_MESSAGE:
		mqtt_in_release(m, ev->msg->refused, ev->msg->len);
		m->cbs.message(m->cb_data, ev->msg);
		ev->msg = NULL;
		break;
	case EV_TRACKED: {
		struct mqtt_track *t = ev->track;

		if (t->session == m->session) {
			if (m->inflight)
				m->inflight--;
			if (!m->stopping)
				t->fn(t->data, t->tag, ev->code);
			if (m->stop_waiting && mqtt_stop_ready(m))
				mqtt_disconnect(m);
			if (m->inflight + 1 == m->window && m->cbs.writable)
				m->cbs.writable(m->cb_data);
		}
		break;
	}
	case EV_WILL_DONE:
		if (m->inflight)
			m->inflight--;
		if (m->will_sent == MQTT_WILL_PENDING)
			m->will_sent =
				ev->code ? MQTT_WILL_CONFIRMED : MQTT_WILL_NONE;
		if (m->stop_waiting && mqtt_stop_ready(m))
			mqtt_disconnect(m);
		break;
	case EV_DISCONNECTED:
		m->online = false;
		if (m->stop_done) {
			void (*done)(void *) = m->stop_done;

			m->stop_done = NULL;
			done(m->stop_data);
		}
		break;
	}
}

static int mqtt_read_password(struct mqtt *m, char *err, size_t errlen)
{
	const char *path = m->cfg->mqtt.password_file;
	int r;

	if (!path[0])
		return 0;
	r = secret_read("password_file", path, m->password, sizeof(m->password),
			err, errlen);
	return r < 0 ? r : 0;
}

int mqtt_new(struct loop *l, const struct config *c, const char *uri,
	     const struct mqtt_will *will, const struct mqtt_cbs *cbs,
	     void *data, struct mqtt **out, char *err, size_t errlen)
{
	struct mqtt *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->loop = l;
	m->cfg = c;
	m->uri = uri;
	m->cbs = *cbs;
	m->cb_data = data;
	m->version = MQTTVERSION_5;
	m->window = MQTT_WINDOW_DEFAULT;
	snprintf(m->will_topic, sizeof(m->will_topic), "%s", will->topic);
	snprintf(m->will_payload, sizeof(m->will_payload), "%s", will->payload);
	pthread_mutex_init(&m->lock, NULL);
	m->in_bytes_max =
		2 * ((size_t)c->agent.max_payload + MQTT_PACKET_SLACK);
	if (m->in_bytes_max < MQTT_IN_BYTES_MIN)
		m->in_bytes_max = MQTT_IN_BYTES_MIN;
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->efd < 0) {
		r = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	r = mqtt_read_password(m, err, errlen);
	if (r)
		goto fail;
	r = mqtt_create_client(m);
	if (r) {
		snprintf(err, errlen, "cannot create the MQTT client");
		goto fail;
	}
	r = loop_fd_add(l, m->efd, POLLIN, mqtt_on_wake, m);
	if (r) {
		snprintf(err, errlen, "loop: %s", strerror(-r));
		goto fail;
	}
	*out = m;
	return 0;
fail:
	if (m->client)
		MQTTAsync_destroy(&m->client);
	if (m->efd >= 0)
		close(m->efd);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return r;
}

void mqtt_free(struct mqtt *m)
{
	struct mqtt_ev *ev;

	if (!m)
		return;
	if (m->retry_timer)
		loop_timer_cancel(m->loop, m->retry_timer);
	if (m->stop_timer)
		loop_timer_cancel(m->loop, m->stop_timer);
	if (m->client)
		MQTTAsync_destroy(&m->client);
	loop_fd_del(m->loop, m->efd);
	close(m->efd);
	while ((ev = m->head)) {
		m->head = ev->next;
		mqtt_ev_free(ev);
	}
	while ((ev = m->held)) {
		m->held = ev->next;
		mqtt_ev_free(ev);
	}
	for (int i = 0; i < m->n_subs; i++)
		free(m->subs[i]);
	pthread_mutex_destroy(&m->lock);
	memset(m->password, 0, sizeof(m->password));
	free(m);
}

int mqtt_add_subscription(struct mqtt *m, const char *filter)
{
	if (m->n_subs == MQTT_SUBS_MAX)
		return -ENOSPC;
	m->subs[m->n_subs] = strdup(filter);
	if (!m->subs[m->n_subs])
		return -ENOMEM;
	m->n_subs++;
	return 0;
}

int mqtt_start(struct mqtt *m)
{
	mqtt_connect(m);
	return 0;
}

/*
 * Paho 1.3.12 ends a disconnect that finds QoS 1 messages in flight only
 * from its timeout sweep, which runs every 3 s: an agent stopping right
 * after its "offline" would wait that long. So mqtt_stop() waits here
 * until the broker has acknowledged everything, our "offline" last (or
 * MQTT_STOP_WAIT_MS passed), and the disconnect leaves Paho nothing to
 * wait for.
 */
static void mqtt_disconnect(struct mqtt *m)
{
	MQTTAsync_disconnectOptions d5 =
		MQTTAsync_disconnectOptions_initializer5;
	MQTTAsync_disconnectOptions d3 =
		MQTTAsync_disconnectOptions_initializer;
	MQTTAsync_disconnectOptions *d =
		m->version == MQTTVERSION_5 ? &d5 : &d3;

	m->stop_waiting = false;
	if (m->stop_timer) {
		loop_timer_cancel(m->loop, m->stop_timer);
		m->stop_timer = 0;
	}
	d->timeout = 0;
	d->context = m;
	if (m->version == MQTTVERSION_5) {
		d->onSuccess5 = mqtt_on_disc5;
		d->onFailure5 = mqtt_on_disc_fail5;
		/* MQTT 3.1.1 has no such code: its DISCONNECT always
		 * discards the will. */
		if (m->will_sent != MQTT_WILL_CONFIRMED)
			d->reasonCode =
				MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE;
	} else {
		d->onSuccess = mqtt_on_disc;
		d->onFailure = mqtt_on_disc_fail;
	}
	if (MQTTAsync_disconnect(m->client, d) != MQTTASYNC_SUCCESS)
		mqtt_push_simple(m, EV_DISCONNECTED, 0, 0, NULL);
}

/* A stop waits until nothing is in flight and our will is answered. */
static bool mqtt_stop_ready(const struct mqtt *m)
{
	return !m->inflight && m->will_sent != MQTT_WILL_PENDING;
}

static void mqtt_stop_wait_cb(void *data)
{
	struct mqtt *m = data;

	m->stop_timer = 0;
	if (m->stop_waiting)
		mqtt_disconnect(m);
}

int mqtt_stop(struct mqtt *m, void (*done)(void *data), void *data)
{
	m->stopping = true;
	if (m->retry_timer) {
		loop_timer_cancel(m->loop, m->retry_timer);
		m->retry_timer = 0;
	}
	if (!MQTTAsync_isConnected(m->client))
		return -ENOTCONN;
	m->stop_done = done;
	m->stop_data = data;
	if (mqtt_stop_ready(m)) {
		mqtt_disconnect(m);
		return 0;
	}
	m->stop_waiting = true;
	mqtt_ack_wake_update(m);
	return loop_timer_rearm(m->loop, &m->stop_timer, MQTT_STOP_WAIT_MS,
				mqtt_stop_wait_cb, m);
}

bool mqtt_window_full(const struct mqtt *m)
{
	return m->inflight >= m->window;
}

void mqtt_inbound(const struct mqtt *m, uint64_t *refused, uint64_t *dropped)
{
	pthread_mutex_lock((pthread_mutex_t *)&m->lock);
	*refused = m->refused;
	*dropped = m->dropped;
	pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
}

bool mqtt_is_online(const struct mqtt *m)
{
	return m->online;
}

int mqtt_version(const struct mqtt *m)
{
	return m->version == MQTTVERSION_5 ? 5 : 4;
}

/* Our own publish of what the will says, on the will's topic. */
static bool mqtt_is_will(const struct mqtt *m, const char *topic,
			 const void *payload, size_t len)
{
	return !strcmp(topic, m->will_topic) &&
	       len == strlen(m->will_payload) &&
	       !memcmp(payload, m->will_payload, len);
}

/*
 * Hands a message to Paho with ro's callbacks, the correlation data as
 * a property under MQTT 5; a message with an acknowledgement to come
 * takes a place in the window.
 */
static int mqtt_send(struct mqtt *m, const char *topic, const void *payload,
		     size_t len, int qos, bool retain, const void *correlation,
		     size_t correlation_len, MQTTAsync_responseOptions *ro)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	int rc;

	if (len > INT32_MAX)
		return -E2BIG;
	msg.payload = (void *)payload;
	msg.payloadlen = (int)len;
	msg.qos = qos;
	msg.retained = retain;
	if (correlation && correlation_len && m->version == MQTTVERSION_5)
		mqtt_prop_add(&msg.properties,
			      MQTTPROPERTY_CODE_CORRELATION_DATA, correlation,
			      correlation_len);
	rc = MQTTAsync_sendMessage(m->client, topic, &msg, ro);
	MQTTProperties_free(&msg.properties);
	if (rc == MQTTASYNC_SUCCESS && qos > 0) {
		m->inflight++;
		mqtt_ack_wake_update(m);
	}
	return mqtt_send_errno(rc);
}

int mqtt_publish(struct mqtt *m, const char *topic, const void *payload,
		 size_t len, int qos, bool retain, const void *correlation,
		 size_t correlation_len)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int r;

	if (!m->online && !m->stopping)
		return -ENOTCONN;
	if (qos > 0) {
		ro.context = m;
		if (m->version == MQTTVERSION_5 &&
		    mqtt_is_will(m, topic, payload, len)) {
			ro.onSuccess5 = mqtt_on_will_acked5;
			ro.onFailure5 = mqtt_on_will_failed5;
		} else if (m->version == MQTTVERSION_5) {
			ro.onSuccess5 = mqtt_on_delivered5;
			ro.onFailure5 = mqtt_on_undelivered5;
		} else {
			ro.onSuccess = mqtt_on_delivered;
			ro.onFailure = mqtt_on_undelivered;
		}
	}
	r = mqtt_send(m, topic, payload, len, qos, retain, correlation,
		      correlation_len, &ro);
	if (!r && ro.onSuccess5 == mqtt_on_will_acked5)
		m->will_sent = MQTT_WILL_PENDING;
	return r;
}

void mqtt_prop_add(MQTTProperties *props, enum MQTTPropertyCodes id,
		   const void *data, size_t len)
{
	MQTTProperty prop = {.identifier = id};

	prop.value.data.data = (char *)data;
	prop.value.data.len = (int)len;
	MQTTProperties_add(props, &prop);
}

int mqtt_send_errno(int rc)
{
	switch (rc) {
	case MQTTASYNC_SUCCESS:
		return 0;
	case MQTTASYNC_DISCONNECTED:
		return -ENOTCONN;
	case MQTTASYNC_MAX_BUFFERED_MESSAGES:
	case MQTTASYNC_MAX_MESSAGES_INFLIGHT:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

unsigned int mqtt_session(const struct mqtt *m)
{
	return m->session;
}

int mqtt_publish_tracked(struct mqtt *m, const char *topic, const void *payload,
			 size_t len, bool retain, const void *correlation,
			 size_t correlation_len, mqtt_acked_fn fn, void *data,
			 uint64_t tag, bool quiet)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	struct mqtt_track *t;
	int r;

	if (!m->online)
		return -ENOTCONN;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct mqtt_track){m, fn, data, tag, m->session, quiet};
	ro.context = t;
	if (m->version == MQTTVERSION_5) {
		ro.onSuccess5 = mqtt_on_tracked5;
		ro.onFailure5 = mqtt_on_untracked5;
	} else {
		ro.onSuccess = mqtt_on_tracked;
		ro.onFailure = mqtt_on_untracked;
	}
	r = mqtt_send(m, topic, payload, len, 1, retain, correlation,
		      correlation_len, &ro);
	if (r)
		free(t);
	return r;
}
