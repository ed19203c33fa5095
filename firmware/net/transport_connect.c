/*
 * The way to the broker: name resolution off the loop, a non-blocking
 * connect to each address in turn, then the stream's handshake.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firmware/net/transport_priv.h"

static void transport_on_up(int fd, short revents, void *data);

void transport_handshake_done(struct transport *t, int r, const char *err)
{
	if (r < 0) {
		transport_set_error(t, "%s", err[0] ? err : strerror(-r));
		transport_fail(t, TRANSPORT_FAILED);
		return;
	}
	/* Back from a handshake thread: the socket is the loop's again. */
	if (t->ops->off_loop &&
	    loop_fd_add(t->loop, t->up_fd, 0, transport_on_up, t)) {
		transport_set_error(t, "%s", "loop: cannot watch the socket");
		transport_fail(t, TRANSPORT_FAILED);
		return;
	}
	transport_relay_start(t);
	/* On success a stream may describe the session (TLS version, suite). */
	t->cb(t->cb_data, TRANSPORT_UP, err[0] ? err : t->ops->name);
	/* Paho's CONNECT may already be waiting in the buffer. */
	transport_relay(t);
}

/* A stream whose handshake is quick (plain TCP) runs it in the loop. */
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
	transport_handshake_done(t, r, err);
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
		int soerr = 0, r;
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
		t->phase = PH_HANDSHAKE;
		if (t->ops->off_loop) {
			r = transport_hs_start(t);
			if (r) {
				transport_set_error(t,
						    "TLS handshake thread: %s",
						    strerror(-r));
				transport_fail(t, TRANSPORT_FAILED);
			}
			return;
		}
		if (t->ops->create(t->cfg, &t->stream, err, sizeof(err))) {
			transport_set_error(t, "%s", err);
			transport_fail(t, TRANSPORT_FAILED);
			return;
		}
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

void transport_broker(const struct transport *t, const char **host,
		      unsigned int *port)
{
	if (t->cfg->mqtt.n_brokers > t->broker) {
		*host = t->cfg->mqtt.brokers[t->broker].host;
		*port = t->cfg->mqtt.brokers[t->broker].port;
	} else {
		*host = t->cfg->mqtt.host;
		*port = t->cfg->mqtt.port;
	}
}

int transport_start_upstream(struct transport *t)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct transport_resolve_job *job;
	char port[8];
	pthread_t th;
	pthread_attr_t attr;
	const char *host;
	unsigned int portn;

	if (t->broker_failed && t->cfg->mqtt.n_brokers > 1)
		t->broker = (t->broker + 1) % t->cfg->mqtt.n_brokers;
	t->broker_failed = false;
	transport_broker(t, &host, &portn);
	snprintf(port, sizeof(port), "%u", portn);
	if (getaddrinfo(host, port, &hints, &t->addrs) == 0) {
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
	snprintf(job->host, sizeof(job->host), "%s", host);
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
