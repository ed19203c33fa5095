/* JSON helpers shared by the payload builders. */
#ifndef ZB_JSON_H
#define ZB_JSON_H

#include <cjson/cJSON.h>

/*
 * Move every member of the object from into the object into, in order,
 * and delete from (which may be NULL).
 */
void json_merge(cJSON *into, cJSON *from);

#endif
