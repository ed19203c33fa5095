#include "topics/result.h"

#include <stddef.h>

#include "topics/json.h"

static const char *const result_names[] = {
	[RESULT_OK] = "ok",
	[RESULT_ERROR] = "error",
	[RESULT_BUSY] = "busy",
	[RESULT_CANCELLED] = "cancelled",
};

const char *result_status_name(enum result_status s)
{
	return s <= RESULT_CANCELLED ? result_names[s] : "error";
}

char *result_build(const char *id, const char *cmd, enum result_status s,
		   const char *error, cJSON *extra)
{
	cJSON *o = cJSON_CreateObject();
	char *out = NULL;

	if (!o)
		goto done;
	if (id && id[0])
		cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "cmd", cmd ? cmd : "");
	cJSON_AddStringToObject(o, "status", result_status_name(s));
	if (error)
		cJSON_AddStringToObject(o, "error", error);
	json_merge(o, extra);
	extra = NULL;
	out = cJSON_PrintUnformatted(o);
done:
	cJSON_Delete(extra);
	cJSON_Delete(o);
	return out;
}
