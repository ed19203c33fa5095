/*
 * A short list of callbacks with their data, as the modules that others
 * listen to keep them. Every callback type fits listener_fn by a cast;
 * the owner casts back to its own type when it calls them.
 */
#ifndef ZB_LISTENERS_H
#define ZB_LISTENERS_H

#include <errno.h>

#define LISTENERS_MAX 8

typedef void (*listener_fn)(void);

struct listeners {
	struct {
		listener_fn fn;
		void *data;
	} l[LISTENERS_MAX];
	int n;
};

/* Add fn; -ENOSPC when max (at most LISTENERS_MAX) are there already. */
static inline int listeners_add(struct listeners *ls, int max, listener_fn fn,
				void *data)
{
	if (ls->n == max || ls->n == LISTENERS_MAX)
		return -ENOSPC;
	ls->l[ls->n].fn = fn;
	ls->l[ls->n].data = data;
	ls->n++;
	return 0;
}

#endif
