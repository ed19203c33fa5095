/*
 * The transport's lifetime and public calls. The stream backends are in
 * transport_plain.c and transport_tls.c, the way to the broker in
 * transport_connect.c, the relay in transport_relay.c and the endpoint
 * Paho connects to in transport_local.c.
 */
#include "firmware/net/transport_priv.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void transport_set_error(struct transport *t, const char *fmt,
			 const char *detail)
{
	snprintf(t->last_error, sizeof(t->last_error), fmt, detail);
}

/* ---- session lifetime ---- */

void transport_close_session(struct transport *t)
{
	if (t->watchdog) {
		loop_timer_cancel(t->loop, t->watchdog);
		t->watchdog = 0;
	}
	if (t->local_fd >= 0) {
		loop_fd_del(t->loop, t->local_fd);
		close(t->local_fd);
		t->local_fd = -1;
	}
	/* A handshake on its thread ends there, on its own socket. */
	transport_hs_cancel(t);
	/* Before its socket closes: TLS says goodbye on it (close_notify). */
	if (t->stream) {
		t->ops->destroy(t->stream);
		t->stream = NULL;
	}
	if (t->up_fd >= 0) {
		loop_fd_del(t->loop, t->up_fd);
		close(t->up_fd);
		t->up_fd = -1;
	}
	if (t->resolve_pipe[0] >= 0) {
		loop_fd_del(t->loop, t->resolve_pipe[0]);
		close(t->resolve_pipe[0]);
		t->resolve_pipe[0] = -1;
	}
	if (t->addrs) {
		freeaddrinfo(t->addrs);
		t->addrs = NULL;
	}
	t->next_addr = NULL;
	t->to_broker.head = t->to_broker.len = 0;
	t->to_local.head = t->to_local.len = 0;
	t->phase = PH_IDLE;
}

void transport_fail(struct transport *t, enum transport_event ev)
{
	transport_close_session(t);
	/* The broker is gone or unreachable: the next session tries the
	 * next URI of the list, after Paho's back-off. */
	t->broker_failed = true;
	t->cb(t->cb_data, ev, t->last_error);
}

int transport_new(struct loop *l, const struct config *c, transport_event_cb cb,
		  void *data, struct transport **out, char *err, size_t errlen)
{
	struct transport *t = calloc(1, sizeof(*t));
	void *probe = NULL;
	int r;

	if (!t)
		return -ENOMEM;
	t->loop = l;
	t->cfg = c;
	t->cb = cb;
	t->cb_data = data;
	t->local_fd = t->up_fd = -1;
	t->resolve_pipe[0] = t->resolve_pipe[1] = -1;
	t->ops = c->mqtt.tls ? &transport_tls_ops : &transport_plain_ops;
	/*
	 * An unreadable key, certificate or PSK file is a configuration
	 * error: say so at start, not at every reconnect.
	 */
	r = t->ops->create(c, &probe, err, errlen);
	if (r) {
		free(t);
		return r;
	}
	t->ops->destroy(probe);
	if (t->ops->off_loop) {
		r = transport_hs_new(t);
		if (r) {
			snprintf(err, errlen, "handshake thread: %s",
				 strerror(-r));
			free(t);
			return r;
		}
	}
	r = transport_local_open(t, err, errlen);
	if (r) {
		transport_hs_free(t);
		free(t);
		return r;
	}
	*out = t;
	return 0;
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	transport_close_session(t);
	transport_hs_free(t);
	loop_fd_del(t->loop, t->listen_fd);
	close(t->listen_fd);
	free(t);
}

const char *transport_local_uri(const struct transport *t)
{
	return t->local_uri;
}

const char *transport_last_error(const struct transport *t)
{
	const char *pending = transport_pending_why(t);

	return pending ? pending : t->last_error;
}
