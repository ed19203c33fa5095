#include "firmware/core/backoff.h"

uint32_t backoff_next(uint32_t *ms, uint32_t first, uint32_t max)
{
	*ms = *ms ? (*ms > max / 2 ? max : *ms * 2) : first;
	if (*ms > max)
		*ms = max;
	return *ms;
}
