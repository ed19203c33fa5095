/*
 * Input for the serial console: the bytes of each `cmd/console` queued in
 * order and written as the device takes them, never blocking. Each job
 * has a deadline; a host that does not read makes it fail with the
 * number of bytes that did go out, so nothing is half-written silently.
 */
#ifndef ZB_CONSOLE_OUT_H
#define ZB_CONSOLE_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of what waits for the device. */
#define CONSOLE_OUT_JOBS_MAX 64
#define CONSOLE_OUT_BYTES_MAX (256 * 1024)

/*
 * A job ended: err is 0 (all written), -ETIMEDOUT (deadline), or the
 * error given to console_out_fail_all(). req is the caller's pointer.
 */
typedef void (*console_out_done_cb)(void *data, void *req, int err,
				    size_t written, size_t total);

struct console_out_job;

struct console_out {
	struct console_out_job *head, *tail;
	size_t jobs, bytes;
	console_out_done_cb done;
	void *data;
};

void console_out_init(struct console_out *o, console_out_done_cb done,
		      void *data);
/* Queue a copy of bytes; -ENOSPC past the limits, -ENOMEM. */
int console_out_add(struct console_out *o, void *req, const void *bytes,
		    size_t len, uint64_t deadline_ms);
/*
 * Write what fd takes now. Returns 0 when all is written, -EAGAIN when
 * bytes wait for POLLOUT, or the negative errno of a failed write (the
 * jobs stay queued: the caller decides).
 */
int console_out_write(struct console_out *o, int fd);
/* Fail the jobs whose deadline is past. */
void console_out_expire(struct console_out *o, uint64_t now_ms);
/* Fail every job with err. */
void console_out_fail_all(struct console_out *o, int err);
bool console_out_pending(const struct console_out *o);
/* The first job's deadline; 0 when none waits. */
uint64_t console_out_deadline(const struct console_out *o);

#endif
