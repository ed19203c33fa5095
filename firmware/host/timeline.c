#include "firmware/host/timeline.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/time.h>
#include <unistd.h>

#include "firmware/agent/cap.h"
#include "firmware/console/console.h"
#include "firmware/core/inotify_drain.h"
#include "firmware/core/listeners.h"
#include "firmware/host/hostwatch.h"
#include "firmware/keyboard/keyboard_cap.h"
#include "firmware/media/media_cap.h"
#include "firmware/power/power.h"
#include "firmware/power/power_cap.h"
#include "gadget/hid_report.h"
#include "gadget/lun.h"
#include "topics/json.h"

#define TIMELINE_LISTENERS 4

struct timeline {
	const struct cap *c;
	struct phase_ctx phase;

	/* history ring */
	char *hist[TIMELINE_HISTORY];
	int hist_head, hist_n;

	/* rate limit: a token bucket, refilled per second */
	double tokens;
	uint64_t refill_ms;
	uint64_t suppressed;
	int suppressed_timer;

	/* console: first line after silence */
	uint64_t console_last_ms;

	/* media reads */
	int ino;
	int wd;
	char backing[PATH_MAX];
	bool burst;
	uint64_t burst_start_ms, burst_reads, reads;
	int burst_timer;

	uint8_t leds;
	bool kb_dead;

	struct listeners l;
};

static uint64_t timeline_unix_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void timeline_notify(struct timeline *t)
{
	for (int i = 0; i < t->l.n; i++)
		((timeline_listener_fn)t->l.l[i].fn)(t->l.l[i].data);
}

static void timeline_keep(struct timeline *t, char *json)
{
	int slot = (t->hist_head + t->hist_n) % TIMELINE_HISTORY;

	if (t->hist_n == TIMELINE_HISTORY) {
		free(t->hist[t->hist_head]);
		t->hist[t->hist_head] = NULL;
		t->hist_head = (t->hist_head + 1) % TIMELINE_HISTORY;
		t->hist_n--;
		slot = (t->hist_head + t->hist_n) % TIMELINE_HISTORY;
	}
	t->hist[slot] = json;
	t->hist_n++;
}

static bool timeline_take_token(struct timeline *t)
{
	const struct config *c = t->c->cfg;
	uint64_t now = loop_now_ms();
	double rate = c->timeline.events_per_s;

	t->tokens += (double)(now - t->refill_ms) * rate / 1000.0;
	if (t->tokens > rate * 3)
		t->tokens = rate * 3; /* a burst of three seconds' worth */
	t->refill_ms = now;
	if (t->tokens < 1.0)
		return false;
	t->tokens -= 1.0;
	return true;
}

static void timeline_emit(struct timeline *t, const char *source,
			  const char *what, cJSON *extra);
static void timeline_detach(void *self);

static void timeline_suppressed_cb(void *data)
{
	struct timeline *t = data;
	cJSON *x;

	t->suppressed_timer = 0;
	if (!t->suppressed)
		return;
	x = cJSON_CreateObject();
	cJSON_AddNumberToObject(x, "count", (double)t->suppressed);
	t->suppressed = 0;
	timeline_emit(t, "agent", "rate-limited", x);
}

/* Publish (if the rate allows) and keep one event; extra is consumed. */
static void timeline_emit(struct timeline *t, const char *source,
			  const char *what, cJSON *extra)
{
	cJSON *o = cJSON_CreateObject();
	char *json;

	cJSON_AddNumberToObject(o, "t", (double)timeline_unix_ms());
	cJSON_AddStringToObject(o, "source", source);
	cJSON_AddStringToObject(o, "what", what);
	json_merge(o, extra);
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!json)
		return;
	if (timeline_take_token(t)) {
		/* Through the outbox: during a flood Paho's queue can be
		 * full for a while (its 1 s stall when the broker's receive
		 * window fills), and the summary must still arrive. */
		cap_publish_event(t->c, t->c->topics->pub[TOPIC_EVENT], json,
				  strlen(json));
	} else {
		/* Kept in the history, summarised on the topic later. */
		t->suppressed++;
		if (!t->suppressed_timer)
			loop_timer_rearm(t->c->loop, &t->suppressed_timer, 1000,
					 timeline_suppressed_cb, t);
	}
	timeline_keep(t, json);
}

static void timeline_feed(struct timeline *t, enum phase_signal sig,
			  enum udc_state usb)
{
	enum phase before = t->phase.phase;

	if (!phase_feed(&t->phase, sig, usb, loop_now_ms()))
		return;
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "from", phase_name(before));
	cJSON_AddStringToObject(x, "to", phase_name(t->phase.phase));
	cJSON_AddStringToObject(x, "evidence", t->phase.evidence);
	timeline_emit(t, "agent", "phase", x);
	cap_state_dirty(t->c);
	timeline_notify(t);
}

