/*
 * The power capability (agent/cap.h): builds the power module from
 * [power], serves cmd/power and the reset pin of `reboot hard`, and
 * publishes state.power. Other capabilities (macros) press buttons on
 * the module through power_cap_power().
 */
#ifndef ZB_POWER_CAP_H
#define ZB_POWER_CAP_H

#include "firmware/agent/cap.h"

struct power;
struct power_cap;
struct power_gpio_ops;

/* After host: it listens to the USB state and finds the UDC's srp file. */
extern const struct cap_def power_cap;

/* The module (NULL when pc is NULL). */
struct power *power_cap_power(struct power_cap *pc);
/*
 * `reboot hard` for another capability's command: the reset pin, or an
 * error (through c, the caller's interface) suggesting reboot sysrq.
 */
void power_cap_reboot_hard(struct power_cap *pc, const struct cap *c,
			   struct cmd_req *req);
/*
 * The GPIO backend to use instead of libgpiod's: only the tests' build
 * of the agent calls this, with the fake backend of tests/fake/.
 */
void power_cap_set_backend(const struct power_gpio_ops *ops);

#endif
