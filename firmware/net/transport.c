#include "firmware/net/transport.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRANSPORT_BUF (16 * 1024)

struct transport_buf {
	char data[TRANSPORT_BUF];
	size_t head, len; /* unsent bytes are data[head .. head+len) */
};

enum transport_phase {
	PH_IDLE,
	PH_RESOLVING,
	PH_CONNECTING,
	PH_HANDSHAKE,
	PH_RELAY,
};

struct transport {
	struct loop *loop;
	const struct config *cfg;
	const struct transport_stream_ops *ops;
	transport_event_cb cb;
	void *cb_data;
	int listen_fd;
	char local_uri[64];
	char last_error[256];

	enum transport_phase phase;
	int local_fd; /* Paho's connection, accepted */
	int up_fd;    /* the broker */
	void *stream;
	short up_want; /* what the stream waits for, during handshake */
	struct transport_buf to_broker, to_local;
	uint64_t last_rx_ms; /* when the broker last sent anything */
	int watchdog;	     /* timer: the broker's silence */
	int resolve_pipe[2];
	struct addrinfo *addrs, *next_addr;
};

static void transport_set_error(struct transport *t, const char *fmt,
				const char *detail)
{
	snprintf(t->last_error, sizeof(t->last_error), fmt, detail);
}

/* ---- plain TCP stream ---- */

static int plain_create(const struct config *c, void **ctx, char *err,
			size_t errlen)
{
	*ctx = NULL;
	return 0;
}

static int plain_handshake(void *ctx, int fd, short *want, char *err,
			   size_t errlen)
{
	return 0;
}

static ssize_t plain_recv(void *ctx, int fd, void *buf, size_t n, short *want,
			  char *err, size_t errlen)
{
	ssize_t r = recv(fd, buf, n, 0);

	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EINTR) {
		*want = POLLIN;
		return -EAGAIN;
	}
	snprintf(err, errlen, "TCP receive: %s", strerror(errno));
	return -errno;
}

static ssize_t plain_send(void *ctx, int fd, const void *buf, size_t n,
			  short *want, char *err, size_t errlen)
{
	ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);

	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EINTR) {
		*want = POLLOUT;
		return -EAGAIN;
	}
	snprintf(err, errlen, "TCP send: %s", strerror(errno));
	return -errno;
}

static size_t plain_pending(void *ctx)
{
	return 0;
}

static void plain_destroy(void *ctx)
{
}

const struct transport_stream_ops transport_plain_ops = {
	.name = "tcp",
	.create = plain_create,
	.handshake = plain_handshake,
	.recv = plain_recv,
	.send = plain_send,
	.pending = plain_pending,
	.destroy = plain_destroy,
};

/* ---- session lifetime ---- */

static void transport_update_events(struct transport *t);

static void transport_close_session(struct transport *t)
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

static void transport_fail(struct transport *t, enum transport_event ev)
{
	transport_close_session(t);
	t->cb(t->cb_data, ev, t->last_error);
}

/* ---- relay ---- */

static void transport_update_events(struct transport *t)
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

static int transport_flush_to_broker(struct transport *t)
{
	struct transport_buf *b = &t->to_broker;
	char err[200] = "";

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
	}
	b->head = 0;
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
static size_t transport_buf_space(struct transport_buf *b, char **where)
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

static void transport_relay(struct transport *t)
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

static void transport_handshake(struct transport *t)
{
	char err[256] = "";
	short want = 0;
	int r = t->ops->handshake(t->stream, t->up_fd, &want, err, sizeof(err));

	if (r == -EAGAIN) {
		t->up_want = want;
		transport_update_events(t);
		return;
	}
	if (r < 0) {
		transport_set_error(t, "%s", err[0] ? err : strerror(-r));
		transport_fail(t, TRANSPORT_FAILED);
		return;
	}
	t->phase = PH_RELAY;
	t->up_want = 0;
	t->last_error[0] = '\0';
	t->last_rx_ms = loop_now_ms();
	loop_timer_rearm(t->loop, &t->watchdog, transport_silence_ms(t),
			 transport_watchdog, t);
	/* On success a stream may describe the session (TLS version, suite). */
	t->cb(t->cb_data, TRANSPORT_UP, err[0] ? err : t->ops->name);
	/* Paho's CONNECT may already be waiting in the buffer. */
	transport_relay(t);
}

static void transport_connect_next(struct transport *t);

