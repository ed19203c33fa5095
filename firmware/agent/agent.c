#include "firmware/agent/agent.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "firmware/agent/commands.h"
#include "firmware/console/console.h"
#include "firmware/host/hostwatch.h"
#include "firmware/keyboard/keyboard.h"
#include "firmware/core/log.h"
#include "firmware/macro/macro.h"
#include "ha-integration/ha.h"
#include "firmware/media/media.h"
#include "firmware/power/power.h"
#include "firmware/net/mqtt.h"
#include "firmware/net/outbox.h"
#include "firmware/host/timeline.h"
#include "firmware/core/notify.h"
#include "firmware/net/transport.h"
#include "firmware/tools/gadget_cli.h"
#include "gadget/compose.h"

#define AGENT_STATE_COALESCE_MS 20
#define AGENT_HEARTBEAT_MS (5 * 60 * 1000)
#define AGENT_SHUTDOWN_GRACE_MS 2000

/* ---- publishing ---- */

int agent_publish(struct agent *a, enum topics_pub which, const char *payload,
		  size_t len, int qos, bool retain)
{
	if (!a->mqtt) /* capabilities start before the session exists */
		return -ENOTCONN;
	return mqtt_publish(a->mqtt, a->topics.pub[which], payload, len, qos,
			    retain, NULL, 0);
}

static void agent_state_publish(void *data)
{
	struct agent *a = data;
	char *doc;
	int r;

	a->state_timer = 0;
	if (!mqtt_is_online(a->mqtt))
		return;
	/* Paho's queue can be full during a console flood, or the broker's
	 * window during a burst of results: try again soon, with whatever
	 * the state is by then. */
	if (mqtt_window_full(a->mqtt))
		goto later;
	doc = state_build(&a->state);
	if (!doc)
		return;
	r = agent_publish(a, TOPIC_STATE, doc, strlen(doc), 1, true);
	free(doc);
	if (r != -EAGAIN)
		return;
later:
	loop_timer_rearm(a->loop, &a->state_timer, AGENT_STATE_COALESCE_MS,
			 agent_state_publish, a);
}

void agent_state_dirty(struct agent *a)
{
	if (!a->state_timer)
		loop_timer_rearm(a->loop, &a->state_timer,
				 AGENT_STATE_COALESCE_MS, agent_state_publish,
				 a);
}

static void agent_heartbeat(void *data)
{
	struct agent *a = data;

	/* Uptime moves on its own; say so now and then. */
	agent_state_dirty(a);
	loop_timer_rearm(a->loop, &a->heartbeat_timer, AGENT_HEARTBEAT_MS,
			 agent_heartbeat, a);
}

