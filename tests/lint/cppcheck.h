/* What cppcheck needs to know of system headers it does not read. */
#define cJSON_ArrayForEach(element, array)                                     \
	for (element = (array != NULL) ? (array)->child : NULL;                \
	     element != NULL; element = element->next)
