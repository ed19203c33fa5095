/*
 * The one event loop: every source is a non-blocking fd in poll(), plus
 * one-shot timers on the monotonic clock. Only the loop's thread touches
 * state; other threads wake it through an eventfd they own.
 */
#ifndef ZB_LOOP_H
#define ZB_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

typedef void (*loop_fd_cb)(int fd, short revents, void *data);
typedef void (*loop_timer_cb)(void *data);

struct loop *loop_new(void);
void loop_free(struct loop *l);

int loop_fd_add(struct loop *l, int fd, short events, loop_fd_cb cb,
		void *data);
int loop_fd_events(struct loop *l, int fd, short events);
int loop_fd_del(struct loop *l, int fd);

/* One-shot timer; returns an id > 0 or a negative errno. */
int loop_timer_add(struct loop *l, uint64_t after_ms, loop_timer_cb cb,
		   void *data);
void loop_timer_cancel(struct loop *l, int id);
/* Cancel *id if set, then start a new one and store its id. */
int loop_timer_rearm(struct loop *l, int *id, uint64_t after_ms,
		     loop_timer_cb cb, void *data);

/* Runs until loop_quit(); returns 0 or a negative errno. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);

/*
 * The most the loop has been late since it was made, in ms: a timer
 * served after its due time, or an fd served after poll() reported it
 * (the time the callbacks before it took).
 */
uint64_t loop_max_lag_ms(const struct loop *l);
/*
 * The most CPU time the loop thread spent in one round (the callbacks
 * between two polls), in ms: the loop's own work, which a loaded
 * machine's other processes do not add to as they do to the lag.
 */
uint64_t loop_max_busy_ms(const struct loop *l);

uint64_t loop_now_ms(void);
uint64_t loop_now_us(void);

#endif
