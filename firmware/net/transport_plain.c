/* The plain TCP stream: the socket as it is. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "firmware/net/transport.h"

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