/* ---- sources ---- */

static void timeline_on_usb(void *data, enum udc_state old, enum udc_state now)
{
	struct timeline *t = data;
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "from", udc_state_name(old));
	cJSON_AddStringToObject(x, "to", udc_state_name(now));
	timeline_emit(t, "usb", "state", x);
	timeline_feed(t, PHASE_SIG_USB, now);
}

static void timeline_on_leds(void *data, uint8_t leds)
{
	struct timeline *t = data;
	cJSON *x;

	if (leds == t->leds)
		return;
	t->leds = leds;
	x = cJSON_CreateObject();
	cJSON_AddBoolToObject(x, "num", leds & HID_LED_NUM);
	cJSON_AddBoolToObject(x, "caps", leds & HID_LED_CAPS);
	cJSON_AddBoolToObject(x, "scroll", leds & HID_LED_SCROLL);
	timeline_emit(t, "led", "leds", x);
	timeline_feed(t, PHASE_SIG_LED, UDC_STATE_UNKNOWN);
}

static void timeline_on_kb_host(void *data, bool taking)
{
	struct timeline *t = data;

	if (taking == !t->kb_dead)
		return;
	t->kb_dead = !taking;
	timeline_emit(t, "usb",
		      taking ? "keyboard-polled" : "keyboard-not-polled", NULL);
	if (!taking)
		timeline_feed(t, PHASE_SIG_KB_DEAD, UDC_STATE_UNKNOWN);
}

void timeline_command(struct timeline *t, const char *cmd, const char *status)
{
	cJSON *x;

	if (!t)
		return;
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "cmd", cmd);
	cJSON_AddStringToObject(x, "status", status);
	timeline_emit(t, "agent", "command", x);
}

static void timeline_on_console(void *data, const char *line, size_t len)
{
	struct timeline *t = data;
	uint64_t now = loop_now_ms();
	uint64_t quiet = t->c->cfg->timeline.console_quiet_ms;

	if (!t->console_last_ms || now - t->console_last_ms >= quiet) {
		cJSON *x = cJSON_CreateObject();
		char first[256];
		size_t n = len < sizeof(first) - 1 ? len : sizeof(first) - 1;

		/* Cut at a character boundary. */
		while (n > 0 && n < len &&
		       ((unsigned char)line[n] & 0xc0) == 0x80)
			n--;
		memcpy(first, line, n);
		first[n] = '\0';
		cJSON_AddStringToObject(x, "line", first);
		timeline_emit(t, "console", "first-line", x);
	}
	t->console_last_ms = now;
	timeline_feed(t, PHASE_SIG_CONSOLE, UDC_STATE_UNKNOWN);
}

static void timeline_burst_end_cb(void *data)
{
	struct timeline *t = data;
	cJSON *x = cJSON_CreateObject();

	t->burst_timer = 0;
	t->burst = false;
	cJSON_AddNumberToObject(x, "reads", (double)t->burst_reads);
	cJSON_AddNumberToObject(x, "ms",
				(double)(loop_now_ms() - t->burst_start_ms));
	timeline_emit(t, "media", "read-end", x);
}

static void timeline_on_access_event(void *data, const struct inotify_event *ev)
{
	if (ev->mask & IN_ACCESS)
		++*(uint64_t *)data;
}

static void timeline_on_access(int fd, short revents, void *data)
{
	struct timeline *t = data;
	uint64_t n = 0;

	inotify_drain(fd, timeline_on_access_event, &n);
	if (!n)
		return;
	t->reads += n;
	if (!t->burst) {
		cJSON *x = cJSON_CreateObject();
		const char *slash = strrchr(t->backing, '/');

		t->burst = true;
		t->burst_start_ms = loop_now_ms();
		t->burst_reads = 0;
		cJSON_AddStringToObject(x, "image",
					slash ? slash + 1 : t->backing);
		timeline_emit(t, "media", "read-start", x);
		timeline_feed(t, PHASE_SIG_MEDIA_READ, UDC_STATE_UNKNOWN);
	}
	t->burst_reads += n;
	loop_timer_rearm(t->c->loop, &t->burst_timer,
			 t->c->cfg->timeline.media_burst_gap_ms,
			 timeline_burst_end_cb, t);
	timeline_notify(t);
}

/* The agent pressed reset or power-cycled: the firmware comes next. */
static void timeline_on_restart(void *data)
{
	struct timeline *t = data;

	timeline_feed(t, PHASE_SIG_RESTART, UDC_STATE_UNKNOWN);
}

