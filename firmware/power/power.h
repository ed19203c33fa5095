/*
 * Power: the server's ATX front-panel pins (power button, reset button,
 * power LED) through a GPIO backend, USB remote wakeup and Wake-on-LAN,
 * and the server's power state from the best evidence there is.
 *
 * - Output lines are requested at their inactive value, so claiming them
 *   never glitches a press; they are set inactive again before release.
 * - A press is a sequence of steps timed by loop timers: nothing sleeps.
 * - One action at a time: a second one gets -EBUSY.
 * - The state comes from the power-LED input when one is wired, and is
 *   otherwise inferred from the UDC state (clearly marked as inferred).
 *
 * Only the loop's thread calls these functions. Nothing here logs: errors
 * come back with a message.
 */
#ifndef ZB_POWER_H
#define ZB_POWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <netinet/in.h>

#include "firmware/core/loop.h"
#include "gadget/udc.h"

struct power;
struct cmd_req;

enum power_line {
	POWER_LINE_POWER, /* output: the power button */
	POWER_LINE_RESET, /* output: the reset button */
	POWER_LINE_LED,	  /* input: the power LED */
	POWER_LINE_COUNT
};

struct power_gpio_cfg {
	const char *chip;	    /* e.g. /dev/gpiochip0 */
	int line[POWER_LINE_COUNT]; /* offsets; -1: not wired */
	bool active_low;	    /* the button outputs */
	bool led_active_low;	    /* the LED input */
	const char *consumer;	    /* label shown by gpioinfo */
};

/*
 * A GPIO backend. Values are logical: true is "pressed" for an output and
 * "lit" for the LED; the backend applies active_low. request() must claim
 * the outputs already at their inactive value (never a transient active
 * level) and the LED as an input; err says what went wrong.
 */
struct power_gpio_ops {
	const char *name;
	int (*request)(const struct power_gpio_cfg *cfg, void **ctx, char *err,
		       size_t errlen);
	int (*set)(void *ctx, enum power_line line, bool active);
	int (*get)(void *ctx, enum power_line line, bool *active);
	/* An fd that polls readable when the LED input changes, or -1. */
	int (*event_fd)(void *ctx);
	/* Consume what made event_fd readable (never blocks). */
	void (*event_drain)(void *ctx);
	/* Release the lines; the kernel then owns their level (POWER.md). */
	void (*release)(void *ctx);
};

/* The libgpiod backend, or NULL when built without libgpiod. */
const struct power_gpio_ops *power_gpiod_ops(void);

/* ---- what the server is doing ---- */

enum power_state {
	POWER_STATE_UNKNOWN,
	POWER_STATE_OFF,
	POWER_STATE_ON,
	POWER_STATE_ASLEEP,
};

enum power_source {
	POWER_SOURCE_NONE,
	POWER_SOURCE_LED, /* measured: the power-LED input */
	POWER_SOURCE_USB, /* inferred: the UDC state */
};

enum power_led {
	POWER_LED_UNKNOWN,
	POWER_LED_OFF,
	POWER_LED_LIT,
	POWER_LED_BLINKING,
};

struct power_status {
	enum power_state state;
	enum power_source source;
	bool inferred;
	const char *detail;
};

/* One row of the inference table: what a UDC state says about power. */
struct power_infer_row {
	enum udc_state usb;
	enum power_state state;
	const char *detail;
};

/* The UDC-state inference table, UDC_STATE_COUNT rows in enum order. */
const struct power_infer_row *power_infer_table(size_t *n);
/* The status from the LED when known, else inferred from usb. */
void power_status_from(enum power_led led, enum udc_state usb,
		       struct power_status *out);
const char *power_state_name(enum power_state s);
const char *power_source_name(enum power_source s);
const char *power_led_name(enum power_led l);

/* LED edges: this many within POWER_BLINK_WINDOW_MS make "blinking". */
#define POWER_BLINK_EDGES 3
#define POWER_BLINK_WINDOW_MS 5000

/* ---- Wake-on-LAN ---- */

#define POWER_WOL_LEN 102
/* 6 x 0xff, then the MAC 16 times. */
void power_wol_packet(const uint8_t mac[6], uint8_t out[POWER_WOL_LEN]);
/*
 * Send one magic packet from a non-blocking UDP socket with SO_BROADCAST
 * (created on first use in *fd). Returns 0 or -errno with err filled in.
 */
int power_wol_send(int *fd, const uint8_t mac[6], const struct sockaddr_in *to,
		   char *err, size_t errlen);

/* ---- the module ---- */

enum power_action {
	POWER_ACT_ON,
	POWER_ACT_OFF,
	POWER_ACT_FORCE_OFF,
	POWER_ACT_RESET,
	POWER_ACT_CYCLE,
	POWER_ACT_WAKE,
	POWER_ACT_COUNT
};

struct power_cfg {
	const struct power_gpio_ops *ops; /* NULL: no GPIO support built */
	struct power_gpio_cfg gpio;
	uint32_t short_press_ms, long_press_ms, cycle_wait_ms;
	bool wol; /* wol_mac and wol_to are set */
	uint8_t wol_mac[6];
	struct sockaddr_in wol_to;
	const char *srp_path;  /* the UDC's srp file; "" or NULL: none */
	uint32_t wake_wait_ms; /* how long a USB wake waits for resume */
};

/* err is 0, -ECANCELED, or -errno with msg; extra (may be NULL) is the
 * result's extra members and is handed over. */
typedef void (*power_done_fn)(void *data, int err, const char *msg,
			      cJSON *extra);
typedef void (*power_changed_fn)(void *data);

/*
 * Build the module and claim the lines (none when gpio.chip is empty).
 * A GPIO failure is not fatal: the module is built, actions that need
 * the pins say why they cannot run, and *err holds the reason (also
 * when 0 is returned). Returns 0 or -ENOMEM.
 */
int power_new(struct loop *l, const struct power_cfg *cfg,
	      power_changed_fn changed, void *data, struct power **out,
	      char *err, size_t errlen);
/* Ends a running action (lines inactive, no callback), releases lines. */
void power_free(struct power *p);

int power_action_parse(const char *s, enum power_action *act);

/*
 * Start an action. force skips the check of the server's state (on only
 * if off, off only if on). Returns 0 (done is called later, exactly
 * once), or -EBUSY, -ENODEV (not wired), -EALREADY (state says no),
 * -ENOENT (nothing to wake with) or -errno, each with err filled in.
 */
int power_start(struct power *p, enum power_action act, bool force,
		power_done_fn done, void *data, char *err, size_t errlen);
/* End a running action now: lines inactive, done gets -ECANCELED. */
void power_cancel(struct power *p);
/*
 * fn is called when an action that restarts the server (reset, cycle)
 * has started. 0, or -ENOSPC when POWER_RESTART_LISTENERS listen.
 */
#define POWER_RESTART_LISTENERS 2
typedef void (*power_restart_fn)(void *data);
int power_listen_restart(struct power *p, power_restart_fn fn, void *data);
/* The running action's callback data, or NULL. */
void *power_pending(const struct power *p);
bool power_busy(const struct power *p);
bool power_wired(const struct power *p, enum power_line line);

/* The UDC state changed (the hostwatch). */
void power_set_usb(struct power *p, enum udc_state st);
void power_status(const struct power *p, struct power_status *out);
/* The "power" section of the state document. */
cJSON *power_state_json(void *power);
/* The backend's context, for tests with the fake backend. */
void *power_gpio_ctx(const struct power *p);

#endif
