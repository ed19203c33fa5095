#include "firmware/macro/macro.h"

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "firmware/console/console.h"
#include "firmware/host/hostwatch.h"
#include "firmware/host/timeline.h"
#include "firmware/keyboard/keyboard.h"
#include "firmware/keyboard/keyboard_cap.h"
#include "firmware/macro/macro_parse.h"
#include "firmware/macro/macro_run.h"
#include "firmware/macro/macro_store.h"
#include "firmware/media/media.h"
#include "firmware/media/media_cap.h"
#include "firmware/power/power.h"
#include "firmware/power/power_cap.h"

/* What key, type and reboot answer while a macro owns the keyboard. */
#define MACRO_BUSY "a macro is running (cmd/macro cancel stops it)"
/* A queued macro waits behind a key or type job: look again this often. */
#define MACRO_KB_RETRY_MS 100
#define MACRO_DIR_RETRY_MAX_MS 60000
/* The running macro's line and step are republished at most this often. */
#define MACRO_STATE_MS 250

struct macro_job {
	struct cmd_req *req;
	char name[MACRO_NAME_MAX + 1];
	struct macro_script s;
};

struct macros {
	const struct cap *c;
	struct loop *loop;
	/* The capabilities a macro drives (NULL: not there). */
	struct keyboard_cap *kb;
	struct hostwatch *host;
	struct media_cap *media;
	struct power_cap *power;
	struct timeline *timeline;
	bool console;
	const char *dir;
	int ino; /* inotify on the folder; -1 while it is missing */
	int dir_timer;
	uint32_t dir_retry_ms; /* grows while the folder stays away */
	char dir_error[CONFIG_PATH_MAX + 64];
	char names[MACRO_LIST_MAX][MACRO_NAME_MAX + 1];
	size_t n_names;

	struct macro_env env;
	struct macro_run run;
	int run_timer;
	int progress_timer;
	struct macro_job *cur;
	uint64_t cur_start_ms;
	struct macro_job *queue[MACRO_QUEUE_MAX];
	size_t nq;
	int next_timer;

	struct {
		bool set;
		char name[MACRO_NAME_MAX + 1];
		enum macro_status st;
		uint32_t line;
		char msg[MACRO_ERROR_MAX + 64];
	} last;
};

static const char *const macro_status_names[] = {
	[MACRO_OK] = "ok",
	[MACRO_ERROR] = "error",
	[MACRO_CANCELLED] = "cancelled",
};

static void macros_job_free(struct macro_job *job)
{
	if (!job)
		return;
	macro_script_free(&job->s);
	free(job);
}

/* Answer a job that never ran and free it. */
static void macros_job_refuse(struct macros *m, struct macro_job *job,
			      enum result_status st, uint32_t line,
			      const char *msg)
{
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "name", job->name);
	if (line)
		cJSON_AddNumberToObject(x, "line", line);
	cap_reply(m->c, job->req, st, msg, x);
	job->req = NULL;
	macros_job_free(job);
}

/* ---- the runner's world ---- */

static uint64_t macros_now(void *data)
{
	(void)data;
	return loop_now_ms();
}

static void macros_run_timer_cb(void *data)
{
	struct macros *m = data;

	m->run_timer = 0;
	macro_run_tick(&m->run);
}

static void macros_timer(void *data, uint64_t at_ms)
{
	struct macros *m = data;
	uint64_t now = loop_now_ms();

	if (!at_ms) {
		if (m->run_timer)
			loop_timer_cancel(m->loop, m->run_timer);
		m->run_timer = 0;
		return;
	}
	loop_timer_rearm(m->loop, &m->run_timer, at_ms > now ? at_ms - now : 0,
			 macros_run_timer_cb, m);
}

static void macros_kb_done(void *data, int err, const char *msg)
{
	struct macros *m = data;

	macro_run_kb_done(&m->run, err, msg);
}

static int macros_kb_run(void *data, struct typing_plan *plan)
{
	struct macros *m = data;

	/* Keys that HOLD keeps down stay down until RELEASE or the end of
	 * the macro, which releases everything. */
	return keyboard_run(keyboard_cap_device(m->kb), plan,
			    (uint32_t)MACRO_RUNTIME_MAX_MS, macros_kb_done, m);
}

static void macros_kb_cancel(void *data)
{
	struct macros *m = data;

	keyboard_cancel(keyboard_cap_device(m->kb));
}

static void macros_kb_release(void *data)
{
	struct macros *m = data;

	keyboard_release(keyboard_cap_device(m->kb));
}

static int macros_sysrq(void *data, struct typing_plan *plan)
{
	(void)data;
	return typing_plan_sysrq(plan);
}

static int macros_usb(void *data, enum udc_state *st, uint64_t *since_ms)
{
	struct macros *m = data;

	if (!m->host)
		return -ENODEV;
	*st = hostwatch_state(m->host);
	*since_ms = hostwatch_since_ms(m->host);
	return 0;
}