/* The medium may have changed: watch the LUN's backing file anew. */
static void timeline_on_media(void *data)
{
	struct timeline *t = data;
	char file[PATH_MAX];

	if (t->ino < 0 || !t->c->cfg->media.lun[0])
		return;
	if (lun_attr_read(t->c->cfg->media.lun, "file", file, sizeof(file)))
		return;
	if (!strcmp(file, t->backing))
		return;
	if (t->wd >= 0)
		inotify_rm_watch(t->ino, t->wd);
	t->wd = -1;
	snprintf(t->backing, sizeof(t->backing), "%s", file);
	if (file[0])
		t->wd = inotify_add_watch(t->ino, file, IN_ACCESS);
}

/* ---- state, history, listeners ---- */

static cJSON *timeline_state_json(void *data)
{
	struct timeline *t = data;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "phase", phase_name(t->phase.phase));
	cJSON_AddStringToObject(o, "evidence", t->phase.evidence);
	cJSON_AddNumberToObject(
		o, "since_s",
		(double)((loop_now_ms() - t->phase.since_ms) / 1000));
	cJSON_AddNumberToObject(o, "media_reads", (double)t->reads);
	return o;
}

enum phase timeline_phase(const struct timeline *t)
{
	return t ? t->phase.phase : PHASE_UNKNOWN;
}

uint64_t timeline_media_reads(const struct timeline *t)
{
	return t ? t->reads : 0;
}

cJSON *timeline_history(const struct timeline *t, int n)
{
	cJSON *arr = cJSON_CreateArray();

	if (!t || !arr)
		return arr;
	if (n > t->hist_n)
		n = t->hist_n;
	for (int i = t->hist_n - n; i < t->hist_n; i++) {
		cJSON *ev = cJSON_Parse(
			t->hist[(t->hist_head + i) % TIMELINE_HISTORY]);

		if (ev)
			cJSON_AddItemToArray(arr, ev);
	}
	return arr;
}

int timeline_listen(struct timeline *t, timeline_listener_fn fn, void *data)
{
	if (!t)
		return -ENODEV;
	return listeners_add(&t->l, TIMELINE_LISTENERS, (listener_fn)fn, data);
}

static const struct keyboard_listener timeline_kb_listener = {
	.leds = timeline_on_leds,
	.host = timeline_on_kb_host,
};

static int timeline_attach(const struct cap *c, void **self, char *msg,
			   size_t len)
{
	struct phase_tuning tune = {
		.reenum_min_ms = (uint32_t)c->cfg->timeline.reenum_min_ms,
	};
	struct timeline *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->c = c;
	t->wd = -1;
	t->refill_ms = loop_now_ms();
	t->tokens = c->cfg->timeline.events_per_s * 3;
	phase_init(&t->phase, &tune, loop_now_ms());
	t->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->ino >= 0 &&
	    loop_fd_add(c->loop, t->ino, POLLIN, timeline_on_access, t)) {
		close(t->ino);
		t->ino = -1;
	}
	r = state_provider_add(c->state, "phase", timeline_state_json, t);
	if (r) {
		timeline_detach(t);
		return r;
	}
	*self = t;
	if (c->h->host) {
		hostwatch_listen(c->h->host, timeline_on_usb, t);
		/* The state at start is the first evidence. */
		phase_feed(&t->phase, PHASE_SIG_USB,
			   hostwatch_state(c->h->host), loop_now_ms());
	}
	if (c->h->console)
		console_listen(c->h->console, timeline_on_console, t);
	if (c->h->keyboard)
		keyboard_cap_listen(c->h->keyboard, &timeline_kb_listener, t);
	if (c->h->media)
		media_listen(c->h->media, timeline_on_media, t);
	if (power_cap_power(c->h->power))
		power_listen_restart(power_cap_power(c->h->power),
				     timeline_on_restart, t);
	timeline_on_media(t);
	timeline_emit(t, "agent", "start", NULL);
	return 0;
}

static void timeline_detach(void *self)
{
	struct timeline *t = self;

	if (!t)
		return;
	if (t->burst_timer)
		loop_timer_cancel(t->c->loop, t->burst_timer);
	if (t->suppressed_timer)
		loop_timer_cancel(t->c->loop, t->suppressed_timer);
	if (t->ino >= 0) {
		loop_fd_del(t->c->loop, t->ino);
		close(t->ino);
	}
	for (int i = 0; i < t->hist_n; i++)
		free(t->hist[(t->hist_head + i) % TIMELINE_HISTORY]);
	free(t);
}

const struct cap_def timeline_cap = {
	.name = "timeline",
	.attach = timeline_attach,
	.detach = timeline_detach,
	.handle_offset = offsetof(struct cap_handles, timeline),
};
