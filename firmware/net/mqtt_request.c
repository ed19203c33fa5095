/*
 * A request in MQTT 5's way: a QoS 1 publish carrying a response topic and
 * correlation data, which the agent copies onto its result. The client
 * tools and the Redfish gateway use it; the agent itself only answers
 * requests.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "firmware/net/mqtt_priv.h"

int mqtt_publish_request(struct mqtt *m, const char *topic, const void *payload,
			 size_t len, const char *response_topic,
			 const void *correlation, size_t correlation_len)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc;

	if (m->version != MQTTVERSION_5)
		return mqtt_publish(m, topic, payload, len, 1, false, NULL, 0);
	if (!m->online)
		return -ENOTCONN;
	/* MQTT 5 strings and binary data carry a 16-bit length. */
	if (len > INT32_MAX || strlen(response_topic) > UINT16_MAX ||
	    correlation_len > UINT16_MAX)
		return -E2BIG;
	ro.context = m;
	ro.onSuccess5 = mqtt_on_delivered5;
	ro.onFailure5 = mqtt_on_undelivered5;
	msg.payload = (void *)payload;
	msg.payloadlen = (int)len;
	msg.qos = 1;
	mqtt_prop_add(&msg.properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC,
		      response_topic, strlen(response_topic));
	mqtt_prop_add(&msg.properties, MQTTPROPERTY_CODE_CORRELATION_DATA,
		      correlation, correlation_len);
	rc = MQTTAsync_sendMessage(m->client, topic, &msg, &ro);
	MQTTProperties_free(&msg.properties);
	if (rc == MQTTASYNC_SUCCESS)
		m->inflight++;
	return mqtt_send_errno(rc);
}
