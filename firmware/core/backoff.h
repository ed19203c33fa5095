/* A retry delay that doubles up to a cap while something stays away. */
#ifndef ZB_BACKOFF_H
#define ZB_BACKOFF_H

#include <stdint.h>

/*
 * The next delay: first when *ms is 0 (no failure yet), else twice *ms,
 * never more than max. Stores it in *ms and returns it; set *ms to 0
 * on success to start over.
 */
uint32_t backoff_next(uint32_t *ms, uint32_t first, uint32_t max);

#endif
