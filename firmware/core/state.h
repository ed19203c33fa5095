/*
 * The retained state document: each module registers a provider that
 * returns its section as JSON; the document is rebuilt and republished,
 * coalesced, whenever a module marks it changed.
 */
#ifndef ZB_STATE_H
#define ZB_STATE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#define STATE_PROVIDERS_MAX 16

typedef cJSON *(*state_provider_fn)(void *data);

struct state {
	struct {
		const char *key;
		state_provider_fn fn;
		void *data;
	} providers[STATE_PROVIDERS_MAX];
	int n;
};

int state_provider_add(struct state *s, const char *key, state_provider_fn fn,
		       void *data);
/* The full document as a string (malloc'd), or NULL. */
char *state_build(const struct state *s);
void state_free(struct state *s);

#endif
