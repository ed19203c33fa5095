/* The client tools' output: readable lines by default, JSON on request. */
#include "firmware/tools/fleet_print.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

static const char *fleet_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int fleet_result_exit(const cJSON *result)
{
	const char *st = fleet_str(result, "status");

	return st && !strcmp(st, "ok") ? 0 : 1;
}

/* The fields every result has are on the first line; these are not. */
static bool fleet_common_field(const char *name)
{
	static const char *const common[] = {"id", "cmd", "status", "error",
					     NULL};

	for (int i = 0; common[i]; i++)
		if (!strcmp(name, common[i]))
			return true;
	return false;
}

void fleet_print_result(FILE *f, const char *agent, const cJSON *result)
{
	const char *st = fleet_str(result, "status");
	const char *err = fleet_str(result, "error");
	const char *cmd = fleet_str(result, "cmd");
	const cJSON *it;

	fprintf(f, "%s %s: %s%s%s\n", agent, cmd ? cmd : "?", st ? st : "?",
		err ? ": " : "", err ? err : "");
	cJSON_ArrayForEach(it, result)
	{
		char *s;

		if (!it->string || fleet_common_field(it->string))
			continue;
		/* Text (a script's output) is shown as it is. */
		if (cJSON_IsString(it)) {
			fprintf(f, "  %s: %s\n", it->string, it->valuestring);
			continue;
		}
		s = cJSON_PrintUnformatted(it);
		if (s)
			fprintf(f, "  %s: %s\n", it->string, s);
		cJSON_free(s);
	}
}

void fleet_clock(char *buf, size_t len, uint64_t unix_ms)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (unsigned int)(unix_ms % 1000));
}

void fleet_event_line(char *buf, size_t len, const cJSON *event)
{
	const char *src = fleet_str(event, "source");
	const char *what = fleet_str(event, "what");
	const cJSON *it;
	size_t n;

	n = (size_t)snprintf(buf, len, "%s %s", src ? src : "?",
			     what ? what : "?");
	cJSON_ArrayForEach(it, event)
	{
		char *s;

		if (n >= len)
			return;
		if (!it->string || !strcmp(it->string, "t") ||
		    !strcmp(it->string, "source") ||
		    !strcmp(it->string, "what"))
			continue;
		s = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
		n += (size_t)snprintf(
			buf + n, len - n, " %s=%s", it->string,
			s ? s : (cJSON_IsString(it) ? it->valuestring : "?"));
		cJSON_free(s);
	}
}

void fleet_print_json(FILE *f, const char *agent, const char *key, cJSON *item)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	if (!o) {
		cJSON_Delete(item);
		return;
	}
	cJSON_AddStringToObject(o, "agent", agent);
	cJSON_AddItemToObject(o, key, item);
	s = cJSON_PrintUnformatted(o);
	if (s)
		fprintf(f, "%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
}
