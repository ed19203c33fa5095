/*
 * systemd notifications through libsystemd's sd_notify(), which sends one
 * datagram to $NOTIFY_SOCKET and returns: nothing here waits.
 */
#include "firmware/core/notify.h"

#include <stdarg.h>
#include <stdio.h>

#ifdef ZB_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* One agent per process, so the notifier's state is the module's. */
static struct {
	struct loop *loop;
	int timer;
	unsigned long interval_ms;
} notify;

#ifdef ZB_HAVE_SYSTEMD

static void notify_watchdog(void *data)
{
	notify.timer = 0;
	sd_notify(0, "WATCHDOG=1");
	/* Half the interval: one late turn of the loop is not a kill. */
	loop_timer_rearm(notify.loop, &notify.timer, notify.interval_ms / 2,
			 notify_watchdog, NULL);
}

int notify_start(struct loop *l)
{
	uint64_t usec = 0;
	int r;

	notify.loop = l;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		notify.interval_ms = (unsigned long)(usec / 1000);
		loop_timer_rearm(l, &notify.timer, notify.interval_ms / 2,
				 notify_watchdog, NULL);
	}
	r = sd_notify(0, "READY=1");
	return r < 0 ? r : 0;
}

void notify_status(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", line);
}

void notify_stopping(void)
{
	if (notify.timer)
		loop_timer_cancel(notify.loop, notify.timer);
	notify.timer = 0;
	sd_notify(0, "STOPPING=1");
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
