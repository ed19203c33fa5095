/*
 * The power module: pin presses as timed step lists, USB remote wakeup
 * and Wake-on-LAN, the power LED and the inferred state. See power.h.
 */
#include "firmware/core/listeners.h"
#include "firmware/power/power.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POWER_STEPS_MAX 8

struct power_step {
	int line; /* enum power_line, or -1 for a pause */
	bool active;
	uint32_t then_ms; /* wait before the next step */
};

struct power {
	struct loop *loop;
	power_changed_fn changed;
	void *data;

	const struct power_gpio_ops *ops;
	void *gpio;
	char gpio_error[320];
	bool configured[POWER_LINE_COUNT]; /* named in the configuration */
	bool wired[POWER_LINE_COUNT];	   /* claimed */
	uint32_t short_ms, long_ms, cycle_wait_ms, wake_wait_ms;

	bool wol;
	uint8_t mac[6];
	struct sockaddr_in wol_to;
	int wol_fd;
	char srp_path[PATH_MAX];

	enum udc_state usb;

	int led_fd;
	enum power_led led;
	uint64_t edges[POWER_BLINK_EDGES]; /* ms of the last LED edges */
	int n_edges;
	int blink_timer;

	struct listeners restart;

	/* The running action. */
	bool busy;
	enum power_action act;
	struct power_step steps[POWER_STEPS_MAX];
	int n_steps, next;
	int timer;
	bool wake_waiting;
	power_done_fn done;
	void *done_data;
	cJSON *extra;
	char msg[320];
};

static const char *const action_names[POWER_ACT_COUNT] = {
	"on", "off", "force_off", "reset", "cycle", "wake"};

int power_action_parse(const char *s, enum power_action *act)
{
	for (int i = 0; i < POWER_ACT_COUNT; i++)
		if (s && !strcmp(s, action_names[i])) {
			*act = (enum power_action)i;
			return 0;
		}
	return -EINVAL;
}

/* ---- the state ---- */

static void power_changed(struct power *p)
{
	if (p->changed)
		p->changed(p->data);
}

void power_status(const struct power *p, struct power_status *out)
{
	power_status_from(p->wired[POWER_LINE_LED] ? p->led : POWER_LED_UNKNOWN,
			  p->usb, out);
}

static enum power_led power_led_eval(struct power *p)
{
	uint64_t now = loop_now_ms();
	bool lit = false;

	if (p->n_edges >= POWER_BLINK_EDGES &&
	    now - p->edges[(p->n_edges - POWER_BLINK_EDGES) %
			   POWER_BLINK_EDGES] <=
		    POWER_BLINK_WINDOW_MS)
		return POWER_LED_BLINKING;
	if (p->ops->get(p->gpio, POWER_LINE_LED, &lit))
		return POWER_LED_UNKNOWN;
	return lit ? POWER_LED_LIT : POWER_LED_OFF;
}

static void power_led_update(struct power *p)
{
	enum power_led led = power_led_eval(p);

	if (led != p->led) {
		p->led = led;
		power_changed(p);
	}
}

static void power_on_blink_timer(void *data)
{
	struct power *p = data;

	p->blink_timer = 0;
	power_led_update(p);
}

static void power_on_led(int fd, short revents, void *data)
{
	struct power *p = data;

	p->ops->event_drain(p->gpio);
	p->edges[p->n_edges % POWER_BLINK_EDGES] = loop_now_ms();
	p->n_edges++;
	/* Blinking ends when the edges stop: look again after the window. */
	loop_timer_rearm(p->loop, &p->blink_timer, POWER_BLINK_WINDOW_MS + 1,
			 power_on_blink_timer, p);
	power_led_update(p);
}

static cJSON *power_wired_json(const struct power *p)
{
	cJSON *w = cJSON_CreateObject();

	cJSON_AddBoolToObject(w, "power", p->wired[POWER_LINE_POWER]);
	cJSON_AddBoolToObject(w, "reset", p->wired[POWER_LINE_RESET]);
	cJSON_AddBoolToObject(w, "led", p->wired[POWER_LINE_LED]);
	return w;
}