static void transport_set_sockopts(int fd)
{
	int one = 1, idle = 30, intvl = 10, cnt = 3;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static void transport_on_up(int fd, short revents, void *data)
{
	struct transport *t = data;

	if (t->phase == PH_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		char err[256] = "";

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			transport_set_error(
				t,
				soerr == ECONNREFUSED
					? "TCP connect refused%s"
					: "TCP connect failed: %s",
				soerr == ECONNREFUSED ? "" : strerror(soerr));
			loop_fd_del(t->loop, t->up_fd);
			close(t->up_fd);
			t->up_fd = -1;
			transport_connect_next(t);
			return;
		}
		transport_set_sockopts(fd);
		if (t->ops->create(t->cfg, &t->stream, err, sizeof(err))) {
			transport_set_error(t, "%s", err);
			transport_fail(t, TRANSPORT_FAILED);
			return;
		}
		t->phase = PH_HANDSHAKE;
		transport_handshake(t);
		return;
	}
	if (t->phase == PH_HANDSHAKE) {
		transport_handshake(t);
		return;
	}
	if (t->phase == PH_RELAY) {
		if ((revents & (POLLERR | POLLHUP)) && !(revents & POLLIN)) {
			transport_set_error(t, "%s",
					    "connection to the broker lost");
			transport_fail(t, TRANSPORT_CLOSED);
			return;
		}
		t->up_want = 0;
		transport_relay(t);
	}
}

static void transport_connect_next(struct transport *t)
{
	while (t->next_addr) {
		struct addrinfo *ai = t->next_addr;
		int fd;

		t->next_addr = ai->ai_next;
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			transport_set_error(t, "socket: %s", strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
		    errno != EINPROGRESS) {
			transport_set_error(t, "TCP connect failed: %s",
					    strerror(errno));
			close(fd);
			continue;
		}
		t->up_fd = fd;
		t->phase = PH_CONNECTING;
		loop_fd_add(t->loop, fd, POLLOUT, transport_on_up, t);
		return;
	}
	transport_fail(t, TRANSPORT_FAILED);
}

/*
 * Name resolution can take seconds, so it runs on a short-lived thread
 * that hands the result back through a pipe: the loop never waits.
 */
struct transport_resolve_job {
	char host[CONFIG_STR_MAX];
	char port[8];
	int fd;
};

static void *transport_resolve_thread(void *arg)
{
	struct transport_resolve_job *job = arg;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(job->host, job->port, &hints, &res);
	struct {
		int rc;
		struct addrinfo *res;
	} msg = {rc, res};

	if (write(job->fd, &msg, sizeof(msg)) != sizeof(msg) && res)
		freeaddrinfo(res);
	close(job->fd);
	free(job);
	return NULL;
}

static void transport_on_resolved(int fd, short revents, void *data)
{
	struct transport *t = data;
	struct {
		int rc;
		struct addrinfo *res;
	} msg;
	ssize_t n = read(fd, &msg, sizeof(msg));

	loop_fd_del(t->loop, fd);
	close(fd);
	t->resolve_pipe[0] = -1;
	if (n != sizeof(msg) || msg.rc) {
		transport_set_error(t, "DNS lookup of the broker failed: %s",
				    n == sizeof(msg) ? gai_strerror(msg.rc)
						     : "resolver died");
		transport_fail(t, TRANSPORT_FAILED);
		return;
	}
	t->addrs = msg.res;
	t->next_addr = msg.res;
	transport_connect_next(t);
}

static int transport_start_upstream(struct transport *t)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct transport_resolve_job *job;
	char port[8];
	pthread_t th;
	pthread_attr_t attr;

	snprintf(port, sizeof(port), "%u", t->cfg->mqtt.port);
	if (getaddrinfo(t->cfg->mqtt.host, port, &hints, &t->addrs) == 0) {
		t->next_addr = t->addrs;
		transport_connect_next(t);
		return 0;
	}
	job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	if (pipe2(t->resolve_pipe, O_CLOEXEC)) {
		free(job);
		return -errno;
	}
	snprintf(job->host, sizeof(job->host), "%s", t->cfg->mqtt.host);
	snprintf(job->port, sizeof(job->port), "%s", port);
	job->fd = t->resolve_pipe[1];
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, transport_resolve_thread, job)) {
		pthread_attr_destroy(&attr);
		close(t->resolve_pipe[0]);
		close(t->resolve_pipe[1]);
		t->resolve_pipe[0] = -1;
		free(job);
		return -EAGAIN;
	}
	pthread_attr_destroy(&attr);
	t->phase = PH_RESOLVING;
	return loop_fd_add(t->loop, t->resolve_pipe[0], POLLIN,
			   transport_on_resolved, t);
}

/* ---- the local endpoint ---- */