static uint8_t macros_leds(void *data)
{
	struct macros *m = data;

	return keyboard_leds(keyboard_cap_device(m->kb));
}

static int macros_media(void *data, const char *name, char *err, size_t len)
{
	struct macros *m = data;
	struct media_insert_req rq = {.mode = -1, .readonly = -1};
	struct media_done done;

	if (!name)
		return media_eject(media_cap_media(m->media), &done, err, len);
	rq.name = name;
	rq.len = strlen(name);
	return media_insert(media_cap_media(m->media), &rq, &done, err, len);
}

static void macros_reset_done(void *data, int err, const char *msg,
			      cJSON *extra)
{
	/* The press ends on its own; the macro goes on with its next line
	 * (usually a WAIT_USB) and does not wait for it. */
	(void)data;
	(void)err;
	(void)msg;
	cJSON_Delete(extra);
}

static int macros_hard_reset(void *data, char *err, size_t len)
{
	struct macros *m = data;

	struct power *p = power_cap_power(m->power);

	if (!power_wired(p, POWER_LINE_RESET)) {
		snprintf(err, len,
			 "the reset pin is not wired ([power] gpio_chip and "
			 "reset_line)");
		return -ENODEV;
	}
	return power_start(p, POWER_ACT_RESET, true, macros_reset_done, m, err,
			   len);
}

static int macros_phase(void *data)
{
	struct macros *m = data;

	return (int)timeline_phase(m->timeline);
}

static uint64_t macros_media_reads(void *data)
{
	struct macros *m = data;

	return timeline_media_reads(m->timeline);
}

static void macros_on_timeline(void *data)
{
	struct macros *m = data;

	macro_run_poke(&m->run);
}

static void macros_progress_cb(void *data)
{
	struct macros *m = data;

	m->progress_timer = 0;
	cap_state_dirty(m->c);
}

/* A macro of many quick lines must not flood the retained state. */
static void macros_progress(void *data)
{
	struct macros *m = data;

	if (!m->progress_timer)
		loop_timer_rearm(m->loop, &m->progress_timer, MACRO_STATE_MS,
				 macros_progress_cb, m);
}

static void macros_next_cb(void *data);

static void macros_done(void *data, enum macro_status st, uint32_t line,
			const char *msg)
{
	struct macros *m = data;
	struct macro_job *job = m->cur;
	cJSON *x = cJSON_CreateObject();
	static const enum result_status rs[] = {
		[MACRO_OK] = RESULT_OK,
		[MACRO_ERROR] = RESULT_ERROR,
		[MACRO_CANCELLED] = RESULT_CANCELLED,
	};

	m->cur = NULL;
	keyboard_cap_unclaim(m->kb);
	m->last.set = true;
	snprintf(m->last.name, sizeof(m->last.name), "%s", job->name);
	m->last.st = st;
	m->last.line = line;
	snprintf(m->last.msg, sizeof(m->last.msg), "%s",
		 st == MACRO_OK ? "" : msg);
	cJSON_AddStringToObject(x, "name", job->name);
	if (st != MACRO_OK)
		cJSON_AddNumberToObject(x, "line", line);
	cJSON_AddNumberToObject(x, "steps", (double)m->run.steps);
	cJSON_AddNumberToObject(x, "total", (double)job->s.runs);
	cJSON_AddNumberToObject(x, "ms",
				(double)(loop_now_ms() - m->cur_start_ms));
	cap_reply(m->c, job->req, rs[st], st == MACRO_OK ? NULL : msg, x);
	job->req = NULL;
	macros_job_free(job);
	if (m->nq)
		loop_timer_rearm(m->loop, &m->next_timer, 0, macros_next_cb, m);
	cap_state_dirty(m->c);
}

/* ---- starting ---- */

static void macros_start(struct macros *m, struct macro_job *job)
{
	struct macro_error err;
	int r;

	m->env = (struct macro_env){
		.data = m,
		.now_ms = macros_now,
		.timer = macros_timer,
		.kb_run = macros_kb_run,
		.kb_cancel = macros_kb_cancel,
		.kb_release = macros_kb_release,
		.sysrq_plan = macros_sysrq,
		.usb = m->host ? macros_usb : NULL,
		.leds = macros_leds,
		.has_console = m->console,
		.media = m->media ? macros_media : NULL,
		.hard_reset = m->power ? macros_hard_reset : NULL,
		.phase = m->timeline ? macros_phase : NULL,
		.media_reads =
			m->timeline && m->media ? macros_media_reads : NULL,
		.progress = macros_progress,
		.done = macros_done,
		.layout = keyboard_cap_layout(m->kb),
		.profile = keyboard_cap_profile(m->kb),
	};
	r = macro_run_start(&m->run, &m->env, &job->s, &err);
	if (r) {
		char msg[MACRO_ERROR_MAX + 32];

		macro_error_format(&err, msg, sizeof(msg));
		macros_job_refuse(m, job, RESULT_ERROR, err.line, msg);
		if (m->nq)
			loop_timer_rearm(m->loop, &m->next_timer, 0,
					 macros_next_cb, m);
		return;
	}
	m->cur = job;
	m->cur_start_ms = loop_now_ms();
	keyboard_cap_claim(m->kb, MACRO_BUSY);
	cap_state_dirty(m->c);
}

