/*
 * systemd notifications: one datagram to the socket named in
 * $NOTIFY_SOCKET, sent without waiting, as sd_notify() does. The protocol
 * is this small, and libsystemd with the libraries it pulls in (gcrypt,
 * lzma, zstd, lz4, cap) cost every agent 1 MiB of RSS.
 */
#include "firmware/core/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* One agent per process, so the notifier's state is the module's. */
static struct {
	struct loop *loop;
	int timer;
	unsigned long interval_ms;
} notify;

#ifdef ZB_HAVE_SYSTEMD

/* > 0 sent, 0 not under systemd (no $NOTIFY_SOCKET), < 0 -errno. */
static int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	socklen_t salen;
	ssize_t n;
	int fd, r;

	if (!path || !path[0])
		return 0;
	len = strlen(path);
	/* A path, or "@name" for the abstract namespace. */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
		   (struct sockaddr *)&sa, salen);
	r = n < 0 ? -errno : 1;
	close(fd);
	return r;
}

/* WatchdogSec= in microseconds, if meant for this process; else 0. */
static unsigned long long notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long v;

	if (!usec)
		return 0;
	if (pid && strtol(pid, &end, 10) != (long)getpid())
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	return errno || *end || end == usec ? 0 : v;
}

static void notify_watchdog(void *data)
{
	notify.timer = 0;
	notify_send("WATCHDOG=1");
	/* Half the interval: one late turn of the loop is not a kill. */
	loop_timer_rearm(notify.loop, &notify.timer, notify.interval_ms / 2,
			 notify_watchdog, NULL);
}

int notify_start(struct loop *l)
{
	unsigned long long usec = notify_watchdog_usec();
	int r;

	notify.loop = l;
	if (usec >= 2000) {
		notify.interval_ms = (unsigned long)(usec / 1000);
		loop_timer_rearm(l, &notify.timer, notify.interval_ms / 2,
				 notify_watchdog, NULL);
	}
	r = notify_send("READY=1");
	return r < 0 ? r : 0;
}

void notify_status(const char *fmt, ...)
{
	char line[256] = "STATUS=";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + 7, sizeof(line) - 7, fmt, ap);
	va_end(ap);
	notify_send(line);
}

void notify_stopping(void)
{
	if (notify.timer)
		loop_timer_cancel(notify.loop, notify.timer);
	notify.timer = 0;
	notify_send("STOPPING=1");
}

#else

int notify_start(struct loop *l)
{
	notify.loop = l;
	return 0;
}

void notify_status(const char *fmt, ...)
{
}

void notify_stopping(void)
{
}

#endif
