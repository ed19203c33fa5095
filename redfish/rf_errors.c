/*
 * Redfish error bodies: {"error":{"code","message","@Message.ExtendedInfo"}}
 * with a message from the Base registry.
 */
#include <stdarg.h>
#include <stdio.h>

#include "redfish/rf.h"

void rf_error(struct rf_reply *r, unsigned int status, const char *msgid,
	      const char *fmt, ...)
{
	char msg[1024], id[96];
	cJSON *err, *info, *one;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(id, sizeof(id), "Base.1.8.%s", msgid);
	cJSON_Delete(r->body);
	r->status = status;
	r->body = cJSON_CreateObject();
	err = cJSON_AddObjectToObject(r->body, "error");
	cJSON_AddStringToObject(err, "code", id);
	cJSON_AddStringToObject(err, "message", msg);
	info = cJSON_AddArrayToObject(err, "@Message.ExtendedInfo");
	one = cJSON_CreateObject();
	cJSON_AddStringToObject(one, "@odata.type", "#Message.v1_1_1.Message");
	cJSON_AddStringToObject(one, "MessageId", id);
	cJSON_AddStringToObject(one, "Message", msg);
	cJSON_AddStringToObject(one, "Severity",
				status >= 500 ? "Critical" : "Warning");
	cJSON_AddItemToArray(info, one);
}
