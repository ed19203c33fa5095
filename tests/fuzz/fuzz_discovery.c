/*
 * libFuzzer target: Home Assistant discovery found on the broker, a
 * device payload and an entity topic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ha-integration/discovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_input in = {
		.id = "fuzz",
		.base = "zerobmc/fuzz",
		.prefix = "homeassistant",
	};
	struct ha_set set = {0};
	char key[HA_KEY_MAX];
	enum ha_platform p;
	char *topic;

	ha_device_config_parse((const char *)data, size, &set);
	if (set.n > HA_SET_MAX)
		abort();
	ha_set_free(&set);
	/* The input as the components themselves, so the fuzzer need not
	 * find the outer object to reach the component loop. */
	topic = malloc(size + 16);
	if (!topic)
		return 0;
	memcpy(topic, "{\"cmps\":{", 9);
	memcpy(topic + 9, data, size);
	memcpy(topic + 9 + size, "}}", 2);
	ha_device_config_parse(topic, size + 11, &set);
	if (set.n > HA_SET_MAX)
		abort();
	ha_set_free(&set);
	free(topic);
	topic = malloc(size + 1);
	if (!topic)
		return 0;
	memcpy(topic, data, size);
	topic[size] = '\0';
	if (ha_entity_topic_parse(&in, topic, key, &p) == 0 &&
	    strlen(key) >= HA_KEY_MAX)
		abort();
	free(topic);
	return 0;
}