static cJSON *agent_state_json(void *data)
{
	struct agent *a = data;
	cJSON *o = cJSON_CreateObject();
	cJSON *mq, *kb, *leds;
	uint8_t l = a->kb ? keyboard_leds(a->kb) : 0;
	size_t done = 0, total = 0;

	cJSON_AddStringToObject(o, "version", ZB_VERSION);
	cJSON_AddNumberToObject(o, "uptime_s",
				(double)((loop_now_ms() - a->start_ms) / 1000));
	cJSON_AddNumberToObject(o, "started", (double)a->start_unix);
	cJSON_AddNumberToObject(o, "commands", (double)a->commands);
	cJSON_AddNumberToObject(o, "command_errors", (double)a->errors);
	mq = cJSON_AddObjectToObject(o, "mqtt");
	cJSON_AddNumberToObject(mq, "protocol", mqtt_version(a->mqtt));
	cJSON_AddStringToObject(mq, "transport",
				a->cfg->mqtt.tls ? "tls" : "tcp");
	/* The last failure stays after reconnecting: while the link was
	 * down, no state could say why. */
	if (a->link_error[0]) {
		cJSON_AddStringToObject(mq, "last_error", a->link_error);
		cJSON_AddNumberToObject(mq, "last_error_at",
					(double)a->link_error_at);
	}
	/* Messages the outbox had to give up, and commands waiting for
	 * their results' way out: both are zero unless the link chokes. */
	if (outbox_dropped(a->outbox))
		cJSON_AddNumberToObject(mq, "dropped",
					(double)outbox_dropped(a->outbox));
	if (mqtt_held(a->mqtt))
		cJSON_AddNumberToObject(mq, "held", (double)mqtt_held(a->mqtt));
	kb = cJSON_AddObjectToObject(o, "keyboard");
	cJSON_AddStringToObject(kb, "layout", a->layout->name);
	cJSON_AddStringToObject(kb, "profile", typing_profile_name(a->profile));
	cJSON_AddBoolToObject(kb, "busy", a->kb && keyboard_busy(a->kb));
	if (a->kb)
		keyboard_progress(a->kb, &done, &total);
	if (total) {
		cJSON_AddNumberToObject(kb, "progress", (double)done);
		cJSON_AddNumberToObject(kb, "total", (double)total);
	}
	cJSON_AddBoolToObject(kb, "keys_down",
			      a->kb && keyboard_keys_down(a->kb));
	if (a->host) {
		cJSON *usb = cJSON_AddObjectToObject(o, "usb");
		uint64_t ago = loop_now_ms() - hostwatch_since_ms(a->host);

		cJSON_AddStringToObject(
			usb, "state", udc_state_name(hostwatch_state(a->host)));
		cJSON_AddNumberToObject(
			usb, "since",
			(double)(time(NULL) - (time_t)(ago / 1000)));
	}
	leds = cJSON_AddObjectToObject(kb, "leds");
	cJSON_AddBoolToObject(leds, "num", l & HID_LED_NUM);
	cJSON_AddBoolToObject(leds, "caps", l & HID_LED_CAPS);
	cJSON_AddBoolToObject(leds, "scroll", l & HID_LED_SCROLL);
	return o;
}

/* ---- results ---- */

void agent_reply(struct agent *a, struct cmd_req *req,
		 enum result_status status, const char *error, cJSON *extra)
{
	char *doc = result_build(req->p.id, req->name, status, error, extra);

	if (status != RESULT_OK)
		a->errors++;
	timeline_command(a->timeline, req->name, result_status_name(status));
	if (status == RESULT_ERROR)
		log_info("command %s%s%s: %s", req->name,
			 req->p.id[0] ? " id " : "", req->p.id,
			 error ? error : "error");
	else
		log_debug("command %s%s%s: %s", req->name,
			  req->p.id[0] ? " id " : "", req->p.id,
			  result_status_name(status));
	if (doc) {
		outbox_publish(a->outbox, a->topics.pub[TOPIC_RESULT], doc,
			       strlen(doc), 1, false, NULL, 0);
		if (req->response_topic)
			outbox_publish(a->outbox, req->response_topic, doc,
				       strlen(doc), 1, false, req->correlation,
				       req->correlation_len);
		free(doc);
	}
	payload_free(&req->p);
	free(req->response_topic);
	free(req->correlation);
	free(req);
}

/* ---- the command pipeline ---- */

/* True if id was seen in the last AGENT_DEDUP_MS; remembers it if not. */
static bool agent_dedup(struct agent *a, const char *id)
{
	uint64_t now = loop_now_ms();

	if (!id[0])
		return false;
	for (int i = 0; i < AGENT_DEDUP_MAX; i++)
		if (a->dedup[i].at_ms &&
		    now - a->dedup[i].at_ms < AGENT_DEDUP_MS &&
		    !strcmp(a->dedup[i].id, id))
			return true;
	snprintf(a->dedup[a->dedup_next].id, sizeof(a->dedup[0].id), "%s", id);
	a->dedup[a->dedup_next].at_ms = now ? now : 1;
	a->dedup_next = (a->dedup_next + 1) % AGENT_DEDUP_MAX;
	return false;
}