cJSON *power_state_json(void *power)
{
	struct power *p = power;
	struct power_status st;
	cJSON *o = cJSON_CreateObject();

	power_status(p, &st);
	cJSON_AddStringToObject(o, "state", power_state_name(st.state));
	cJSON_AddStringToObject(o, "source", power_source_name(st.source));
	cJSON_AddBoolToObject(o, "inferred", st.inferred);
	cJSON_AddStringToObject(o, "detail", st.detail);
	cJSON_AddStringToObject(o, "usb", udc_state_name(p->usb));
	if (p->wired[POWER_LINE_LED])
		cJSON_AddStringToObject(o, "led", power_led_name(p->led));
	cJSON_AddItemToObject(o, "wired", power_wired_json(p));
	if (p->gpio_error[0])
		cJSON_AddStringToObject(o, "error", p->gpio_error);
	cJSON_AddBoolToObject(o, "wol", p->wol);
	cJSON_AddBoolToObject(o, "usb_wake", p->srp_path[0] != '\0');
	if (p->busy)
		cJSON_AddStringToObject(o, "busy", action_names[p->act]);
	else
		cJSON_AddBoolToObject(o, "busy", false);
	return o;
}

/* ---- running an action ---- */

static void power_all_inactive(struct power *p)
{
	for (int i = 0; i < POWER_LINE_LED; i++)
		if (p->wired[i])
			p->ops->set(p->gpio, (enum power_line)i, false);
}

static void power_finish(struct power *p, int err, const char *msg)
{
	power_done_fn done = p->done;
	void *data = p->done_data;
	cJSON *extra = p->extra;

	if (p->timer) {
		loop_timer_cancel(p->loop, p->timer);
		p->timer = 0;
	}
	p->busy = false;
	p->wake_waiting = false;
	p->done = NULL;
	p->done_data = NULL;
	p->extra = NULL;
	power_changed(p);
	if (done)
		done(data, err, msg, extra);
	else
		cJSON_Delete(extra);
}

static void power_on_timer(void *data);

/* Run steps until one waits: 0, 1 when all ran, or -errno with p->msg. */
static int power_run(struct power *p)
{
	while (p->next < p->n_steps) {
		struct power_step *s = &p->steps[p->next++];

		if (s->line >= 0) {
			int r = p->ops->set(p->gpio, (enum power_line)s->line,
					    s->active);

			if (r) {
				power_all_inactive(p);
				snprintf(p->msg, sizeof(p->msg),
					 "setting the %s line %s failed: %s",
					 s->line == POWER_LINE_RESET ? "reset"
								     : "power",
					 s->active ? "active" : "inactive",
					 strerror(-r));
				return r;
			}
		}
		if (s->then_ms) {
			/* +1: the loop's clock is in whole ms, and a press
			 * must last at least as long as configured. */
			loop_timer_rearm(p->loop, &p->timer, s->then_ms + 1,
					 power_on_timer, p);
			return 0;
		}
	}
	return 1; /* finished */
}

static void power_on_timer(void *data)
{
	struct power *p = data;
	int r;

	p->timer = 0;
	if (p->wake_waiting) {
		cJSON_AddBoolToObject(p->extra, "resumed", false);
		cJSON_AddStringToObject(p->extra, "usb_state",
					udc_state_name(p->usb));
		cJSON_AddStringToObject(
			p->extra, "usb_note",
			"the host did not resume: the UDC may lack remote "
			"wakeup (dwc2 has none in Linux 6.1), or the host did "
			"not enable it (see docs/POWER.md)");
		power_finish(p, 0, NULL);
		return;
	}
	r = power_run(p);
	if (r < 0)
		power_finish(p, r, p->msg);
	else if (r > 0)
		power_finish(p, 0, NULL);
}

static void power_add_press(struct power *p, enum power_line line,
			    uint32_t hold_ms, uint32_t after_ms)
{
	p->steps[p->n_steps++] = (struct power_step){(int)line, true, hold_ms};
	p->steps[p->n_steps++] =
		(struct power_step){(int)line, false, after_ms};
}

/* ---- wake ---- */

