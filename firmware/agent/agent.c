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
#include "firmware/core/log.h"
#include "firmware/core/notify.h"
#include "firmware/core/signals.h"
#include "firmware/host/hostwatch.h"
#include "firmware/media/media_cap.h"
#include "firmware/net/mqtt.h"
#include "firmware/net/outbox.h"
#include "firmware/net/transport.h"
#include "firmware/tools/gadget_cli.h"
#include "gadget/compose.h"

#define AGENT_STATE_COALESCE_MS 20
#define AGENT_HEARTBEAT_MS (5 * 60 * 1000)
#define AGENT_SHUTDOWN_GRACE_MS 2000

/* ---- publishing ---- */

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
	/* Marked dirty, but the same document as the broker has. */
	if (a->state_sent && !strcmp(doc, a->state_sent)) {
		free(doc);
		return;
	}
	r = mqtt_publish(a->mqtt, a->topics.pub[TOPIC_STATE], doc, strlen(doc),
			 0, true, NULL, 0);
	if (!r) {
		a->state_sent_ms = loop_now_ms();
		free(a->state_sent);
		a->state_sent = doc;
		return;
	}
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

/*
 * A command's state change (busy, then idle, the counters) would go out
 * a coalescing window after the command started, a wake of its own for
 * the loop and for Paho's sending thread. A quick command's result takes
 * it along instead; a burst still sends one state per window.
 */
void agent_state_with_result(struct agent *a)
{
	if (!a->state_timer ||
	    loop_now_ms() - a->state_sent_ms < AGENT_STATE_COALESCE_MS)
		return;
	loop_timer_cancel(a->loop, a->state_timer);
	agent_state_publish(a);
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
	uint64_t refused, dropped;
	cJSON *mq;

	cJSON_AddStringToObject(o, "version", ZB_VERSION);
	/* So a client finds a group's members in their retained state. */
	if (a->cfg->agent.n_groups) {
		cJSON *g = cJSON_AddArrayToObject(o, "groups");

		for (int i = 0; g && i < a->cfg->agent.n_groups; i++)
			cJSON_AddItemToArray(
				g, cJSON_CreateString(a->cfg->agent.groups[i]));
	}
	cJSON_AddNumberToObject(o, "uptime_s",
				(double)((loop_now_ms() - a->start_ms) / 1000));
	cJSON_AddNumberToObject(o, "started", (double)a->start_unix);
	cJSON_AddNumberToObject(o, "commands", (double)a->commands);
	cJSON_AddNumberToObject(o, "command_errors", (double)a->errors);
	mq = cJSON_AddObjectToObject(o, "mqtt");
	cJSON_AddNumberToObject(mq, "protocol", mqtt_version(a->mqtt));
	cJSON_AddStringToObject(mq, "transport",
				a->cfg->mqtt.tls ? "tls" : "tcp");
	if (a->transport) {
		const char *host;
		unsigned int port;
		char broker[CONFIG_STR_MAX + 8];

		transport_broker(a->transport, &host, &port);
		snprintf(broker, sizeof(broker), "%s:%u", host, port);
		cJSON_AddStringToObject(mq, "broker", broker);
	}
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
	mqtt_inbound(a->mqtt, &refused, &dropped);
	if (refused)
		cJSON_AddNumberToObject(mq, "refused", (double)refused);
	if (dropped)
		cJSON_AddNumberToObject(mq, "inbound_dropped", (double)dropped);
	/* How late the loop has served anything since start (issue 17),
	 * and its longest round of work. */
	cJSON *lp = cJSON_AddObjectToObject(o, "loop");

	cJSON_AddNumberToObject(lp, "max_lag_ms",
				(double)loop_max_lag_ms(a->loop));
	cJSON_AddNumberToObject(lp, "max_busy_ms",
				(double)loop_max_busy_ms(a->loop));
	return o;
}

/* ---- session events ---- */

