/* The macro capability: its row, state, events and cmd/macro. */
#include "firmware/macro/macro_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/console/console.h"
#include "firmware/host/hostwatch.h"
#include "firmware/host/timeline.h"
#include "firmware/keyboard/keyboard.h"
#include "firmware/keyboard/keyboard_cap.h"

static const char *const macro_status_names[] = {
	[MACRO_OK] = "ok",
	[MACRO_ERROR] = "error",
	[MACRO_CANCELLED] = "cancelled",
};

void macros_job_free(struct macro_job *job)
{
	if (!job)
		return;
	macro_script_free(&job->s);
	free(job);
}

void macros_job_refuse(struct macros *m, struct macro_job *job,
		       enum result_status st, uint32_t line, const char *msg)
{
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "name", job->name);
	if (line)
		cJSON_AddNumberToObject(x, "line", line);
	cap_reply(m->c, job->req, st, msg, x);
	job->req = NULL;
	macros_job_free(job);
}

/* ---- state ---- */

static int macros_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static cJSON *macros_state_json(void *data)
{
	struct macros *m = data;
	const char *all[MACRO_LIST_MAX + 16];
	cJSON *o = cJSON_CreateObject(), *list;
	size_t n = 0;

	cJSON_AddBoolToObject(o, "running", m->cur != NULL);
	if (m->cur) {
		cJSON_AddStringToObject(o, "name", m->cur->name);
		cJSON_AddNumberToObject(o, "line", macro_run_line(&m->run));
		cJSON_AddNumberToObject(o, "step", (double)m->run.steps);
		cJSON_AddNumberToObject(o, "total", (double)m->cur->s.runs);
	}
	cJSON_AddNumberToObject(o, "queued", (double)m->nq);
	while (n < sizeof(all) / sizeof(all[0]) &&
	       (all[n] = macro_available_at((const char(*)[MACRO_NAME_MAX + 1])
						    m->names,
					    m->n_names, n)))
		n++;
	qsort(all, n, sizeof(all[0]), macros_name_cmp);
	list = cJSON_AddArrayToObject(o, "available");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(all[i]));
	if (m->last.set) {
		cJSON *l = cJSON_AddObjectToObject(o, "last");

		cJSON_AddStringToObject(l, "name", m->last.name);
		cJSON_AddStringToObject(l, "status",
					macro_status_names[m->last.st]);
		if (m->last.st != MACRO_OK) {
			cJSON_AddNumberToObject(l, "line", m->last.line);
			cJSON_AddStringToObject(l, "error", m->last.msg);
		}
	}
	if (m->dir_error[0])
		cJSON_AddStringToObject(o, "dir_error", m->dir_error);
	return o;
}

/* ---- events ---- */

static void macros_on_host(void *data, enum udc_state old, enum udc_state now)
{
	struct macros *m = data;

	(void)old;
	(void)now;
	macro_run_poke(&m->run);
}

static void macros_on_console(void *data, const char *line, size_t len)
{
	struct macros *m = data;

	macro_run_console(&m->run, line, len);
}

static void macros_on_leds(void *data, uint8_t leds)
{
	struct macros *m = data;

	macro_run_poke(&m->run);
}

/* ---- the command ---- */

static void macros_cancel(struct macros *m, struct cmd_req *req)
{
	cJSON *x = cJSON_CreateObject();
	size_t dropped = m->nq;

	/* Cancel means stop: what waits behind does not start either. */
	while (m->nq) {
		struct macro_job *job = m->queue[--m->nq];

		macros_job_refuse(m, job, RESULT_CANCELLED, 0,
				  "cancelled before it started");
	}
	if (m->cur) {
		cJSON_AddStringToObject(x, "cancelled", m->cur->name);
		macro_run_cancel(&m->run);
	} else if (keyboard_busy(keyboard_cap_device(m->kb))) {
		cJSON_AddStringToObject(x, "cancelled", "keyboard job");
		keyboard_cancel(keyboard_cap_device(m->kb));
	} else {
		cJSON_AddNullToObject(x, "cancelled");
	}
	cJSON_AddNumberToObject(x, "dropped", (double)dropped);
	cap_reply(m->c, req, RESULT_OK, NULL, x);
	cap_state_dirty(m->c);
}

/* The script of a named macro: the folder's file, else a built-in. */
static int macros_load(struct macros *m, struct macro_job *job, char **text,
		       size_t *len, char *err, size_t errlen)
{
	const struct macro_builtin *b;
	int r = -ENOENT;

	*text = NULL;
	if (m->dir[0])
		r = macro_store_read(m->dir, job->name, text, len, err, errlen);
	if (r != -ENOENT)
		return r;
	b = macro_builtin_find(job->name);
	if (!b) {
		snprintf(err, errlen,
			 "no macro \"%s\" (no %s/%s.txt and no built-in of "
			 "that name)",
			 job->name, m->dir, job->name);
		return -ENOENT;
	}
	*len = strlen(b->script);
	*text = strdup(b->script);
	return *text ? 0 : -ENOMEM;
}

static const char *const macro_fields[] = {"name", "script", "queue", NULL};