static int power_srp(struct power *p, char *why, size_t len)
{
	int fd = open(p->srp_path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NONBLOCK);
	int r = 0;

	if (fd < 0 || write(fd, "1", 1) != 1)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r)
		snprintf(why, len, "%s: %s", p->srp_path, strerror(-r));
	return r;
}

static int power_wake(struct power *p, char *err, size_t errlen)
{
	cJSON *sent = cJSON_AddArrayToObject(p->extra, "sent");
	char wol_why[200] = "", usb_why[PATH_MAX + 100] = "";
	bool usb = false;

	if (!p->wol) {
		snprintf(wol_why, sizeof(wol_why),
			 "Wake-on-LAN is not configured ([power] wol_mac)");
	} else if (!power_wol_send(&p->wol_fd, p->mac, &p->wol_to, wol_why,
				   sizeof(wol_why))) {
		cJSON_AddItemToArray(sent, cJSON_CreateString("wol"));
		wol_why[0] = '\0';
	}
	if (!p->srp_path[0]) {
		snprintf(usb_why, sizeof(usb_why),
			 "USB remote wakeup needs the UDC (no [gadget] udc or "
			 "udc_state known)");
	} else if (p->usb != UDC_STATE_SUSPENDED &&
		   p->usb != UDC_STATE_CONFIGURED) {
		snprintf(usb_why, sizeof(usb_why),
			 "USB remote wakeup not tried: no host has configured "
			 "the gadget (USB state %s)",
			 udc_state_name(p->usb));
	} else if (!power_srp(p, usb_why, sizeof(usb_why))) {
		cJSON_AddItemToArray(sent, cJSON_CreateString("usb"));
		/* Only a reported suspend can be seen to end. */
		usb = p->usb == UDC_STATE_SUSPENDED;
		if (!usb)
			cJSON_AddStringToObject(
				p->extra, "usb_note",
				"signalled while the UDC state says "
				"configured: UDCs that never report suspend "
				"(dwc2, dummy_hcd) show a sleeping host that "
				"way, so a resume cannot be seen here");
	}
	if (wol_why[0])
		cJSON_AddStringToObject(p->extra, "wol", wol_why);
	if (usb_why[0])
		cJSON_AddStringToObject(p->extra, "usb", usb_why);
	if (!cJSON_GetArraySize(sent)) {
		snprintf(err, errlen, "nothing was sent: %s; %s", wol_why,
			 usb_why);
		return -ENOENT;
	}
	p->wake_waiting = usb;
	loop_timer_rearm(p->loop, &p->timer, usb ? p->wake_wait_ms : 0,
			 power_on_timer, p);
	return 0;
}

/* ---- starting ---- */

static int power_need(struct power *p, enum power_line line, char *err,
		      size_t errlen)
{
	const char *what = line == POWER_LINE_RESET ? "reset" : "power";

	if (p->wired[line])
		return 0;
	if (!p->configured[line])
		snprintf(err, errlen,
			 "no %s pin wired: set [power] gpio_chip and %s_line",
			 what, what);
	else if (!p->ops)
		snprintf(err, errlen,
			 "the %s pin is configured but this agent was built "
			 "without GPIO support (libgpiod-dev was missing)",
			 what);
	else
		snprintf(err, errlen,
			 "the %s pin could not be claimed at start: %s", what,
			 p->gpio_error);
	return -ENODEV;
}

/* The state check of on and off: refuse what would do the opposite. */
static int power_check(struct power *p, enum power_action act,
		       const struct power_status *st, char *err, size_t errlen)
{
	const char *how = st->inferred ? "looks" : "is";

	if (act == POWER_ACT_ON && st->state == POWER_STATE_ON) {
		snprintf(err, errlen,
			 "the server %s on (%s): not pressing; use off, "
			 "force_off or reset, or add \"force\": true",
			 how, st->detail);
		return -EALREADY;
	}
	if (act == POWER_ACT_OFF && st->state == POWER_STATE_OFF) {
		snprintf(err, errlen,
			 "the server %s off (%s): not pressing; add "
			 "\"force\": true to press anyway",
			 how, st->detail);
		return -EALREADY;
	}
	if (act == POWER_ACT_OFF && st->state == POWER_STATE_ASLEEP) {
		snprintf(err, errlen,
			 "the server %s asleep (%s): a short press would wake "
			 "it; use force_off, or add \"force\": true",
			 how, st->detail);
		return -EALREADY;
	}
	return 0;
}

