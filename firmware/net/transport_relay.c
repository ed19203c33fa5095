/*
 * The bytes between Paho's local socket and the broker's: two ring
 * buffers, and a watchdog for a broker that went silent.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "firmware/net/transport_priv.h"

void transport_update_events(struct transport *t)
{
	short le = 0, ue = 0;

	if (t->local_fd >= 0) {
		if (t->to_broker.len < TRANSPORT_BUF)
			le |= POLLIN;
		if (t->to_local.len)
			le |= POLLOUT;
		loop_fd_events(t->loop, t->local_fd, le);
	}
	if (t->up_fd < 0)
		return;
	switch (t->phase) {
	case PH_CONNECTING:
		ue = POLLOUT;
		break;
	case PH_HANDSHAKE:
		ue = t->up_want ? t->up_want : POLLIN;
		break;
	case PH_RELAY:
		if (t->to_local.len < TRANSPORT_BUF)
			ue |= POLLIN;
		if (t->to_broker.len)
			ue |= POLLOUT;
		if (t->up_want)
			ue |= t->up_want;
		break;
	default:
		break;
	}
	loop_fd_events(t->loop, t->up_fd, ue);
}

/*
 * A broker with Nagle on (mosquitto's default) holds a small packet while
 * an earlier one waits for our ACK, and Linux delays that ACK by up to
 * 40 ms when we have nothing to send back: the broker's PUBACK for a
 * result then holds back the next command. Quick ACKs end the wait; the
 * kernel drops the mode again on its own (sending makes the connection
 * look interactive), so it is re-armed after every read and every send.
 */
static void transport_quickack(struct transport *t)
{
	int one = 1;

	setsockopt(t->up_fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int transport_flush_to_broker(struct transport *t)
{
	struct transport_buf *b = &t->to_broker;
	char err[200] = "";
	bool sent = false;

	while (b->len) {
		short want = 0;
		size_t chunk = b->len;
		ssize_t r;

		if (b->head + chunk > TRANSPORT_BUF)
			chunk = TRANSPORT_BUF - b->head;
		r = t->ops->send(t->stream, t->up_fd, b->data + b->head, chunk,
				 &want, err, sizeof(err));
		if (r == -EAGAIN) {
			t->up_want = want;
			return 0;
		}
		if (r < 0) {
			transport_set_error(t, "%s", err);
			return (int)r;
		}
		b->head = (b->head + (size_t)r) % TRANSPORT_BUF;
		b->len -= (size_t)r;
		sent = true;
	}
	b->head = 0;
	if (sent)
		transport_quickack(t);
	return 0;
}

static int transport_flush_to_local(struct transport *t)
{
	struct transport_buf *b = &t->to_local;

	while (b->len) {
		size_t chunk = b->len;
		ssize_t r;

		if (b->head + chunk > TRANSPORT_BUF)
			chunk = TRANSPORT_BUF - b->head;
		r = send(t->local_fd, b->data + b->head, chunk, MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r < 0) {
			transport_set_error(t, "local endpoint: %s",
					    strerror(errno));
			return -errno;
		}
		b->head = (b->head + (size_t)r) % TRANSPORT_BUF;
		b->len -= (size_t)r;
	}
	b->head = 0;
	return 0;
}

/* Append into the free part of a ring buffer; returns bytes taken. */
size_t transport_buf_space(struct transport_buf *b, char **where)
{
	size_t tail = (b->head + b->len) % TRANSPORT_BUF;
	size_t room = TRANSPORT_BUF - b->len;

	if (tail + room > TRANSPORT_BUF)
		room = TRANSPORT_BUF - tail;
	*where = b->data + tail;
	return room;
}

static int transport_read_broker(struct transport *t)
{
	char err[200] = "";

	for (;;) {
		char *where;
		size_t room = transport_buf_space(&t->to_local, &where);
		short want = 0;
		ssize_t r;

		if (!room)
			return 0;
		r = t->ops->recv(t->stream, t->up_fd, where, room, &want, err,
				 sizeof(err));
		if (r == -EAGAIN) {
			t->up_want = want == POLLIN ? 0 : want;
			transport_quickack(t);
			return 0;
		}
		if (r < 0) {
			transport_set_error(t, "%s", err);
			return (int)r;
		}
		if (r == 0) {
			transport_set_error(t, "%s",
					    "broker closed the connection");
			return -ECONNRESET;
		}
		t->to_local.len += (size_t)r;
		t->last_rx_ms = loop_now_ms();
	}
}

void transport_relay(struct transport *t)
{
	/*
	 * A TLS stream may hold decrypted bytes that the socket no longer
	 * signals (the buffer towards Paho was full when they came): move
	 * them on as long as Paho takes them.
	 */
	do {
		if (transport_flush_to_broker(t) || transport_read_broker(t) ||
		    transport_flush_to_local(t)) {
			transport_fail(t, TRANSPORT_CLOSED);
			return;
		}
	} while (!t->to_local.len && t->ops->pending(t->stream));
	transport_update_events(t);
}

/*
 * Paho pings after a keepalive of quiet, but notices a broker that
 * stopped answering only about 2.5 keepalives later. Every ping gets an
 * answer, so the relay ends the session after 1.5 keepalives (the
 * broker's own rule for silent clients) plus a second of slack.
 */
static uint64_t transport_silence_ms(const struct transport *t)
{
	return (uint64_t)t->cfg->mqtt.keepalive * 1500 + 1000;
}

static void transport_watchdog(void *data)
{
	struct transport *t = data;
	uint64_t limit = transport_silence_ms(t);
	uint64_t quiet = loop_now_ms() - t->last_rx_ms;
	char why[128];

	t->watchdog = 0;
	if (t->phase != PH_RELAY)
		return;
	if (quiet < limit) {
		loop_timer_rearm(t->loop, &t->watchdog, limit - quiet,
				 transport_watchdog, t);
		return;
	}
	snprintf(why, sizeof(why),
		 "the broker stopped answering (nothing for %llu s, keepalive "
		 "%d s)",
		 (unsigned long long)(quiet / 1000), t->cfg->mqtt.keepalive);
	transport_set_error(t, "%s", why);
	transport_fail(t, TRANSPORT_CLOSED);
}

/* The handshake is done: relay, and watch the broker's silence. */
void transport_relay_start(struct transport *t)
{
	t->phase = PH_RELAY;
	t->up_want = 0;
	t->last_error[0] = '\0';
	t->last_rx_ms = loop_now_ms();
	loop_timer_rearm(t->loop, &t->watchdog, transport_silence_ms(t),
			 transport_watchdog, t);
}