static void agent_on_online(void *data)
{
	struct agent *a = data;
	const char *host;
	unsigned int port;

	transport_broker(a->transport, &host, &port);
	log_info("connected to %s:%u (MQTT %s), serving %s", host, port,
		 mqtt_version(a->mqtt) == 5 ? "5" : "3.1.1", a->topics.base);
	/* Status first, then the results that waited for the broker. */
	if (mqtt_publish(a->mqtt, a->topics.pub[TOPIC_STATUS], "online", 6, 1,
			 true, NULL, 0) == -EAGAIN)
		outbox_publish(a->outbox, a->topics.pub[TOPIC_STATUS], "online",
			       6, 1, true, NULL, 0);
	outbox_flush(a->outbox);
	/* This broker may not have it (restarted, or another one). */
	free(a->state_sent);
	a->state_sent = NULL;
	agent_state_dirty(a);
	for (size_t i = 0; i < commands_n_caps; i++)
		if (a->self[i] && commands_caps[i]->online)
			commands_caps[i]->online(a->self[i]);
	notify_status("connected to %s:%u", host, port);
}

static void agent_on_offline(void *data, const char *why)
{
	struct agent *a = data;
	const char *detail = transport_last_error(a->transport);
	const char *host;
	unsigned int port;

	transport_broker(a->transport, &host, &port);
	a->link_error_at = (uint64_t)time(NULL);
	snprintf(a->link_error, sizeof(a->link_error), "%s",
		 detail[0] ? detail : why);
	log_warn("broker %s:%u: %s", host, port, a->link_error);
	notify_status("broker %s:%u: %s", host, port, a->link_error);
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

/* ---- the server's USB state ---- */

static void agent_on_host(void *data, enum udc_state old, enum udc_state now)
{
	log_info("host USB state: %s -> %s", udc_state_name(old),
		 udc_state_name(now));
}

/* ---- capabilities ---- */

int agent_cap_attach(struct agent *a, size_t i)
{
	const struct cap_def *d = commands_caps[i];
	char msg[600] = "";
	void *self = NULL;
	int r;

	if (a->attached[i])
		return 0;
	a->attached[i] = true;
	r = d->attach(&a->cap, &self, msg, sizeof(msg));
	a->self[i] = self;
	*(void **)((char *)&a->h + d->handle_offset) = self;
	if (r && d->required) {
		log_error("%s", msg[0] ? msg : strerror(-r));
		return r;
	}
	if (r)
		log_warn("%s: %s", d->name, msg[0] ? msg : strerror(-r));
	else if (msg[0])
		log_info("%s: %s", d->name, msg);
	return 0;
}

static size_t agent_cap_index(const struct cap_def *d)
{
	size_t i = 0;

	while (i < commands_n_caps && commands_caps[i] != d)
		i++;
	return i;
}

/* Every job cancelled and answered, in reverse order; nothing freed. */
static void agent_caps_stop(struct agent *a)
{
	for (size_t i = commands_n_caps; i-- > 0;)
		if (a->self[i] && commands_caps[i]->stop)
			commands_caps[i]->stop(a->self[i]);
}

static void agent_caps_detach(struct agent *a)
{
	agent_caps_stop(a);
	for (size_t i = commands_n_caps; i-- > 0;) {
		const struct cap_def *d = commands_caps[i];

		if (a->self[i])
			d->detach(a->self[i]);
		a->self[i] = NULL;
		a->attached[i] = false;
		*(void **)((char *)&a->h + d->handle_offset) = NULL;
	}
}

/* ---- the gadget ---- */

static int agent_before_bind(const struct gadget_info *info, void *user)
{
	struct agent *a = user;

	/* The saved image goes back into the LUN before the host sees the
	 * gadget: the media row attaches here, ahead of its turn. */
	if (!a->cfg->media.lun[0] && info->nluns > 0)
		snprintf(a->cfg->media.lun, sizeof(a->cfg->media.lun), "%s",
			 info->lun[0]);
	return agent_cap_attach(a, agent_cap_index(&media_cap));
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
	/* Every job is answered before the session ends. */
	agent_caps_stop(a);
	outbox_flush(a->outbox);
	mqtt_publish(a->mqtt, a->topics.pub[TOPIC_STATUS], "offline", 7, 1,
		     true, NULL, 0);
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
	a->signal_fd = signals_open();
	if (a->signal_fd < 0)
		return a->signal_fd;
	return loop_fd_add(a->loop, a->signal_fd, POLLIN, agent_on_signal, a);
}

/* ---- setup ---- */

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

static int agent_session(struct agent *a)
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

	r = transport_new(a->loop, a->cfg, agent_on_transport, a, &a->transport,
			  err, sizeof(err));
	if (r) {
		log_error("transport: %s", err);
		return r;
	}
	will.topic = a->topics.pub[TOPIC_STATUS];
	will.payload = "offline";
	r = mqtt_new(a->loop, a->cfg, transport_local_uri(a->transport), &will,
		     &cbs, a, &a->mqtt, err, sizeof(err));
	if (r) {
		log_error("mqtt: %s", err);
		return r;
	}
	r = outbox_new(a->loop, a->mqtt, &a->outbox);
	if (r)
		return r;
	outbox_on_space(a->outbox, agent_outbox_space, a);
	mqtt_add_subscription(a->mqtt, a->topics.cmd_filter);
	for (int i = 0; i < a->topics.n_groups; i++)
		mqtt_add_subscription(a->mqtt, a->topics.group_filter[i]);
	return 0;
}

