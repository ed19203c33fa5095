/* libFuzzer target: the media state file, parsed then written back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/media/media_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media_saved s;
	char *text;

	memset(&s, 0, sizeof(s));
	media_store_parse((const char *)data, size, &s);
	if (strlen(s.image) > MEDIA_NAME_MAX)
		abort();
	text = media_store_build(&s);
	free(text);
	return 0;
}
