/*
 * The fake GPIO backend of the tests. Only test programs link it: the
 * unit tests, and zerobmc-fakegpio, the agent built for the integration
 * tests with this backend in place of libgpiod's.
 */
#ifndef ZB_POWER_FAKE_H
#define ZB_POWER_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/power/power.h"

/*
 * The fake backend (tests): records every request and set with a
 * monotonic timestamp. When cfg->chip names a plain file, each record is
 * also appended to it as "<us> <line> req|set <0|1>\n" (line: power,
 * reset), and the LED reads "<chip>.led" ("1" lit, anything else dark),
 * watched with inotify: the stand-in the integration tests use.
 */
extern const struct power_gpio_ops power_fake_ops;

struct power_fake_rec {
	uint64_t t_us;
	enum power_line line;
	bool active;
	bool request; /* the line was claimed with this default */
};
#define POWER_FAKE_RECS 256
/* The records of a fake context (from power_gpio_ctx()). */
const struct power_fake_rec *power_fake_records(void *ctx, size_t *n);
/* Make the fake LED lit or dark; the event fd fires (memory mode). */
void power_fake_set_led(void *ctx, bool lit);
/* The next set() fails with this errno (0: none). */
void power_fake_fail_next(void *ctx, int err);

#endif
