/* Result payloads: one JSON object per finished command. */
#ifndef ZB_RESULT_H
#define ZB_RESULT_H

#include <cjson/cJSON.h>

enum result_status {
	RESULT_OK,
	RESULT_ERROR,
	RESULT_BUSY,
	RESULT_CANCELLED,
};

const char *result_status_name(enum result_status s);

/*
 * {"id":…, "cmd":…, "status":…, "error":…} plus the members of extra
 * (which is consumed). id may be "" (omitted), error NULL (omitted).
 * Returns a malloc'd string or NULL.
 */
char *result_build(const char *id, const char *cmd, enum result_status s,
		   const char *error, cJSON *extra);

#endif
