/* The console capability: the device, its lines to the broker, its life. */
#include "firmware/console/console_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "firmware/core/backoff.h"
#include "firmware/host/hostwatch.h"

static void console_pump(struct console *c);
static void console_try_open(struct console *c);
static void console_arm_idle(struct console *c);

/* ---- state ---- */

static cJSON *console_state_json(void *data)
{
	struct console *c = data;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "device", c->cfg->console.device);
	cJSON_AddBoolToObject(o, "open", c->fd >= 0);
	cJSON_AddNumberToObject(o, "lines", (double)c->nlines);
	cJSON_AddNumberToObject(o, "lost", (double)c->lost);
	cJSON_AddStringToObject(o, "last", c->last);
	cJSON_AddNumberToObject(o, "ring_bytes", (double)c->ring.used);
	cJSON_AddNumberToObject(o, "ring_capacity", (double)c->ring.cap);
	if (c->fd < 0 && c->error[0])
		cJSON_AddStringToObject(o, "error", c->error);
	return o;
}

static void console_state_cb(void *data)
{
	struct console *c = data;

	c->state_timer = 0;
	cap_state_dirty(c->cap);
}

/* Lines flow: say so, but not for every line of a flood. */
static void console_state_soon(struct console *c)
{
	if (!c->state_timer)
		loop_timer_rearm(c->loop, &c->state_timer, CONSOLE_STATE_MS,
				 console_state_cb, c);
}

/* ---- the device's poll events ---- */

static void console_events(struct console *c)
{
	short ev = 0;

	if (c->fd < 0)
		return;
	if (!c->paused)
		ev |= POLLIN;
	if (console_out_pending(&c->out))
		ev |= POLLOUT;
	loop_fd_events(c->loop, c->fd, ev);
}

/* Pause reading while the ring is full and the broker slow, see above. */
static void console_flow(struct console *c, bool offline)
{
	bool pause;

	if (offline || !cap_online(c->cap))
		pause = false;
	else if (c->paused)
		pause = c->ring.used > CONSOLE_PAUSE_LOW(c->ring.cap);
	else
		pause = c->ring.used > CONSOLE_PAUSE_HIGH(c->ring.cap);
	if (pause != c->paused) {
		c->paused = pause;
		console_events(c);
		/* Time spent not reading is not the host being idle. */
		if (pause && c->idle_timer) {
			loop_timer_cancel(c->loop, c->idle_timer);
			c->idle_timer = 0;
		} else if (!pause) {
			console_arm_idle(c);
		}
	}
}

/* ---- output: lines to the broker ---- */

static void console_pump_cb(void *data)
{
	struct console *c = data;

	c->pump_timer = 0;
	console_pump(c);
}

static void console_acked(void *data, uint64_t tag, bool ok)
{
	struct console *c = data;

	if (tag == CONSOLE_MARKER_TAG) {
		if (ok)
			c->lost_pending -= c->marker_out < c->lost_pending
						   ? c->marker_out
						   : c->lost_pending;
		c->marker_out = 0;
		if (!ok)
			return; /* sent again with the next line or session */
	} else if (ok) {
		console_ring_acked(&c->ring, tag);
	}
	/* Not confirmed (the session is failing): the line stays, and goes
	 * again after the reconnect unless a later one's confirmation
	 * takes it first. */
	console_pump(c);
}

/*
 * Publish the marker of lost lines, then the ring's lines not yet sent,
 * oldest first, until Paho pushes back (try again soon), enough wait for
 * acknowledgement (console_acked pumps again) or the session is down
 * (the online callback starts again).
 */