/*
 * What a connection still on its way waits for: when Paho gives up on
 * it (its connect timeout), this is the reason, not Paho's own words.
 */
static const char *transport_pending_why(const struct transport *t)
{
	static const char *const why[] = {
		[PH_RESOLVING] = "DNS lookup of the broker timed out",
		[PH_CONNECTING] = "TCP connect to the broker timed out",
		[PH_HANDSHAKE] = "the broker did not finish the TLS handshake "
				 "in time",
	};

	if (t->local_fd < 0 || (size_t)t->phase >= sizeof(why) / sizeof(why[0]))
		return NULL;
	return why[t->phase];
}

static void transport_note_abandoned(struct transport *t)
{
	const char *why = transport_pending_why(t);

	if (why)
		transport_set_error(t, "%s", why);
}

static void transport_on_local(int fd, short revents, void *data)
{
	struct transport *t = data;

	if (t->phase != PH_RELAY) {
		/* Keep what Paho sends until the broker is there. */
		if (revents & POLLIN) {
			char *where;
			size_t room =
				transport_buf_space(&t->to_broker, &where);
			ssize_t r = room ? recv(fd, where, room, 0) : 0;

			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				transport_note_abandoned(t);
				transport_close_session(t);
				return;
			}
			if (r > 0)
				t->to_broker.len += (size_t)r;
		}
		transport_update_events(t);
		return;
	}
	if (revents & POLLIN) {
		for (;;) {
			char *where;
			size_t room =
				transport_buf_space(&t->to_broker, &where);
			ssize_t r;

			if (!room)
				break;
			r = recv(fd, where, room, 0);
			if (r > 0) {
				t->to_broker.len += (size_t)r;
				continue;
			}
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			/* Paho closed its side: a disconnect. */
			transport_close_session(t);
			return;
		}
	} else if (revents & (POLLHUP | POLLERR)) {
		transport_close_session(t);
		return;
	}
	transport_relay(t);
}

/*
 * The peer of an accepted connection must be one of this process's own
 * sockets: walk /proc/self/fd for a socket whose local address is the
 * peer's address. Paho's socket is found that way, and gets TCP_NODELAY,
 * which Paho itself never sets.
 */
static int transport_peer_is_own(int accepted)
{
	struct sockaddr_in peer, mine;
	socklen_t pl = sizeof(peer);
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (getpeername(accepted, (struct sockaddr *)&peer, &pl))
		return 0;
	d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		struct stat st;
		socklen_t ml = sizeof(mine);
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || fd == accepted || fd == dirfd(d))
			continue;
		if (fstat((int)fd, &st) || !S_ISSOCK(st.st_mode))
			continue;
		if (getsockname((int)fd, (struct sockaddr *)&mine, &ml) ||
		    mine.sin_family != AF_INET)
			continue;
		if (mine.sin_port == peer.sin_port &&
		    mine.sin_addr.s_addr == peer.sin_addr.s_addr) {
			int one = 1;

			setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			found = 1;
		}
	}
	closedir(d);
	return found;
}

static void transport_on_accept(int fd, short revents, void *data)
{
	struct transport *t = data;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int one = 1;

	if (c < 0)
		return;
	if (!transport_peer_is_own(c)) {
		close(c);
		t->cb(t->cb_data, TRANSPORT_REFUSED_PEER,
		      "a connection to the local endpoint from another "
		      "process was refused");
		return;
	}
	/* Paho reconnecting: the old session is over. */
	transport_close_session(t);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t->local_fd = c;
	loop_fd_add(t->loop, c, POLLIN, transport_on_local, t);
	if (transport_start_upstream(t) < 0) {
		transport_set_error(t, "%s", "cannot start the connection");
		transport_fail(t, TRANSPORT_FAILED);
	}
}

int transport_new(struct loop *l, const struct config *c, transport_event_cb cb,
		  void *data, struct transport **out, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
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
	t->listen_fd =
		socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->listen_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(t->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(t->listen_fd, 4) ||
	    getsockname(t->listen_fd, (struct sockaddr *)&sa, &sl)) {
		r = -errno;
		snprintf(err, errlen, "local endpoint: %s", strerror(errno));
		goto fail;
	}
	snprintf(t->local_uri, sizeof(t->local_uri), "tcp://127.0.0.1:%u",
		 ntohs(sa.sin_port));
	r = loop_fd_add(l, t->listen_fd, POLLIN, transport_on_accept, t);
	if (r) {
		snprintf(err, errlen, "loop: %s", strerror(-r));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	free(t);
	return r;
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	transport_close_session(t);
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
