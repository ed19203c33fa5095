/* cmd/console: text written to the server's console, or its last lines. */
#include "firmware/console/console_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void console_out_done(void *data, void *vreq, int err, size_t written,
		      size_t total)
{
	struct console *c = data;
	struct cmd_req *req = vreq;
	cJSON *extra = cJSON_CreateObject();
	char msg[256];

	cJSON_AddNumberToObject(extra, "written", (double)written);
	if (!err) {
		cap_reply(c->cap, req, RESULT_OK, NULL, extra);
		return;
	}
	cJSON_AddNumberToObject(extra, "total", (double)total);
	if (err == -ETIMEDOUT)
		snprintf(msg, sizeof(msg),
			 "the host did not read the console within %d ms: "
			 "%zu of %zu bytes written",
			 c->cfg->console.write_timeout_ms, written, total);
	else if (err == -ECANCELED)
		snprintf(msg, sizeof(msg),
			 "the agent stopped: %zu of %zu bytes written", written,
			 total);
	else
		snprintf(msg, sizeof(msg),
			 "the console device closed (%s): %zu of %zu bytes "
			 "written",
			 strerror(-err), written, total);
	cap_reply(c->cap, req,
		  err == -ECANCELED ? RESULT_CANCELLED : RESULT_ERROR, msg,
		  extra);
}

static const char *const console_fields[] = {"data", "enter", "history", NULL};

static void console_cmd_history(struct console *c, struct cmd_req *req, long n)
{
	cJSON *extra = cJSON_CreateObject();
	size_t omitted;
	cJSON *lines = console_history_json(&c->hist, (size_t)n, &omitted);

	if (!extra || !lines) {
		cJSON_Delete(extra);
		cJSON_Delete(lines);
		cap_reply(c->cap, req, RESULT_ERROR, "out of memory", NULL);
		return;
	}
	cJSON_AddItemToObject(extra, "lines", lines);
	if (omitted)
		cJSON_AddNumberToObject(extra, "omitted", (double)omitted);
	cap_reply(c->cap, req, RESULT_OK, NULL, extra);
}

void console_cmd(void *self, struct cmd_req *req)
{
	struct console *c = self;
	const char *data;
	bool enter = true, bad;
	long history = 0;
	char msg[200];
	char *bytes;
	size_t len;
	int r;

	if (payload_check_fields(&req->p, console_fields, msg, sizeof(msg))) {
		cap_reply(c->cap, req, RESULT_ERROR, msg, NULL);
		return;
	}
	r = payload_int(&req->p, "history", 1, 1000000, &history);
	if (r == -EINVAL) {
		cap_reply(c->cap, req, RESULT_ERROR,
			  "\"history\" must be a whole number of lines, "
			  "at least 1",
			  NULL);
		return;
	}
	if (payload_bool(&req->p, "enter", &enter) == -EINVAL) {
		cap_reply(c->cap, req, RESULT_ERROR,
			  "\"enter\" must be true or false", NULL);
		return;
	}
	data = payload_str(&req->p, "data", true, &bad);
	if (bad) {
		cap_reply(c->cap, req, RESULT_ERROR,
			  "\"data\" must be a string", NULL);
		return;
	}
	if (history && data) {
		cap_reply(c->cap, req, RESULT_ERROR,
			  "give \"data\" (to write) or \"history\" (to "
			  "read), not both",
			  NULL);
		return;
	}
	if (history) {
		console_cmd_history(c, req, history);
		return;
	}
	if (!data) {
		cap_reply(c->cap, req, RESULT_ERROR,
			  "nothing to do: give \"data\" to write or "
			  "\"history\" to read the last lines",
			  NULL);
		return;
	}
	if (c->fd < 0) {
		snprintf(msg, sizeof(msg),
			 "the console device is not open (%s)",
			 c->error[0] ? c->error : c->cfg->console.device);
		cap_reply(c->cap, req, RESULT_ERROR, msg, NULL);
		return;
	}
	len = strlen(data);
	bytes = malloc(len + 1);
	if (!bytes) {
		cap_reply(c->cap, req, RESULT_ERROR, "out of memory", NULL);
		return;
	}
	memcpy(bytes, data, len);
	if (enter)
		bytes[len++] = '\r';
	r = console_out_add(&c->out, req, bytes, len,
			    loop_now_ms() +
				    (uint64_t)c->cfg->console.write_timeout_ms);
	free(bytes);
	if (r == -ENOSPC) {
		cap_reply(c->cap, req, RESULT_BUSY,
			  "console input is backed up: the host is not "
			  "reading",
			  NULL);
		return;
	}
	if (r) {
		cap_reply(c->cap, req, RESULT_ERROR, strerror(-r), NULL);
		return;
	}
	console_write(c);
}