static void console_pump(struct console *c)
{
	bool offline = false;

	for (;;) {
		bool marker = c->lost_pending && !c->marker_out;
		uint64_t tag = CONSOLE_MARKER_TAG;
		ssize_t n;
		int r;

		if (marker)
			n = snprintf(c->pub, sizeof(c->pub),
				     "[zerobmc: %llu lines lost]",
				     (unsigned long long)c->lost_pending);
		else if (c->ring.sent < CONSOLE_INFLIGHT_MAX)
			n = console_ring_next(&c->ring, c->pub, sizeof(c->pub),
					      &tag);
		else
			break;
		if (n < 0)
			break;
		r = cap_publish_tracked(
			c->cap, c->cap->topics->pub[TOPIC_CONSOLE], c->pub,
			(size_t)n, console_acked, c, tag);
		if (r == -EAGAIN) {
			if (!c->pump_timer)
				loop_timer_rearm(c->loop, &c->pump_timer,
						 CONSOLE_RETRY_MS,
						 console_pump_cb, c);
			break;
		}
		if (r == -ENOTCONN) {
			offline = true;
			break;
		}
		if (marker) {
			c->marker_out = r ? 0 : c->lost_pending;
			if (r)
				break; /* tried again on the next pump */
		} else if (r) {
			/* Paho refuses this line for good. */
			c->lost++;
			console_ring_mark_sent(&c->ring);
			console_ring_acked(&c->ring, tag);
			console_state_soon(c);
		} else {
			console_ring_mark_sent(&c->ring);
		}
	}
	if (c->ring.count > c->ring.sent) {
		c->backlog = true;
	} else if (c->backlog) {
		/* The ring is empty again: say so once Paho has room, as
		 * a state published in the flood may have found none. */
		c->backlog = false;
		console_state_soon(c);
	}
	console_flow(c, offline);
}

static void console_on_line(void *data, const char *line, size_t len)
{
	struct console *c = data;
	char last[CONSOLE_LAST_MAX];
	size_t dropped = 0, n;

	c->nlines++;
	console_history_add(&c->hist, line, len);
	for (int i = 0; i < c->listeners.n; i++)
		((console_listener_fn)c->listeners.l[i].fn)(
			c->listeners.l[i].data, line, len);
	/* A blank line would blank the sensor: keep the last one with
	 * something on it. */
	n = console_last_text(line, len, c->cfg->console.strip_ansi, last);
	if (strspn(last, " ") < n)
		memcpy(c->last, last, n + 1);
	console_state_soon(c);
	/* Every line waits in the ring until the broker has it. */
	if (console_ring_push(&c->ring, line, len, &dropped)) {
		dropped++; /* larger than the whole ring */
	}
	c->lost += dropped;
	c->lost_pending += dropped;
	console_pump(c);
}

/*
 * The byte stream as read, for interactive clients that need echo,
 * prompts and cursor movement as they are. Best effort: published before
 * the chunk's lines so that it rarely finds Paho's queue full, and never
 * kept when it does (the lines are the complete record).
 */
static void console_raw(struct console *c, const char *buf, size_t n)
{
	if (c->cfg->console.raw_topic)
		cap_publish(c->cap, c->raw_topic, buf, n, 0, false);
}

/* ---- the device ---- */

static void console_idle_cb(void *data)
{
	struct console *c = data;

	c->idle_timer = 0;
	console_lines_flush(&c->lines);
	console_pump(c);
}

/* A partial line goes out when the host has been quiet for a while. */
static void console_arm_idle(struct console *c)
{
	if (!console_lines_pending(&c->lines) || c->fd < 0 || c->paused) {
		if (c->idle_timer)
			loop_timer_cancel(c->loop, c->idle_timer);
		c->idle_timer = 0;
		return;
	}
	if (c->cfg->console.idle_flush_ms == 0) {
		console_idle_cb(c);
		return;
	}
	loop_timer_rearm(c->loop, &c->idle_timer,
			 (uint64_t)c->cfg->console.idle_flush_ms,
			 console_idle_cb, c);
}

static void console_reopen_cb(void *data)
{
	struct console *c = data;

	c->reopen_timer = 0;
	console_try_open(c);
}

/*
 * When to open again: a host that is known to be away brings the device
 * back when it is configured (the hostwatch calls); otherwise by time.
 */
static void console_schedule_reopen(struct console *c)
{
	enum udc_state st = c->cap->h->host ? hostwatch_state(c->cap->h->host)
					    : UDC_STATE_UNKNOWN;

	if (st != UDC_STATE_CONFIGURED && st != UDC_STATE_UNKNOWN)
		return;
	/* Doubling up to a cap: a device that stays away costs no idle CPU. */
	loop_timer_rearm(c->loop, &c->reopen_timer,
			 backoff_next(&c->reopen_ms, CONSOLE_REOPEN_MS,
				      CONSOLE_REOPEN_MAX_MS),
			 console_reopen_cb, c);
}

