/* The plain TCP stream: the socket as it is. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "firmware/net/transport.h"

static int transport_plain_create(const struct config *c, void **ctx, char *err,
				  size_t errlen)
{
	*ctx = NULL;
	return 0;
}

static int transport_plain_handshake(void *ctx, int fd, short *want, char *err,
				     size_t errlen)
{
	return 0;
}

static ssize_t transport_plain_recv(void *ctx, int fd, void *buf, size_t n,
				    short *want, char *err, size_t errlen)
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

static ssize_t transport_plain_send(void *ctx, int fd, const void *buf,
				    size_t n, short *want, char *err,
				    size_t errlen)
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

static size_t transport_plain_pending(void *ctx)
{
	return 0;
}

static void transport_plain_destroy(void *ctx)
{
}

const struct transport_stream_ops transport_plain_ops = {
	.name = "tcp",
	.create = transport_plain_create,
	.handshake = transport_plain_handshake,
	.recv = transport_plain_recv,
	.send = transport_plain_send,
	.pending = transport_plain_pending,
	.destroy = transport_plain_destroy,
};