static void power_plan(struct power *p, enum power_action act,
		       const struct power_status *st, bool force)
{
	p->n_steps = 0;
	p->next = 0;
	switch (act) {
	case POWER_ACT_ON:
	case POWER_ACT_OFF:
		power_add_press(p, POWER_LINE_POWER, p->short_ms, 0);
		break;
	case POWER_ACT_FORCE_OFF:
		power_add_press(p, POWER_LINE_POWER, p->long_ms, 0);
		break;
	case POWER_ACT_RESET:
		power_add_press(p, POWER_LINE_RESET, p->short_ms, 0);
		break;
	case POWER_ACT_CYCLE:
		/* Holding the button of a server that is off would turn it
		 * on and then off again: skip to the "on" press. */
		if (force || st->state != POWER_STATE_OFF)
			power_add_press(p, POWER_LINE_POWER, p->long_ms,
					p->cycle_wait_ms);
		else
			cJSON_AddBoolToObject(p->extra, "skipped_force_off",
					      true);
		power_add_press(p, POWER_LINE_POWER, p->short_ms, 0);
		break;
	case POWER_ACT_WAKE:
	case POWER_ACT_COUNT:
		break;
	}
}

int power_start(struct power *p, enum power_action act, bool force,
		power_done_fn done, void *data, char *err, size_t errlen)
{
	struct power_status st;
	int r;

	if ((unsigned)act >= POWER_ACT_COUNT) {
		snprintf(err, errlen, "unknown power action");
		return -EINVAL;
	}
	if (p->busy) {
		snprintf(err, errlen, "power %s is in progress",
			 action_names[p->act]);
		return -EBUSY;
	}
	power_status(p, &st);
	if (act != POWER_ACT_WAKE) {
		r = power_need(p,
			       act == POWER_ACT_RESET ? POWER_LINE_RESET
						      : POWER_LINE_POWER,
			       err, errlen);
		if (!r && !force)
			r = power_check(p, act, &st, err, errlen);
		if (r)
			return r;
	}
	p->extra = cJSON_CreateObject();
	if (!p->extra) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cJSON_AddStringToObject(p->extra, "action", action_names[act]);
	cJSON_AddStringToObject(p->extra, "state_before",
				power_state_name(st.state));
	cJSON_AddStringToObject(p->extra, "source",
				power_source_name(st.source));
	p->act = act;
	p->n_steps = 0;
	p->next = 0;
	p->busy = true;
	p->done = done;
	p->done_data = data;
	if (act == POWER_ACT_WAKE) {
		r = power_wake(p, err, errlen);
	} else {
		power_plan(p, act, &st, force);
		r = power_run(p);
		if (r < 0)
			snprintf(err, errlen, "%s", p->msg);
		else if (r > 0) /* no waits at all: finish from the loop */
			loop_timer_rearm(p->loop, &p->timer, 0, power_on_timer,
					 p);
		if (r > 0)
			r = 0;
	}
	if (r) {
		p->busy = false;
		p->done = NULL;
		p->done_data = NULL;
		cJSON_Delete(p->extra);
		p->extra = NULL;
		return r;
	}
	power_changed(p);
	if (act == POWER_ACT_RESET || act == POWER_ACT_CYCLE)
		for (int i = 0; i < p->restart.n; i++)
			((power_restart_fn)p->restart.l[i].fn)(
				p->restart.l[i].data);
	return 0;
}

int power_listen_restart(struct power *p, power_restart_fn fn, void *data)
{
	return listeners_add(&p->restart, POWER_RESTART_LISTENERS,
			     (listener_fn)fn, data);
}

void power_cancel(struct power *p)
{
	if (!p || !p->busy)
		return;
	power_all_inactive(p);
	power_finish(p, -ECANCELED, "cancelled: the agent is stopping");
}

void *power_pending(const struct power *p)
{
	return p && p->busy ? p->done_data : NULL;
}