static void console_close(struct console *c)
{
	loop_fd_del(c->loop, c->fd);
	/* Pending output would make close() wait for the host to drain it
	 * (up to 15 s on u_serial): drop it first. */
	if (isatty(c->fd))
		tcflush(c->fd, TCIOFLUSH);
	close(c->fd);
	c->fd = -1;
	c->paused = false;
	if (c->idle_timer) {
		loop_timer_cancel(c->loop, c->idle_timer);
		c->idle_timer = 0;
	}
}

/* The host went away (end of file, EIO, hang-up): close and wait. */
static void console_gone(struct console *c, int err)
{
	snprintf(c->error, sizeof(c->error), "%s: %s", c->cfg->console.device,
		 err ? strerror(-err) : "end of file (the host detached)");
	console_lines_flush(&c->lines);
	console_lines_reset(&c->lines);
	console_close(c);
	console_out_fail_all(&c->out, err ? err : -EPIPE);
	console_schedule_reopen(c);
	cap_state_dirty(c->cap);
	console_pump(c);
}

/*
 * How much to read now. While the broker is there, no more than the ring
 * can hold even if every byte ended a line (a record is 4 bytes more than
 * its line, a repaired byte 3): a burst waits in the device rather than
 * pushing out lines. Not paused means a quarter of the ring is free.
 */
static size_t console_read_size(const struct console *c)
{
	size_t room = (c->ring.cap - c->ring.used) / 4;

	if (!cap_online(c->cap) || room > CONSOLE_READ_SIZE)
		return CONSOLE_READ_SIZE;
	return room ? room : 1;
}

static void console_read(struct console *c)
{
	char buf[CONSOLE_READ_SIZE];

	for (int i = 0; i < CONSOLE_READS_MAX && !c->paused; i++) {
		ssize_t n = read(c->fd, buf, console_read_size(c));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			console_gone(c, n < 0 ? -errno : 0);
			return;
		}
		console_raw(c, buf, (size_t)n);
		console_lines_feed(&c->lines, buf, (size_t)n);
		console_pump(c);
	}
	console_arm_idle(c);
}

/* ---- input: cmd/console bytes to the device ---- */

static void console_deadline_cb(void *data);

static void console_arm_deadline(struct console *c)
{
	uint64_t due = console_out_deadline(&c->out);
	uint64_t now = loop_now_ms();

	if (!due) {
		if (c->deadline_timer)
			loop_timer_cancel(c->loop, c->deadline_timer);
		c->deadline_timer = 0;
		return;
	}
	loop_timer_rearm(c->loop, &c->deadline_timer, due > now ? due - now : 0,
			 console_deadline_cb, c);
}

void console_write(struct console *c)
{
	int r;

	if (c->fd < 0)
		return;
	r = console_out_write(&c->out, c->fd);
	if (r && r != -EAGAIN) {
		console_gone(c, r);
		return;
	}
	console_events(c);
	console_arm_deadline(c);
}

static void console_deadline_cb(void *data)
{
	struct console *c = data;

	c->deadline_timer = 0;
	console_out_expire(&c->out, loop_now_ms());
	console_events(c);
	console_arm_deadline(c);
}

static void console_on_fd(int fd, short revents, void *data)
{
	struct console *c = data;

	if (revents & POLLOUT)
		console_write(c);
	if (c->fd >= 0 && (revents & (POLLIN | POLLHUP | POLLERR)))
		console_read(c);
}

