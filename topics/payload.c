#include "topics/payload.h"
#include "topics/utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool payload_utf8_valid(const char *data, size_t len)
{
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		int n = utf8_decode(data + i, len - i, &cp);

		if (n < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

/*
 * cJSON decodes "\u0000" and silently cuts the string there, so
 * "a\u0000b" would arrive as "a": refuse the escape before parsing.
 */
static bool payload_has_nul_escape(const char *s, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		size_t bs = 0;

		if (s[i] != '\\')
			continue;
		while (i + bs < len && s[i + bs] == '\\')
			bs++;
		/* An even run is escaped backslashes; an odd run ends in an
		 * escape of the next character. */
		if ((bs & 1) && i + bs + 5 <= len && s[i + bs] == 'u' &&
		    !strncmp(s + i + bs + 1, "0000", 4))
			return true;
		i += bs - 1;
	}
	return false;
}

static int payload_depth(const cJSON *j, int depth)
{
	int max = depth;

	for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
		int d = payload_depth(c, depth + 1);

		if (d > max)
			max = d;
		if (max > PAYLOAD_NESTING_MAX)
			break;
	}
	return max;
}

static void payload_take_id(struct payload *p, const cJSON *obj)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");

	if (cJSON_IsString(id) && id->valuestring &&
	    strlen(id->valuestring) <= PAYLOAD_ID_MAX)
		snprintf(p->id, sizeof(p->id), "%s", id->valuestring);
	else if (cJSON_IsNumber(id))
		snprintf(p->id, sizeof(p->id), "%.0f", id->valuedouble);
}

int payload_parse(const char *data, size_t len, size_t max, struct payload *p,
		  char *err, size_t errlen)
{
	size_t start = 0, end = len;
	const cJSON *id;

	memset(p, 0, sizeof(*p));
	if (len > max) {
		snprintf(err, errlen,
			 "payload too large: %zu bytes, the limit is %zu", len,
			 max);
		return -E2BIG;
	}
	if (memchr(data, '\0', len)) {
		snprintf(err, errlen, "payload contains a NUL byte");
		return -EINVAL;
	}
	if (!payload_utf8_valid(data, len)) {
		snprintf(err, errlen, "payload is not valid UTF-8");
		return -EILSEQ;
	}
	while (start < end && (data[start] == ' ' || data[start] == '\t' ||
			       data[start] == '\r' || data[start] == '\n'))
		start++;
	if (start < end && data[start] == '{') {
		const char *perr = NULL;

		if (payload_has_nul_escape(data + start, end - start)) {
			snprintf(err, errlen,
				 "JSON payload contains \\u0000 (NUL)");
			return -EINVAL;
		}
		p->json = cJSON_ParseWithLengthOpts(data + start, end - start,
						    &perr, false);
		if (!p->json) {
			snprintf(err, errlen, "malformed JSON near byte %zu",
				 perr ? (size_t)(perr - data) : start);
			return -EINVAL;
		}
		if (!cJSON_IsObject(p->json)) {
			snprintf(err, errlen, "JSON payload must be an object");
			goto fail;
		}
		if (payload_depth(p->json, 0) > PAYLOAD_NESTING_MAX) {
			snprintf(err, errlen,
				 "JSON nested deeper than %d levels",
				 PAYLOAD_NESTING_MAX);
			goto fail;
		}
		id = cJSON_GetObjectItemCaseSensitive(p->json, "id");
		payload_take_id(p, p->json);
		if (id && !p->id[0]) {
			snprintf(err, errlen,
				 "\"id\" must be a string of at most %d bytes "
				 "or a number",
				 PAYLOAD_ID_MAX);
			goto fail;
		}
		return 0;
	}
	while (end > start && (data[end - 1] == ' ' || data[end - 1] == '\t' ||
			       data[end - 1] == '\r' || data[end - 1] == '\n'))
		end--;
	p->text = malloc(end - start + 1);
	if (!p->text) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(p->text, data + start, end - start);
	p->text[end - start] = '\0';
	return 0;
fail:
	cJSON_Delete(p->json);
	p->json = NULL;
	return -EINVAL;
}

void payload_free(struct payload *p)
{
	cJSON_Delete(p->json);
	free(p->text);
	p->json = NULL;
	p->text = NULL;
}

const char *payload_str(const struct payload *p, const char *field, bool main,
			bool *bad)
{
	const cJSON *v;

	if (bad)
		*bad = false;
	if (!p->json)
		return main ? p->text : NULL;
	v = cJSON_GetObjectItemCaseSensitive(p->json, field);
	if (!v)
		return NULL;
	if (!cJSON_IsString(v) || !v->valuestring) {
		if (bad)
			*bad = true;
		return NULL;
	}
	return v->valuestring;
}

/* A member of a JSON payload, or NULL (absent, or a plain payload). */
static const cJSON *payload_field(const struct payload *p, const char *field)
{
	return p->json ? cJSON_GetObjectItemCaseSensitive(p->json, field)
		       : NULL;
}

int payload_int(const struct payload *p, const char *field, long lo, long hi,
		long *out)
{
	const cJSON *v = payload_field(p, field);

	if (!v)
		return -ENOENT;
	if (!cJSON_IsNumber(v) || v->valuedouble < (double)lo ||
	    v->valuedouble > (double)hi ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return -EINVAL;
	*out = (long)v->valuedouble;
	return 0;
}

int payload_bool(const struct payload *p, const char *field, bool *out)
{
	const cJSON *v = payload_field(p, field);

	if (!v)
		return -ENOENT;
	if (!cJSON_IsBool(v))
		return -EINVAL;
	*out = cJSON_IsTrue(v);
	return 0;
}

int payload_check_fields(const struct payload *p, const char *const *known,
			 char *err, size_t errlen)
{
	if (!p->json)
		return 0;
	for (const cJSON *c = p->json->child; c; c = c->next) {
		bool ok = !strcmp(c->string, "id");

		for (size_t i = 0; !ok && known[i]; i++)
			ok = !strcmp(c->string, known[i]);
		if (!ok) {
			snprintf(err, errlen, "unknown field \"%.64s\"",
				 c->string);
			return -EINVAL;
		}
	}
	return 0;
}
