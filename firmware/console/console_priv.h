/* Inside the console capability: shared by console.c and console_cmd.c. */
#ifndef ZB_CONSOLE_PRIV_H
#define ZB_CONSOLE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/console/console.h"
#include "firmware/console/console_history.h"
#include "firmware/console/console_last.h"
#include "firmware/console/console_lines.h"
#include "firmware/console/console_out.h"
#include "firmware/console/console_ring.h"
#include "firmware/core/listeners.h"

/* Paho's queue is full: try again this soon. */
#define CONSOLE_RETRY_MS 1
/* The device is missing or went away without a hostwatch to tell. */
#define CONSOLE_REOPEN_MS 1000
#define CONSOLE_REOPEN_MAX_MS 30000
/* The state's line count and last line are republished at most this often. */
#define CONSOLE_STATE_MS 250
/* Reads per wakeup, so that a flood leaves the loop room for the rest. */
#define CONSOLE_READS_MAX 8
#define CONSOLE_READ_SIZE 16384
/*
 * While the broker is there but slow, a ring this full stops reading the
 * device: the host waits (serial flow control) instead of losing lines.
 * Reading resumes below the low mark. Offline, reading never stops: the
 * host must not hang, so the oldest lines go instead.
 */
#define CONSOLE_PAUSE_HIGH(cap) ((cap) / 4 * 3)
#define CONSOLE_PAUSE_LOW(cap) ((cap) / 2)
/*
 * Lines go out at QoS 1 and stay in the ring until the broker has them
 * (issue 17: a broker restart must not lose them uncounted); at most this
 * many wait for acknowledgement, so results keep room in the broker's
 * window (20 on a default mosquitto).
 */
#define CONSOLE_INFLIGHT_MAX 8
/* The tag of the lost-lines marker; lines are tagged by sequence. */
#define CONSOLE_MARKER_TAG UINT64_MAX

struct console {
	const struct cap *cap;
	struct loop *loop;
	const struct config *cfg;
	int fd;
	bool paused;
	bool backlog; /* lines waited in the ring since the last state */
	int idle_timer, pump_timer, reopen_timer, deadline_timer, state_timer;
	uint32_t reopen_ms; /* grows while the device stays away */
	struct console_lines lines;
	struct console_ring ring;
	struct console_history hist;
	struct console_out out;
	uint64_t nlines, lost, lost_pending;
	uint64_t marker_out; /* the count the marker in flight says */
	char last[CONSOLE_LAST_MAX];
	char error[CONFIG_PATH_MAX + 64];
	char raw_topic[TOPICS_MAX + 8];
	char pub[CONSOLE_LINE_OUT_MAX];
	struct listeners listeners;
};

/* Write what cmd/console queued, as far as the device takes it. */
void console_write(struct console *c);

/* cmd/console (console_cmd.c), and the end of each of its writes. */
void console_cmd(void *self, struct cmd_req *req);
void console_out_done(void *data, void *vreq, int err, size_t written,
		      size_t total);

#endif
