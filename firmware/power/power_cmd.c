/* The agent's side of power: building it, cmd/power and `reboot hard`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "firmware/core/addr.h"
#include "firmware/agent/agent.h"
#include "firmware/agent/commands.h"
#include "firmware/host/hostwatch.h"
#include "firmware/power/power.h"

/* How long `power wake` waits for a suspended host to resume. */
#define POWER_CMD_WAKE_WAIT_MS 3000

struct power_cmd_ctx {
	struct agent *a;
	struct cmd_req *req;
};

static void power_cmd_changed(void *data)
{
	agent_state_dirty(data);
}

static void power_cmd_on_host(void *data, enum udc_state old,
			      enum udc_state now)
{
	power_set_usb(data, now);
}

static void power_cmd_free_req(struct cmd_req *req)
{
	payload_free(&req->p);
	free(req->response_topic);
	free(req->correlation);
	free(req);
}

/* The UDC's srp file sits next to its state file. */
static void power_cmd_srp_path(struct agent *a, char *buf, size_t len)
{
	const char *state = a->host ? hostwatch_path(a->host) : "";
	const char *slash = strrchr(state, '/');

	buf[0] = '\0';
	if (slash)
		snprintf(buf, len, "%.*s/srp", (int)(slash - state), state);
}

static void power_cmd_summary(struct agent *a, const struct power_cfg *pc,
			      char *msg, size_t msglen)
{
	const struct config *c = a->cfg;
	size_t off = 0;

	if (power_wired(a->power, POWER_LINE_POWER) ||
	    power_wired(a->power, POWER_LINE_RESET) ||
	    power_wired(a->power, POWER_LINE_LED))
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

int power_attach(struct agent *a, char *msg, size_t msglen)
{
	const struct config *c = a->cfg;
	char srp[PATH_MAX];
	struct power_cfg pc = {
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
	struct stat st;
	int r;

	msg[0] = '\0';
	if (a->power)
		return 0;
	/* A plain file as the chip is a stand-in: the fake backend. */
	if (c->power.gpio_chip[0])
		pc.ops = !stat(c->power.gpio_chip, &st) && S_ISREG(st.st_mode)
				 ? &power_fake_ops
				 : power_gpiod_ops();
	/* config_validate() checked both; a failure here leaves WoL off. */
	pc.wol = c->power.wol_mac[0] &&
		 !addr_mac_parse(c->power.wol_mac, pc.wol_mac) &&
		 !addr_ipv4(c->power.wol_broadcast, c->power.wol_port,
				 &pc.wol_to);
	power_cmd_srp_path(a, srp, sizeof(srp));
	r = power_new(a->loop, &pc, power_cmd_changed, a, &a->power, msg,
		      msglen);
	if (r)
		return r;
	r = state_provider_add(&a->state, "power", power_state_json, a->power);
	if (r) {
		snprintf(msg, msglen, "no room for the power state section");
		return r;
	}
	if (a->host) {
		hostwatch_listen(a->host, power_cmd_on_host, a->power);
		power_set_usb(a->power, hostwatch_state(a->host));
	}
	if (msg[0])
		return -ENODEV;
	power_cmd_summary(a, &pc, msg, msglen);
	return 0;
}

void power_detach(struct agent *a)
{
	struct power_cmd_ctx *ctx = power_pending(a->power);

	/* Stopping ends a press at once: power_free lets the lines go. */
	power_free(a->power);
	a->power = NULL;
	if (ctx) {
		power_cmd_free_req(ctx->req);
		free(ctx);
	}
}

static void power_cmd_done(void *data, int err, const char *msg, cJSON *extra)
{
	struct power_cmd_ctx *ctx = data;
	enum result_status st = !err		    ? RESULT_OK
				: err == -ECANCELED ? RESULT_CANCELLED
						    : RESULT_ERROR;

	agent_reply(ctx->a, ctx->req, st, err ? msg : NULL, extra);
	free(ctx);
}

static void power_cmd_start(struct agent *a, struct cmd_req *req,
			    enum power_action act, bool force)
{
	struct power_cmd_ctx *ctx = calloc(1, sizeof(*ctx));
	char err[600];
	int r;

	if (!ctx) {
		agent_reply(a, req, RESULT_ERROR, "out of memory", NULL);
		return;
	}
	ctx->a = a;
	ctx->req = req;
	r = power_start(a->power, act, force, power_cmd_done, ctx, err,
			sizeof(err));
	if (r) {
		free(ctx);
		agent_reply(a, req, r == -EBUSY ? RESULT_BUSY : RESULT_ERROR,
			    err, NULL);
	}
}

static const char *const power_fields[] = {"action", "force", NULL};

void cmd_power(struct agent *a, struct cmd_req *req)
{
	enum power_action act;
	const char *name;
	bool force = false, bad;
	char msg[200];

	if (payload_check_fields(&req->p, power_fields, msg, sizeof(msg))) {
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	name = payload_str(&req->p, "action", true, &bad);
	if (bad || !name || !name[0]) {
		agent_reply(a, req, RESULT_ERROR,
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
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	if (payload_bool(&req->p, "force", &force) == -EINVAL) {
		agent_reply(a, req, RESULT_ERROR,
			    "\"force\" must be true or false", NULL);
		return;
	}
	if (!a->power) {
		agent_reply(a, req, RESULT_ERROR,
			    "power is not available in this agent", NULL);
		return;
	}
	power_cmd_start(a, req, act, force);
}

void cmd_power_reboot_hard(struct agent *a, struct cmd_req *req)
{
	const struct config *c = a->cfg;

	if (!a->power || !c->power.gpio_chip[0] || c->power.reset_line < 0) {
		agent_reply(a, req, RESULT_ERROR,
			    "reboot hard needs the reset pin wired "
			    "([power] gpio_chip and reset_line); use "
			    "reboot sysrq for a hung Linux server",
			    NULL);
		return;
	}
	/* A hung server is exactly when the state must not veto a reset. */
	power_cmd_start(a, req, POWER_ACT_RESET, true);
}