static void console_try_open(struct console *c)
{
	const char *dev = c->cfg->console.device;
	int fd, r;

	if (c->fd >= 0)
		return;
	fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		char was[sizeof(c->error)];

		memcpy(was, c->error, sizeof(was));
		snprintf(c->error, sizeof(c->error), "%s: %s", dev,
			 strerror(errno));
		console_schedule_reopen(c);
		/* Only a new reason is news for the state. */
		if (strcmp(was, c->error))
			cap_state_dirty(c->cap);
		return;
	}
	if (isatty(fd)) {
		struct termios t;

		/* u_serial starts cooked at 9600 8N1: echo and CR/LF
		 * translation would garble both directions. */
		if (tcgetattr(fd, &t) == 0) {
			cfmakeraw(&t);
			t.c_cc[VMIN] = 1;
			t.c_cc[VTIME] = 0;
			tcsetattr(fd, TCSANOW, &t);
		}
	}
	r = loop_fd_add(c->loop, fd, POLLIN, console_on_fd, c);
	if (r) {
		close(fd);
		snprintf(c->error, sizeof(c->error), "%s: %s", dev,
			 strerror(-r));
		console_schedule_reopen(c);
		return;
	}
	c->fd = fd;
	c->error[0] = '\0';
	c->reopen_ms = 0;
	if (c->reopen_timer) {
		loop_timer_cancel(c->loop, c->reopen_timer);
		c->reopen_timer = 0;
	}
	console_events(c);
	cap_state_dirty(c->cap);
}

static void console_on_host(void *data, enum udc_state old, enum udc_state now)
{
	struct console *c = data;

	if (now == UDC_STATE_CONFIGURED)
		console_try_open(c);
}

/* ---- life cycle ---- */

/* The broker session is up: publish what waits, in order, again from
 * the oldest line the last session did not confirm. */
static void console_on_online(void *self)
{
	struct console *c = self;

	console_ring_rewind(&c->ring);
	c->marker_out = 0;
	console_pump(c);
}

int console_listen(struct console *c, console_listener_fn fn, void *data)
{
	return listeners_add(&c->listeners, CONSOLE_LISTENERS, (listener_fn)fn,
			     data);
}

static void console_detach(void *self);

static int console_attach(const struct cap *cap, void **self, char *msg,
			  size_t len)
{
	const struct config *cfg = cap->cfg;
	size_t ring = cfg->console.ring_bytes;
	struct console *c;
	int r;

	/* "device =" (empty): a board without a console. */
	if (!cfg->console.device[0])
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cap = cap;
	c->loop = cap->loop;
	c->cfg = cfg;
	c->fd = -1;
	/* The ring holds at least one line of the longest kind. */
	if (ring < CONSOLE_RING_RECORD(CONSOLE_LINE_OUT_MAX))
		ring = CONSOLE_RING_RECORD(CONSOLE_LINE_OUT_MAX);
	snprintf(c->raw_topic, sizeof(c->raw_topic), "%s/console/raw",
		 cap->topics->base);
	console_lines_init(&c->lines, console_on_line, c);
	console_out_init(&c->out, console_out_done, c);
	r = console_ring_init(&c->ring, ring);
	if (r)
		goto fail;
	r = console_history_init(&c->hist, (size_t)cfg->console.history_lines);
	if (r)
		goto fail;
	r = state_provider_add(cap->state, "console", console_state_json, c);
	if (r)
		goto fail;
	if (cap->h->host)
		hostwatch_listen(cap->h->host, console_on_host, c);
	*self = c;
	console_try_open(c);
	return 0;
fail:
	console_detach(c);
	return r;
}

/* Writes that wait for the host are answered: the agent stops. */
static void console_stop(void *self)
{
	struct console *c = self;

	console_out_fail_all(&c->out, -ECANCELED);
}

static void console_detach(void *self)
{
	struct console *c = self;

	if (!c)
		return;
	console_out_fail_all(&c->out, -ECANCELED);
	if (c->fd >= 0)
		console_close(c);
	if (c->pump_timer)
		loop_timer_cancel(c->loop, c->pump_timer);
	if (c->reopen_timer)
		loop_timer_cancel(c->loop, c->reopen_timer);
	if (c->deadline_timer)
		loop_timer_cancel(c->loop, c->deadline_timer);
	if (c->state_timer)
		loop_timer_cancel(c->loop, c->state_timer);
	console_ring_free(&c->ring);
	console_history_free(&c->hist);
	free(c);
}

static const struct cap_command console_commands[] = {
	{"console", console_cmd, "write to the serial console"},
	{NULL, NULL, NULL},
};

const struct cap_def console_cap = {
	.name = "console",
	.attach = console_attach,
	.stop = console_stop,
	.detach = console_detach,
	.online = console_on_online,
	.commands = console_commands,
	.absent = "the console is off ([console] device is empty)",
	.handle_offset = offsetof(struct cap_handles, console),
};
