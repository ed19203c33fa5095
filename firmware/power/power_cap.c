/* The power capability: building it, cmd/power and `reboot hard`. */
#include "firmware/power/power_cap.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/addr.h"
#include "firmware/host/hostwatch.h"
#include "firmware/power/power.h"

/* How long `power wake` waits for a suspended host to resume. */
#define POWER_CMD_WAKE_WAIT_MS 3000

struct power_cap {
	const struct cap *c;
	struct power *p;
};

/* A press of a command: its callback data. */
struct power_cmd_ctx {
	struct power_cap *pc;
	struct cmd_req *req;
};

/* The GPIO backend; the tests' build hands in its fake. */
static const struct power_gpio_ops *power_cap_backend;

void power_cap_set_backend(const struct power_gpio_ops *ops)
{
	power_cap_backend = ops;
}

static void power_cmd_changed(void *data)
{
	struct power_cap *pc = data;

	cap_state_dirty(pc->c);
}

static void power_cmd_on_host(void *data, enum udc_state old,
			      enum udc_state now)
{
	power_set_usb(data, now);
}

/* The UDC's srp file sits next to its state file. */
static void power_cmd_srp_path(const struct cap *c, char *buf, size_t len)
{
	const char *state = c->h->host ? hostwatch_path(c->h->host) : "";
	const char *slash = strrchr(state, '/');

	buf[0] = '\0';
	if (slash)
		snprintf(buf, len, "%.*s/srp", (int)(slash - state), state);
}

static void power_cmd_summary(const struct config *c, struct power *p,
			      const struct power_cfg *pc, char *msg,
			      size_t msglen)
{
	size_t off = 0;

	if (power_wired(p, POWER_LINE_POWER) ||
	    power_wired(p, POWER_LINE_RESET) || power_wired(p, POWER_LINE_LED))
		off += (size_t)snprintf(
			msg + off, msglen - off,
			"pins on %s (%s): power %d, reset %d, LED %d%s; ",
			c->power.gpio_chip, pc->ops->name, c->power.power_line,
			c->power.reset_line, c->power.power_led_line,
			c->power.active_low ? ", active low" : "");
	if (off < msglen)
		snprintf(msg + off, msglen - off,
			 "Wake-on-LAN %s; USB remote wakeup %s",
			 pc->wol ? c->power.wol_mac : "off",
			 pc->srp_path[0] ? pc->srp_path : "off (no UDC)");
}

static void power_cap_detach(void *self);

static int power_cap_attach(const struct cap *cap, void **self, char *msg,
			    size_t msglen)
{
	const struct config *c = cap->cfg;
	char srp[PATH_MAX];
	struct power_cfg pcfg = {
		.gpio =
			{
				.chip = c->power.gpio_chip,
				.line = {c->power.power_line,
					 c->power.reset_line,
					 c->power.power_led_line},
				.active_low = c->power.active_low,
				.led_active_low = c->power.led_active_low,
				.consumer = "zerobmc",
			},
		.short_press_ms = (uint32_t)c->power.short_press_ms,
		.long_press_ms = (uint32_t)c->power.long_press_ms,
		.cycle_wait_ms = (uint32_t)c->power.cycle_wait_ms,
		.srp_path = srp,
		.wake_wait_ms = POWER_CMD_WAKE_WAIT_MS,
	};
	struct power_cap *pc = calloc(1, sizeof(*pc));
	int r;

	if (!pc)
		return -ENOMEM;
	pc->c = cap;
	if (c->power.gpio_chip[0])
		pcfg.ops = power_cap_backend ? power_cap_backend
					     : power_gpiod_ops();
	/* config_validate() checked both; a failure here leaves WoL off. */
	pcfg.wol = c->power.wol_mac[0] &&
		   !addr_mac_parse(c->power.wol_mac, pcfg.wol_mac) &&
		   !addr_ipv4(c->power.wol_broadcast, c->power.wol_port,
			      &pcfg.wol_to);
	power_cmd_srp_path(cap, srp, sizeof(srp));
	r = power_new(cap->loop, &pcfg, power_cmd_changed, pc, &pc->p, msg,
		      msglen);
	if (r)
		goto fail;
	r = state_provider_add(cap->state, "power", power_state_json, pc->p);
	if (r) {
		snprintf(msg, msglen, "no room for the power state section");
		goto fail;
	}
	if (cap->h->host) {
		hostwatch_listen(cap->h->host, power_cmd_on_host, pc->p);
		power_set_usb(pc->p, hostwatch_state(cap->h->host));
	}
	*self = pc;
	/* A GPIO failure leaves power built: its actions say why. */
	if (msg[0])
		return -ENODEV;
	power_cmd_summary(c, pc->p, &pcfg, msg, msglen);
	return 0;
fail:
	power_cap_detach(pc);
	return r;
}