bool power_busy(const struct power *p)
{
	return p && p->busy;
}

bool power_wired(const struct power *p, enum power_line line)
{
	return p && (unsigned)line < POWER_LINE_COUNT && p->wired[line];
}

void *power_gpio_ctx(const struct power *p)
{
	return p->gpio;
}

void power_set_usb(struct power *p, enum udc_state st)
{
	if (st == p->usb)
		return;
	p->usb = st;
	/* An unreadable state is no news: keep waiting for a real one. */
	if (p->busy && p->wake_waiting && st != UDC_STATE_SUSPENDED &&
	    st != UDC_STATE_UNKNOWN) {
		cJSON_AddBoolToObject(p->extra, "resumed", true);
		cJSON_AddStringToObject(p->extra, "usb_state",
					udc_state_name(st));
		power_finish(p, 0, NULL);
		return;
	}
	power_changed(p);
}

/* ---- life cycle ---- */

static void power_gpio_open(struct power *p, const struct power_cfg *cfg)
{
	bool any = false;
	int r;

	for (int i = 0; i < POWER_LINE_COUNT; i++) {
		p->configured[i] = cfg->gpio.chip && cfg->gpio.chip[0] &&
				   cfg->gpio.line[i] >= 0;
		any |= p->configured[i];
	}
	if (!any)
		return;
	if (!p->ops) {
		snprintf(p->gpio_error, sizeof(p->gpio_error),
			 "[power] pins are configured but this agent was "
			 "built without libgpiod: they are not driven");
		return;
	}
	r = p->ops->request(&cfg->gpio, &p->gpio, p->gpio_error,
			    sizeof(p->gpio_error));
	if (r) {
		p->gpio = NULL;
		if (!p->gpio_error[0])
			snprintf(p->gpio_error, sizeof(p->gpio_error), "%s",
				 strerror(-r));
		return;
	}
	for (int i = 0; i < POWER_LINE_COUNT; i++)
		p->wired[i] = p->configured[i];
	if (p->wired[POWER_LINE_LED]) {
		p->led_fd = p->ops->event_fd(p->gpio);
		if (p->led_fd >= 0)
			loop_fd_add(p->loop, p->led_fd, POLLIN, power_on_led,
				    p);
		p->led = power_led_eval(p);
	}
}

int power_new(struct loop *l, const struct power_cfg *cfg,
	      power_changed_fn changed, void *data, struct power **out,
	      char *err, size_t errlen)
{
	struct power *p = calloc(1, sizeof(*p));

	err[0] = '\0';
	if (!p)
		return -ENOMEM;
	p->loop = l;
	p->changed = changed;
	p->data = data;
	p->ops = cfg->ops;
	p->wol_fd = -1;
	p->led_fd = -1;
	p->usb = UDC_STATE_UNKNOWN;
	p->short_ms = cfg->short_press_ms;
	p->long_ms = cfg->long_press_ms;
	p->cycle_wait_ms = cfg->cycle_wait_ms;
	p->wake_wait_ms = cfg->wake_wait_ms;
	p->wol = cfg->wol;
	memcpy(p->mac, cfg->wol_mac, sizeof(p->mac));
	p->wol_to = cfg->wol_to;
	if (cfg->srp_path)
		snprintf(p->srp_path, sizeof(p->srp_path), "%s", cfg->srp_path);
	power_gpio_open(p, cfg);
	if (p->gpio_error[0])
		snprintf(err, errlen, "%s", p->gpio_error);
	*out = p;
	return 0;
}

void power_free(struct power *p)
{
	if (!p)
		return;
	if (p->timer)
		loop_timer_cancel(p->loop, p->timer);
	if (p->blink_timer)
		loop_timer_cancel(p->loop, p->blink_timer);
	cJSON_Delete(p->extra);
	if (p->gpio) {
		/* Whatever ran, the buttons are let go before release. */
		power_all_inactive(p);
		if (p->led_fd >= 0)
			loop_fd_del(p->loop, p->led_fd);
		p->ops->release(p->gpio);
	}
	if (p->wol_fd >= 0)
		close(p->wol_fd);
	free(p);
}
