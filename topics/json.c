#include "topics/json.h"

void json_merge(cJSON *into, cJSON *from)
{
	while (from && from->child) {
		cJSON *c = cJSON_DetachItemViaPointer(from, from->child);

		cJSON_AddItemToObject(into, c->string, c);
	}
	cJSON_Delete(from);
}
