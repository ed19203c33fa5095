/* libFuzzer target: command payloads and command topics. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topics/payload.h"
#include "topics/topics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = {"keys", "text", "mode", NULL};
	struct payload p;
	struct topics t;
	char err[256];
	char name[TOPICS_CMD_NAME_MAX];
	char *topic;
	long n;
	bool b, bad;

	if (payload_parse((const char *)data, size, 65536, &p, err,
			  sizeof(err)) == 0) {
		payload_str(&p, "keys", true, &bad);
		payload_int(&p, "hold_ms", 0, 100000, &n);
		payload_bool(&p, "enter", &b);
		payload_check_fields(&p, known, err, sizeof(err));
		payload_free(&p);
	}
	topic = malloc(size + 1);
	if (!topic)
		return 0;
	memcpy(topic, data, size);
	topic[size] = '\0';
	if (topics_init(&t, "zerobmc", "fuzz", NULL, 0) == 0)
		topics_match_cmd(&t, topic, name);
	free(topic);
	return 0;
}
