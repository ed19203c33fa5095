/*
 * systemd's service notifications (Type=notify): READY=1 once the agent
 * runs, WATCHDOG=1 from a loop timer at half of WatchdogSec (so a loop
 * that stops turning gets the agent restarted), STATUS= lines for
 * `systemctl status`, and STOPPING=1 at shutdown. Built with
 * -DZB_SYSTEMD=OFF, or outside systemd, every call does nothing.
 */
#ifndef ZB_NOTIFY_H
#define ZB_NOTIFY_H

#include "firmware/core/loop.h"

/*
 * Say READY=1 and start the watchdog timer if systemd asked for one.
 * Returns 0, or a negative errno if the notification failed.
 */
int notify_start(struct loop *l);
/* A one-line status for `systemctl status`. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_stopping(void);

#endif