static void macros_next_cb(void *data)
{
	struct macros *m = data;
	struct macro_job *job;

	m->next_timer = 0;
	if (m->cur || !m->nq)
		return;
	if (keyboard_busy(keyboard_cap_device(m->kb)) ||
	    keyboard_cap_claimed(m->kb)) {
		/* A key or type job runs; the keyboard does not say when it
		 * ends to anyone but its command. */
		loop_timer_rearm(m->loop, &m->next_timer, MACRO_KB_RETRY_MS,
				 macros_next_cb, m);
		return;
	}
	job = m->queue[0];
	memmove(m->queue, m->queue + 1, --m->nq * sizeof(m->queue[0]));
	macros_start(m, job);
	cap_state_dirty(m->c);
}

/* ---- the folder ---- */

static void macros_relist(struct macros *m)
{
	char before[sizeof(m->names)];
	size_t n_before = m->n_names;
	int r;

	memcpy(before, m->names, sizeof(before));
	r = macro_store_list(m->dir, m->names, MACRO_LIST_MAX, &m->n_names);
	if (r) {
		m->n_names = 0;
		snprintf(m->dir_error, sizeof(m->dir_error), "%s: %s", m->dir,
			 strerror(-r));
	} else {
		m->dir_error[0] = '\0';
	}
	if (n_before != m->n_names || memcmp(before, m->names, sizeof(before)))
		cap_state_dirty(m->c);
}

static void macros_watch(struct macros *m);

static void macros_dir_cb(void *data)
{
	struct macros *m = data;

	m->dir_timer = 0;
	macros_watch(m);
}

static void macros_unwatch(struct macros *m)
{
	if (m->ino < 0)
		return;
	loop_fd_del(m->loop, m->ino);
	close(m->ino);
	m->ino = -1;
}

static void macros_on_inotify(int fd, short revents, void *data)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	struct macros *m = data;
	bool gone = false;
	ssize_t n;

	(void)revents;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
					IN_IGNORED | IN_UNMOUNT))
				gone = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (gone) {
		/* The folder went (or moved): look for one at the path. */
		macros_unwatch(m);
		loop_timer_rearm(m->loop, &m->dir_timer, MACRO_DIR_RETRY_MS,
				 macros_dir_cb, m);
	}
	macros_relist(m);
}

static void macros_watch(struct macros *m)
{
	int ino;

	if (m->ino >= 0 || !m->dir[0])
		return;
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino < 0 ||
	    inotify_add_watch(ino, m->dir,
			      IN_CREATE | IN_DELETE | IN_MOVED_FROM |
				      IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB |
				      IN_DELETE_SELF | IN_MOVE_SELF |
				      IN_ONLYDIR) < 0 ||
	    loop_fd_add(m->loop, ino, POLLIN, macros_on_inotify, m)) {
		char was[sizeof(m->dir_error)];

		memcpy(was, m->dir_error, sizeof(was));
		snprintf(m->dir_error, sizeof(m->dir_error), "%s: %s", m->dir,
			 strerror(errno));
		if (ino >= 0)
			close(ino);
		m->n_names = 0;
		/* Only a new reason is news; and a folder that stays away is
		 * looked for less and less often, so idle costs nothing. */
		if (strcmp(was, m->dir_error))
			cap_state_dirty(m->c);
		m->dir_retry_ms = m->dir_retry_ms ? m->dir_retry_ms * 2
						  : MACRO_DIR_RETRY_MS;
		if (m->dir_retry_ms > MACRO_DIR_RETRY_MAX_MS)
			m->dir_retry_ms = MACRO_DIR_RETRY_MAX_MS;
		loop_timer_rearm(m->loop, &m->dir_timer, m->dir_retry_ms,
				 macros_dir_cb, m);
		return;
	}
	m->ino = ino;
	m->dir_retry_ms = 0;
	macros_relist(m);
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
	for (size_t i = 0; i < m->n_names; i++)
		all[n++] = m->names[i];
	for (const struct macro_builtin *b = macro_builtins(); b->name; b++) {
		bool file = false;

		for (size_t i = 0; i < m->n_names && !file; i++)
			file = !strcmp(m->names[i], b->name);
		if (!file && n < sizeof(all) / sizeof(all[0]))
			all[n++] = b->name;
	}
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