static void agent_session_end(struct agent *a)
{
	outbox_free(a->outbox);
	mqtt_free(a->mqtt);
	transport_free(a->transport);
	a->outbox = NULL;
	a->mqtt = NULL;
	a->transport = NULL;
}

static int agent_own_state(struct agent *a)
{
	return state_provider_add(&a->state, NULL, agent_state_json, a);
}

static void agent_state_end(struct agent *a)
{
	state_free(&a->state);
	free(a->state_sent);
	a->state_sent = NULL;
}

static int agent_caps(struct agent *a)
{
	int r;

	for (size_t i = 0; i < commands_n_caps; i++) {
		r = agent_cap_attach(a, i);
		if (r)
			return r;
	}
	if (a->h.host)
		hostwatch_listen(a->h.host, agent_on_host, a);
	return 0;
}

static void agent_signals_end(struct agent *a)
{
	if (a->signal_fd >= 0) {
		loop_fd_del(a->loop, a->signal_fd);
		close(a->signal_fd);
	}
	a->signal_fd = -1;
}

/*
 * Setup in order, teardown in reverse. The session comes before the
 * capabilities (they subscribe); the gadget before them too, so that the
 * keyboard and console open the devices it made; the media row attaches
 * inside the gadget step, before the host sees the gadget.
 */
static const struct {
	int (*setup)(struct agent *a);
	void (*teardown)(struct agent *a);
} agent_steps[] = {
	{agent_signals, agent_signals_end}, {agent_own_state, agent_state_end},
	{agent_session, agent_session_end}, {agent_gadget, NULL},
	{agent_caps, agent_caps_detach},
};
#define AGENT_STEPS (sizeof(agent_steps) / sizeof(agent_steps[0]))

int agent_init(struct agent *a, struct config *cfg, struct loop *l)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->loop = l;
	a->signal_fd = -1;
	a->start_ms = loop_now_ms();
	a->start_unix = (uint64_t)time(NULL);
	a->cap = (struct cap){
		.agent = a,
		.ops = &agent_cap_ops,
		.loop = l,
		.cfg = cfg,
		.topics = &a->topics,
		.state = &a->state,
		.h = &a->h,
	};
	srandom((unsigned int)(a->start_unix ^ (uint64_t)getpid()));
	r = topics_init(&a->topics, cfg->agent.base_topic, cfg->agent.id,
			(const char(*)[TOPICS_ID_MAX + 1]) cfg->agent.groups,
			cfg->agent.n_groups);
	if (r) {
		log_error("topics for %s/%s do not fit", cfg->agent.base_topic,
			  cfg->agent.id);
		return r;
	}
	for (size_t i = 0; i < AGENT_STEPS; i++) {
		r = agent_steps[i].setup(a);
		if (r)
			return r;
	}
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
	for (size_t i = AGENT_STEPS; i-- > 0;)
		if (agent_steps[i].teardown)
			agent_steps[i].teardown(a);
}
