#include "firmware/core/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "topics/json.h"

int state_provider_add(struct state *s, const char *key, state_provider_fn fn,
		       void *data)
{
	if (s->n == STATE_PROVIDERS_MAX)
		return -ENOSPC;
	s->providers[s->n].key = key;
	s->providers[s->n].fn = fn;
	s->providers[s->n].data = data;
	s->n++;
	return 0;
}

char *state_build(const struct state *s)
{
	cJSON *doc = cJSON_CreateObject();
	char *out;

	if (!doc)
		return NULL;
	for (int i = 0; i < s->n; i++) {
		cJSON *part = s->providers[i].fn(s->providers[i].data);

		if (!part)
			continue;
		if (s->providers[i].key) {
			cJSON_AddItemToObject(doc, s->providers[i].key, part);
		} else {
			/* A provider without a key adds top-level members. */
			json_merge(doc, part);
		}
	}
	out = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return out;
}

void state_free(struct state *s)
{
	s->n = 0;
}
