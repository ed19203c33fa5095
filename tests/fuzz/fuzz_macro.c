/* libFuzzer target: the macro script parser, with the US layout. */
#include <stddef.h>
#include <stdint.h>

#include "firmware/macro/macro_parse.h"
#include "gadget/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct macro_script s;
	struct macro_error err;
	char msg[256];

	if (macro_parse((const char *)data, size, layout_find("us"), &s,
			&err) == 0)
		macro_script_free(&s);
	else
		macro_error_format(&err, msg, sizeof(msg));
	return 0;
}
