/*
 * The local endpoint on 127.0.0.1 that Paho connects to. It accepts
 * only this process's own sockets, and keeps what Paho sends until the
 * broker is there.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/net/transport_priv.h"

/*
 * What a connection still on its way waits for: when Paho gives up on
 * it (its connect timeout), this is the reason, not Paho's own words.
 */
const char *transport_pending_why(const struct transport *t)
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

int transport_local_open(struct transport *t, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int r;

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
	r = loop_fd_add(t->loop, t->listen_fd, POLLIN, transport_on_accept, t);
	if (r) {
		snprintf(err, errlen, "loop: %s", strerror(-r));
		goto fail;
	}
	return 0;
fail:
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	t->listen_fd = -1;
	return r;
}
