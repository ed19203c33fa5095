/*
 * Command payloads: plain text for the common case, or a JSON object
 * (first non-blank byte '{') that may carry "id". Errors are returned
 * with a message that names the problem; nothing here logs.
 */
#ifndef ZB_PAYLOAD_H
#define ZB_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define PAYLOAD_ID_MAX 128
#define PAYLOAD_NESTING_MAX 8

struct payload {
	char id[PAYLOAD_ID_MAX + 1]; /* "" when none was given */
	cJSON *json; /* the object, or NULL for plain payloads */
	char *text;  /* plain payload, NUL-terminated, blanks trimmed */
};

/*
 * Parse data[len] (not NUL-terminated). max is the size limit. Returns 0,
 * or -E2BIG / -EINVAL / -EILSEQ / -ENOMEM with err filled in; even on
 * error p->id is set when it could be read, so the result can carry it.
 */
int payload_parse(const char *data, size_t len, size_t max, struct payload *p,
		  char *err, size_t errlen);
void payload_free(struct payload *p);

/*
 * A string field of a JSON payload; for a plain payload the text itself
 * when field is the command's main field (main == true). Returns NULL
 * when absent, and sets *bad when present with the wrong type.
 */
const char *payload_str(const struct payload *p, const char *field, bool main,
			bool *bad);
/* Numbers and booleans: 0 and *out set, -ENOENT absent, -EINVAL wrong. */
int payload_int(const struct payload *p, const char *field, long lo, long hi,
		long *out);
int payload_bool(const struct payload *p, const char *field, bool *out);
/* Reject JSON members not in the NULL-terminated list; names the first. */
int payload_check_fields(const struct payload *p, const char *const *known,
			 char *err, size_t errlen);

/* True if data[len] is valid UTF-8 (no overlongs, no surrogates). */
bool payload_utf8_valid(const char *data, size_t len);

#endif