static void agent_command(struct agent *a, struct mqtt_msg *m, const char *name)
{
	struct cmd_req *req = calloc(1, sizeof(*req));
	const struct command_def *def;
	char err[256];

	if (!req)
		return;
	a->commands++;
	snprintf(req->name, sizeof(req->name), "%s", name);
	req->t0_us = loop_now_us();
	req->response_topic = m->response_topic;
	req->correlation = m->correlation;
	req->correlation_len = m->correlation_len;
	m->response_topic = NULL;
	m->correlation = NULL;
	if (payload_parse(m->payload, m->len, a->cfg->agent.max_payload,
			  &req->p, err, sizeof(err))) {
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	if (m->retained) {
		agent_reply(a, req, RESULT_ERROR,
			    "retained command refused: commands must be "
			    "published with retain false, or they replay on "
			    "every reconnect; clear it with an empty retained "
			    "message",
			    NULL);
		return;
	}
	if (agent_dedup(a, req->p.id)) {
		log_info("command %s id %s seen before: not run again", name,
			 req->p.id);
		payload_free(&req->p);
		free(req->response_topic);
		free(req->correlation);
		free(req);
		return;
	}
	def = commands_find(name);
	if (!def) {
		snprintf(err, sizeof(err),
			 "unknown command \"%s\" (key, type, reboot, power, "
			 "media, macro, console, refresh)",
			 name);
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	if (!def->run) {
		snprintf(err, sizeof(err),
			 "command \"%s\" is not supported by this agent yet",
			 name);
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	def->run(a, req);
}

static void agent_on_message(void *data, struct mqtt_msg *m)
{
	struct agent *a = data;
	char name[TOPICS_CMD_NAME_MAX];
	int r = topics_match_cmd(&a->topics, m->topic, name);

	if (r == -EINVAL) {
		struct cmd_req *req = calloc(1, sizeof(*req));

		if (req) {
			snprintf(req->name, sizeof(req->name), "?");
			agent_reply(a, req, RESULT_ERROR,
				    "bad command name in topic (a-z, 0-9, _)",
				    NULL);
		}
	} else if (r == 0) {
		agent_command(a, m, name);
	} else {
		ha_on_message(a->ha, m);
	}
	mqtt_msg_free(m);
}

void cmd_refresh(struct agent *a, struct cmd_req *req)
{
	static const char *const fields[] = { "events", NULL };
	cJSON *extra = NULL;
	char msg[128];
	long n = 0;
	int r;

	if (payload_check_fields(&req->p, fields, msg, sizeof(msg))) {
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	r = payload_int(&req->p, "events", 0, TIMELINE_HISTORY, &n);
	if (r == -EINVAL) {
		snprintf(msg, sizeof(msg),
			 "\"events\" must be a number from 0 to %d",
			 TIMELINE_HISTORY);
		agent_reply(a, req, RESULT_ERROR, msg, NULL);
		return;
	}
	agent_state_dirty(a);
	ha_republish(a->ha);
	if (n > 0) {
		extra = cJSON_CreateObject();
		cJSON_AddItemToObject(extra, "events",
				      timeline_history(a->timeline, (int)n));
	}
	agent_reply(a, req, RESULT_OK, NULL, extra);
}

/* ---- session events ---- */

static void agent_on_online(void *data)
{
	struct agent *a = data;

	log_info("connected to %s:%u (MQTT %s), serving %s", a->cfg->mqtt.host,
		 a->cfg->mqtt.port, mqtt_version(a->mqtt) == 5 ? "5" : "3.1.1",
		 a->topics.base);
	/* Status first, then the results that waited for the broker. */
	if (agent_publish(a, TOPIC_STATUS, "online", 6, 1, true) == -EAGAIN)
		outbox_publish(a->outbox, a->topics.pub[TOPIC_STATUS],
			       "online", 6, 1, true, NULL, 0);
	outbox_flush(a->outbox);
	agent_state_dirty(a);
	console_on_online(a->console);
	ha_on_online(a->ha);
	notify_status("connected to %s:%u", a->cfg->mqtt.host,
		      a->cfg->mqtt.port);
}

static void agent_on_offline(void *data, const char *why)
{
	struct agent *a = data;
	const char *detail = transport_last_error(a->transport);

	a->link_error_at = (uint64_t)time(NULL);
	snprintf(a->link_error, sizeof(a->link_error), "%s",
		 detail[0] ? detail : why);
	log_warn("broker %s:%u: %s", a->cfg->mqtt.host, a->cfg->mqtt.port,
		 a->link_error);
	notify_status("broker %s:%u: %s", a->cfg->mqtt.host,
		      a->cfg->mqtt.port, a->link_error);
}

static void agent_on_transport(void *data, enum transport_event ev,
			       const char *detail)
{
	struct agent *a = data;

	switch (ev) {
	case TRANSPORT_UP:
		log_debug("broker link up (%s)", detail);
		break;
	case TRANSPORT_FAILED:
	case TRANSPORT_CLOSED:
		log_debug("broker link: %s", detail);
		break;
	case TRANSPORT_REFUSED_PEER:
		log_warn("%s", detail);
		break;
	}
	(void)a;
}

/* ---- keyboard events ---- */

static void agent_on_leds(void *data, uint8_t leds)
{
	struct agent *a = data;

	log_debug("keyboard LEDs now 0x%02x", leds);
	macros_on_leds(a->macros, leds);
	timeline_led(a->timeline, leds);
	agent_state_dirty(a);
}

static void agent_on_kb_host(void *data, bool taking)
{
	struct agent *a = data;

	timeline_kb_host(a->timeline, taking);
	agent_state_dirty(a);
}

/* ---- the server's USB state ---- */

static void agent_on_host(void *data, enum udc_state old, enum udc_state now)
{
	struct agent *a = data;

	log_info("host USB state: %s -> %s", udc_state_name(old),
		 udc_state_name(now));
	/* A host that polls again gets the release it may have missed. */
	if (now == UDC_STATE_CONFIGURED)
		keyboard_release(a->kb);
	agent_state_dirty(a);
}

static int agent_hostwatch(struct agent *a)
{
	char path[CONFIG_PATH_MAX];
	int r;

	if (a->cfg->gadget.udc_state[0])
		snprintf(path, sizeof(path), "%s", a->cfg->gadget.udc_state);
	else if (!a->cfg->gadget.udc[0] ||
		 udc_state_path(path, sizeof(path), a->cfg->gadget.udc))
		return 0; /* nothing to watch: state says unknown */
	r = hostwatch_new(a->loop, path, &a->host);
	if (r) {
		log_warn("host USB state %s: %s", path, strerror(-r));
		return 0;
	}
	return hostwatch_listen(a->host, agent_on_host, a);
}

/* ---- the gadget ---- */

/* Virtual media, built once; a medium problem never stops the agent. */
static void agent_media(struct agent *a, const char *lun)
{
	char msg[600];

	if (media_attach(a, lun, msg, sizeof(msg)))
		log_warn("media: %s", msg[0] ? msg : "not available");
	else if (msg[0])
		log_info("media: %s", msg);
}

static int agent_before_bind(const struct gadget_info *info, void *user)
{
	struct agent *a = user;

	/* Capabilities that must act before the host sees the gadget (the
	 * media module re-inserting the saved image) hook in here. */
	agent_media(a, a->cfg->media.lun[0] ? a->cfg->media.lun
			 : info->nluns > 0 ? info->lun[0]
					   : "");
	return 0;
}

static int agent_gadget(struct agent *a)
{
	struct config *c = a->cfg;
	struct gadget_spec spec;
	struct gadget_info info;
	char err[256];
	int r;

	if (!c->gadget.manage)
		return 0;
	gadget_cli_spec(c, &spec);
	r = gadget_up(&spec, agent_before_bind, a, &info, err, sizeof(err));
	if (r) {
		log_error("gadget: %s", err);
		return r;
	}
	log_info("gadget %s %s on %s: keyboard %s, console %s", info.name,
		 info.was_bound ? "already bound, kept" : "bound", info.udc,
		 info.hid_dev, info.acm_tty);
	/* The devices are the gadget's, whatever the file said. */
	snprintf(c->keyboard.device, sizeof(c->keyboard.device), "%s",
		 info.hid_dev);
	snprintf(c->console.device, sizeof(c->console.device), "%s",
		 info.acm_tty);
	if (!c->media.lun[0] && info.nluns > 0)
		snprintf(c->media.lun, sizeof(c->media.lun), "%s", info.lun[0]);
	snprintf(c->gadget.udc, sizeof(c->gadget.udc), "%s", info.udc);
	snprintf(c->gadget.udc_state, sizeof(c->gadget.udc_state), "%s",
		 info.udc_state);
	return 0;
}

/* ---- signals and shutdown ---- */

static void agent_quit_now(void *data)
{
	struct agent *a = data;

	loop_quit(a->loop);
}

static void agent_shutdown(struct agent *a)
{
	if (a->quitting)
		return;
	a->quitting = true;
	log_info("shutting down");
	notify_stopping();
	if (a->kb) {
		keyboard_cancel(a->kb);
		keyboard_release(a->kb);
	}
	power_cancel(a->power); /* a stopping agent lets go of the buttons */
	agent_publish(a, TOPIC_STATUS, "offline", 7, 1, true);
	if (mqtt_stop(a->mqtt, agent_quit_now, a))
		loop_quit(a->loop);
	else
		loop_timer_add(a->loop, AGENT_SHUTDOWN_GRACE_MS, agent_quit_now,
			       a);
}

static void agent_on_signal(int fd, short revents, void *data)
{
	struct agent *a = data;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			agent_shutdown(a);
	}
}

static int agent_signals(struct agent *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Paho's threads inherit the mask, so only the signalfd sees them. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	a->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->signal_fd < 0)
		return -errno;
	return loop_fd_add(a->loop, a->signal_fd, POLLIN, agent_on_signal, a);
}

/* ---- setup ---- */

static int agent_keyboard(struct agent *a)
{
	static const struct keyboard_cbs cbs = {
		.leds = agent_on_leds,
		.host = agent_on_kb_host,
	};
	int r;

	a->layout = layout_find(a->cfg->keyboard.layout);
	if (!a->layout) {
		log_error("[keyboard] layout: unknown layout \"%s\"",
			  a->cfg->keyboard.layout);
		return -EINVAL;
	}
	if (typing_profile_parse(a->cfg->keyboard.profile, &a->profile)) {
		log_error("[keyboard] profile: unknown profile \"%s\" (fast "
			  "or bios)",
			  a->cfg->keyboard.profile);
		return -EINVAL;
	}
	r = keyboard_new(a->loop, a->cfg->keyboard.write_timeout_ms,
			 a->cfg->keyboard.hold_timeout_ms, &cbs, a, &a->kb);
	if (r)
		return r;
	r = keyboard_open(a->kb, a->cfg->keyboard.device);
	if (r)
		/* Not fatal: the device may appear when the gadget binds. */
		log_warn("keyboard %s: %s", a->cfg->keyboard.device,
			 strerror(-r));
	return 0;
}

/* Results are not dropped: no new command while they cannot go out. */
static bool agent_can_take(void *data)
{
	struct agent *a = data;

	return !a->outbox || !outbox_busy(a->outbox);
}

static void agent_mqtt_writable(void *data)
{
	struct agent *a = data;

	outbox_flush(a->outbox);
}

static void agent_outbox_space(void *data)
{
	struct agent *a = data;

	mqtt_resume(a->mqtt);
}

int agent_init(struct agent *a, struct config *cfg, struct loop *l)
{
	static const struct mqtt_cbs cbs = {
		.online = agent_on_online,
		.offline = agent_on_offline,
		.message = agent_on_message,
		.can_take = agent_can_take,
		.writable = agent_mqtt_writable,
	};
	struct mqtt_will will;
	char err[256];
	int r;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->loop = l;
	a->signal_fd = -1;
	a->start_ms = loop_now_ms();
	a->start_unix = (uint64_t)time(NULL);
	srandom((unsigned int)(a->start_unix ^ (uint64_t)getpid()));
	r = topics_init(&a->topics, cfg->agent.base_topic, cfg->agent.id,
			(const char(*)[65])cfg->agent.groups,
			cfg->agent.n_groups);
	if (r) {
		log_error("topics for %s/%s do not fit", cfg->agent.base_topic,
			  cfg->agent.id);
		return r;
	}
	r = agent_signals(a);
	if (r) {
		log_error("signals: %s", strerror(-r));
		return r;
	}
	r = agent_gadget(a);
	if (r)
		return r;
	r = agent_keyboard(a);
	if (r)
		return r;
	r = agent_hostwatch(a);
	if (r)
		return r;
	state_provider_add(&a->state, NULL, agent_state_json, a);
	/* Capabilities: each attaches its fds, state provider and commands
	 * below, one line each. */
	agent_media(a, a->cfg->media.lun); /* no-op if before_bind built it */
	if (console_attach(a))
		log_error("console: out of memory");
	if (timeline_attach(a))
		log_error("timeline: out of memory");
	if (macros_attach(a))
		log_error("macros: out of memory");
	r = power_attach(a, err, sizeof(err));
	if (err[0])
		log_msg(r ? LOG_LVL_WARN : LOG_LVL_INFO, "power: %s", err);

	r = transport_new(l, cfg, agent_on_transport, a, &a->transport, err,
			  sizeof(err));
	if (r) {
		log_error("transport: %s", err);
		return r;
	}
	will.topic = a->topics.pub[TOPIC_STATUS];
	will.payload = "offline";
	r = mqtt_new(l, cfg, transport_local_uri(a->transport), &will, &cbs, a,
		     &a->mqtt, err, sizeof(err));
	if (r) {
		log_error("mqtt: %s", err);
		return r;
	}
	r = outbox_new(l, a->mqtt, &a->outbox);
	if (r)
		return r;
	outbox_on_space(a->outbox, agent_outbox_space, a);
	mqtt_add_subscription(a->mqtt, a->topics.cmd_filter);
	for (int i = 0; i < a->topics.n_groups; i++)
		mqtt_add_subscription(a->mqtt, a->topics.group_filter[i]);
	r = ha_attach(a);
	if (r)
		log_warn("homeassistant: %s", strerror(-r));
	return 0;
}

int agent_run(struct agent *a)
{
	log_info("zerobmc %s starting as %s, broker %s", ZB_VERSION,
		 a->topics.base, a->cfg->mqtt.uri);
	mqtt_start(a->mqtt);
	if (notify_start(a->loop))
		log_warn("systemd: READY=1 could not be sent");
	loop_timer_rearm(a->loop, &a->heartbeat_timer, AGENT_HEARTBEAT_MS,
			 agent_heartbeat, a);
	return loop_run(a->loop);
}

void agent_fini(struct agent *a)
{
	if (a->kb_req) {
		payload_free(&a->kb_req->p);
		free(a->kb_req->response_topic);
		free(a->kb_req->correlation);
		free(a->kb_req);
		a->kb_req = NULL;
	}
	/* Capabilities are freed here, in reverse order. */
	timeline_free(a->timeline);
	ha_free(a->ha);
	power_detach(a);
	macros_free(a->macros);
	console_free(a->console);
	media_free(a->media);
	hostwatch_free(a->host);
	keyboard_free(a->kb);
	outbox_free(a->outbox);
	mqtt_free(a->mqtt);
	transport_free(a->transport);
	if (a->signal_fd >= 0) {
		loop_fd_del(a->loop, a->signal_fd);
		close(a->signal_fd);
	}
	state_free(&a->state);
}