static void macros_cmd(void *self, struct cmd_req *req)
{
	struct macros *m = self;
	struct macro_error perr;
	struct macro_job *job;
	const char *name, *script;
	char msg[MACRO_ERROR_MAX + 128];
	char *text = NULL;
	bool bad1, bad2, queue = false;
	size_t len = 0;
	int r;

	if (payload_check_fields(&req->p, macro_fields, msg, sizeof(msg))) {
		cap_reply(m->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	name = payload_str(&req->p, "name", true, &bad1);
	script = payload_str(&req->p, "script", false, &bad2);
	if (bad1 || bad2 || payload_bool(&req->p, "queue", &queue) == -EINVAL) {
		cap_reply(m->c, req, RESULT_ERROR,
			  "\"name\" and \"script\" must be strings, "
			  "\"queue\" true or false",
			  NULL);
		return;
	}
	if (!script && (!name || !name[0])) {
		cap_reply(m->c, req, RESULT_ERROR,
			  "give a macro name, \"cancel\", or "
			  "{\"script\":\"...\"}",
			  NULL);
		return;
	}
	if (!script && !strcmp(name, "cancel")) {
		macros_cancel(m, req);
		return;
	}
	if (name && name[0] && !macro_name_valid(name, strlen(name))) {
		cap_reply(m->c, req, RESULT_ERROR,
			  "bad macro name: A-Z, a-z, 0-9, _ and -, 1 to 64 "
			  "characters",
			  NULL);
		return;
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		cap_reply(m->c, req, RESULT_ERROR, "out of memory", NULL);
		return;
	}
	job->req = req;
	snprintf(job->name, sizeof(job->name), "%s",
		 name && name[0] ? name : "inline");
	if (script) {
		r = macro_parse(script, strlen(script),
				keyboard_cap_layout(m->kb), &job->s, &perr);
	} else {
		r = macros_load(m, job, &text, &len, msg, sizeof(msg));
		if (r) {
			macros_job_refuse(m, job, RESULT_ERROR, 0,
					  r == -ENOMEM ? "out of memory" : msg);
			return;
		}
		r = macro_parse(text, len, keyboard_cap_layout(m->kb), &job->s,
				&perr);
		free(text);
	}
	if (r) {
		macro_error_format(&perr, msg, sizeof(msg));
		macros_job_refuse(m, job, RESULT_ERROR, perr.line, msg);
		return;
	}
	/* Another capability (cmd/boot) owns the keyboard. */
	if (!m->cur && keyboard_cap_claimed(m->kb)) {
		macros_job_refuse(m, job, RESULT_BUSY, 0,
				  keyboard_cap_claimed(m->kb));
		return;
	}
	if (m->cur || m->nq || keyboard_busy(keyboard_cap_device(m->kb))) {
		if (!queue) {
			if (m->cur)
				snprintf(msg, sizeof(msg),
					 "macro \"%s\" is running (send "
					 "\"queue\":true to run after it, or "
					 "cancel)",
					 m->cur->name);
			else
				snprintf(msg, sizeof(msg),
					 "another keyboard job is running");
			macros_job_refuse(m, job, RESULT_BUSY, 0, msg);
			return;
		}
		if (m->nq == MACRO_QUEUE_MAX) {
			snprintf(msg, sizeof(msg),
				 "%d macros wait already: the queue is full",
				 MACRO_QUEUE_MAX);
			macros_job_refuse(m, job, RESULT_BUSY, 0, msg);
			return;
		}
		m->queue[m->nq++] = job;
		if (!m->cur && !m->next_timer)
			loop_timer_rearm(m->loop, &m->next_timer,
					 MACRO_KB_RETRY_MS, macros_next_cb, m);
		cap_state_dirty(m->c);
		return;
	}
	macros_start(m, job);
}

/* ---- life cycle ---- */

static const struct keyboard_listener macros_kb_listener = {
	.leds = macros_on_leds,
};

static void macros_detach(void *self);

static int macros_attach(const struct cap *c, void **self, char *msg,
			 size_t len)
{
	struct macros *m;
	int r;

	/* Macros type: without a keyboard there is nothing to run. */
	if (!c->h->keyboard)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->c = c;
	m->loop = c->loop;
	m->dir = c->cfg->macros.dir;
	m->ino = -1;
	m->kb = c->h->keyboard;
	m->host = c->h->host;
	m->media = c->h->media;
	m->power = c->h->power;
	m->timeline = c->h->timeline;
	m->console = c->h->console != NULL;
	r = state_provider_add(c->state, "macro", macros_state_json, m);
	if (r) {
		free(m);
		return r;
	}
	if (m->host)
		hostwatch_listen(m->host, macros_on_host, m);
	if (c->h->console)
		console_listen(c->h->console, macros_on_console, m);
	if (m->timeline)
		timeline_listen(m->timeline, macros_on_timeline, m);
	keyboard_cap_listen(m->kb, &macros_kb_listener, m);
	*self = m;
	macros_watch(m);
	return 0;
}

/* The queue and the running macro are answered: the agent stops. */
static void macros_stop(void *self)
{
	struct macros *m = self;

	while (m->nq) {
		struct macro_job *job = m->queue[--m->nq];

		macros_job_refuse(m, job, RESULT_CANCELLED, 0,
				  "the agent stopped");
	}
	if (m->cur)
		macro_run_cancel(&m->run);
}

static void macros_detach(void *self)
{
	struct macros *m = self;

	if (!m)
		return;
	macros_stop(m);
	if (m->run_timer)
		loop_timer_cancel(m->loop, m->run_timer);
	if (m->progress_timer)
		loop_timer_cancel(m->loop, m->progress_timer);
	if (m->next_timer)
		loop_timer_cancel(m->loop, m->next_timer);
	if (m->dir_timer)
		loop_timer_cancel(m->loop, m->dir_timer);
	macros_unwatch(m);
	free(m);
}

static const struct cap_command macros_commands[] = {
	{"macro", macros_cmd, "run or cancel a macro"},
	{NULL, NULL, NULL},
};

const struct cap_def macros_cap = {
	.name = "macros",
	.attach = macros_attach,
	.stop = macros_stop,
	.detach = macros_detach,
	.commands = macros_commands,
	.absent = "macros are not available on this agent",
	.handle_offset = offsetof(struct cap_handles, macros),
};
