#include "firmware/console/console_history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int console_history_init(struct console_history *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	if (!cap)
		return 0;
	h->line = calloc(cap, sizeof(*h->line));
	if (!h->line)
		return -ENOMEM;
	h->cap = cap;
	return 0;
}

void console_history_free(struct console_history *h)
{
	for (size_t i = 0; i < h->cap; i++)
		free(h->line[i]);
	free(h->line);
	memset(h, 0, sizeof(*h));
}

void console_history_add(struct console_history *h, const char *line,
			 size_t len)
{
	char *slot;

	if (!h->cap)
		return;
	/* realloc keeps the slot's block when the size hardly changes. */
	slot = realloc(h->line[h->next], len + 1);
	if (slot) {
		memcpy(slot, line, len);
		slot[len] = '\0';
	} else {
		free(h->line[h->next]);
	}
	h->line[h->next] = slot;
	h->next = (h->next + 1) % h->cap;
	if (h->n < h->cap)
		h->n++;
}

static const char *console_history_at(const struct console_history *h,
				      size_t from_end)
{
	const char *s = h->line[(h->next + h->cap - 1 - from_end) % h->cap];

	return s ? s : "";
}

cJSON *console_history_json(const struct console_history *h, size_t n,
			    size_t *omitted)
{
	cJSON *arr = cJSON_CreateArray();
	size_t bytes = 0, fit = 0;

	*omitted = 0;
	if (!arr)
		return NULL;
	if (n > h->n)
		n = h->n;
	/* Newest first, so the cut falls on the oldest lines. */
	while (fit < n) {
		size_t len = strlen(console_history_at(h, fit));

		if (bytes + len > CONSOLE_HISTORY_REPLY_MAX)
			break;
		bytes += len;
		fit++;
	}
	*omitted = n - fit;
	n = fit;
	for (size_t i = 0; i < n; i++) {
		size_t slot = (h->next + h->cap - n + i) % h->cap;
		const char *s = h->line[slot] ? h->line[slot] : "";
		cJSON *str = cJSON_CreateString(s);

		if (!str) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, str);
	}
	return arr;
}