/* A stopping agent lets go of the buttons: the press is answered. */
static void power_cap_stop(void *self)
{
	struct power_cap *pc = self;

	power_cancel(pc->p);
}

static void power_cap_detach(void *self)
{
	struct power_cap *pc = self;

	if (!pc)
		return;
	/* Stopping ends a press at once: power_free lets the lines go. */
	power_cancel(pc->p);
	power_free(pc->p);
	free(pc);
}

struct power *power_cap_power(struct power_cap *pc)
{
	return pc ? pc->p : NULL;
}

static void power_cmd_done(void *data, int err, const char *msg, cJSON *extra)
{
	struct power_cmd_ctx *ctx = data;
	enum result_status st = !err		    ? RESULT_OK
				: err == -ECANCELED ? RESULT_CANCELLED
						    : RESULT_ERROR;

	cap_reply(ctx->pc->c, ctx->req, st, err ? msg : NULL, extra);
	free(ctx);
}

static void power_cmd_start(struct power_cap *pc, struct cmd_req *req,
			    enum power_action act, bool force)
{
	struct power_cmd_ctx *ctx = calloc(1, sizeof(*ctx));
	char err[600];
	int r;

	if (!ctx) {
		cap_reply(pc->c, req, RESULT_ERROR, "out of memory", NULL);
		return;
	}
	ctx->pc = pc;
	ctx->req = req;
	r = power_start(pc->p, act, force, power_cmd_done, ctx, err,
			sizeof(err));
	if (r) {
		free(ctx);
		cap_reply(pc->c, req, r == -EBUSY ? RESULT_BUSY : RESULT_ERROR,
			  err, NULL);
	}
}

static const char *const power_fields[] = {"action", "force", NULL};

static void power_cmd(void *self, struct cmd_req *req)
{
	struct power_cap *pc = self;
	enum power_action act;
	const char *name;
	bool force = false, bad;
	char msg[200];

	if (payload_check_fields(&req->p, power_fields, msg, sizeof(msg))) {
		cap_reply(pc->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	name = payload_str(&req->p, "action", true, &bad);
	if (bad || !name || !name[0]) {
		cap_reply(pc->c, req, RESULT_ERROR,
			  "no action given (on, off, force_off, reset, "
			  "cycle, wake)",
			  NULL);
		return;
	}
	if (power_action_parse(name, &act)) {
		snprintf(msg, sizeof(msg),
			 "unknown power action \"%.32s\" (on, off, force_off, "
			 "reset, cycle, wake)",
			 name);
		cap_reply(pc->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (payload_bool(&req->p, "force", &force) == -EINVAL) {
		cap_reply(pc->c, req, RESULT_ERROR,
			  "\"force\" must be true or false", NULL);
		return;
	}
	power_cmd_start(pc, req, act, force);
}

void power_cap_reboot_hard(struct power_cap *pc, const struct cap *c,
			   struct cmd_req *req)
{
	if (!pc || !c->cfg->power.gpio_chip[0] ||
	    c->cfg->power.reset_line < 0) {
		cap_reply(c, req, RESULT_ERROR,
			  "reboot hard needs the reset pin wired "
			  "([power] gpio_chip and reset_line); use "
			  "reboot sysrq for a hung Linux server",
			  NULL);
		return;
	}
	/* A hung server is exactly when the state must not veto a reset. */
	power_cmd_start(pc, req, POWER_ACT_RESET, true);
}

static const struct cap_command power_cap_commands[] = {
	{"power", power_cmd, "power on, off, reset, cycle, wake"},
	{NULL, NULL, NULL},
};

const struct cap_def power_cap = {
	.name = "power",
	.attach = power_cap_attach,
	.stop = power_cap_stop,
	.detach = power_cap_detach,
	.commands = power_cap_commands,
	.handle_offset = offsetof(struct cap_handles, power),
};
