/*
 * The libgpiod (1.6, GPIO character device) backend. Outputs are
 * requested with their inactive value as the default, so the kernel sets
 * direction and level in one step and a press never glitches at start;
 * active_low is the kernel's ACTIVE_LOW flag, so values here are logical.
 * The LED input is requested for edge events: its fd sits in the loop's
 * poll(), made non-blocking so a drain never waits.
 */
#include "firmware/power/power.h"

#ifdef ZB_HAVE_GPIOD

#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct power_gpiod {
	struct gpiod_chip *chip;
	struct gpiod_line *line[POWER_LINE_COUNT];
	int ev_fd;
};

static const char *const pg_line_names[POWER_LINE_COUNT] = {
	"power_line", "reset_line", "power_led_line"};

static void power_gpiod_ctx_release(struct power_gpiod *g)
{
	for (int i = 0; i < POWER_LINE_COUNT; i++)
		if (g->line[i])
			gpiod_line_release(g->line[i]);
	if (g->chip)
		gpiod_chip_close(g->chip);
	free(g);
}

static int power_gpiod_claim(struct power_gpiod *g,
			     const struct power_gpio_cfg *cfg, int i, char *err,
			     size_t errlen)
{
	bool low = i == POWER_LINE_LED ? cfg->led_active_low : cfg->active_low;
	int flags = low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
	struct gpiod_line *line;
	int r;

	line = gpiod_chip_get_line(g->chip, (unsigned int)cfg->line[i]);
	if (!line) {
		r = -errno;
		snprintf(err, errlen, "[power] %s %d: no such line on %s (%s)",
			 pg_line_names[i], cfg->line[i], cfg->chip,
			 strerror(-r));
		return r;
	}
	if (i == POWER_LINE_LED) {
		/* An optocoupler pulls an active-low LED input down; the
		 * internal pull-up holds it high otherwise. */
		if (low)
			flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
		r = gpiod_line_request_both_edges_events_flags(
			line, cfg->consumer, flags);
	} else {
		/* Default value 0 is the logical (inactive) level. */
		r = gpiod_line_request_output_flags(line, cfg->consumer, flags,
						    0);
	}
	if (r) {
		r = -errno;
		snprintf(err, errlen, "[power] %s %d on %s: %s",
			 pg_line_names[i], cfg->line[i], cfg->chip,
			 r == -EBUSY ? "in use by another program (gpioinfo "
				       "shows the consumer)"
				     : strerror(-r));
		return r;
	}
	g->line[i] = line;
	return 0;
}

static int power_gpiod_request(const struct power_gpio_cfg *cfg, void **ctx,
			       char *err, size_t errlen)
{
	struct power_gpiod *g = calloc(1, sizeof(*g));
	int r;

	if (!g)
		return -ENOMEM;
	g->ev_fd = -1;
	g->chip = gpiod_chip_open_lookup(cfg->chip);
	if (!g->chip) {
		r = errno ? -errno : -ENODEV;
		snprintf(err, errlen, "[power] gpio_chip %s: %s%s", cfg->chip,
			 strerror(-r),
			 r == -EACCES ? " (run as root or give the user the "
					"gpio group)"
				      : "");
		goto fail;
	}
	for (int i = 0; i < POWER_LINE_COUNT; i++) {
		if (cfg->line[i] < 0)
			continue;
		r = power_gpiod_claim(g, cfg, i, err, errlen);
		if (r)
			goto fail;
	}
	if (g->line[POWER_LINE_LED]) {
		int fl;

		g->ev_fd = gpiod_line_event_get_fd(g->line[POWER_LINE_LED]);
		fl = g->ev_fd < 0 ? -1 : fcntl(g->ev_fd, F_GETFL);
		if (fl < 0 || fcntl(g->ev_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			r = -errno;
			snprintf(err, errlen, "[power] LED event fd: %s",
				 strerror(-r));
			goto fail;
		}
	}
	*ctx = g;
	return 0;
fail:
	power_gpiod_ctx_release(g);
	return r;
}

static int power_gpiod_set(void *ctx, enum power_line line, bool active)
{
	struct power_gpiod *g = ctx;

	if (line >= POWER_LINE_LED || !g->line[line])
		return -EINVAL;
	if (gpiod_line_set_value(g->line[line], active ? 1 : 0))
		return -errno;
	return 0;
}

static int power_gpiod_get(void *ctx, enum power_line line, bool *active)
{
	struct power_gpiod *g = ctx;
	int v;

	if ((unsigned)line >= POWER_LINE_COUNT || !g->line[line])
		return -EINVAL;
	v = gpiod_line_get_value(g->line[line]);
	if (v < 0)
		return -errno;
	*active = v == 1;
	return 0;
}

static int power_gpiod_event_fd(void *ctx)
{
	return ((struct power_gpiod *)ctx)->ev_fd;
}

static void power_gpiod_event_drain(void *ctx)
{
	struct power_gpiod *g = ctx;
	struct gpiod_line_event ev[16];

	/* The value is read afterwards; the edges only say "changed". */
	while (g->ev_fd >= 0 &&
	       gpiod_line_event_read_fd_multiple(g->ev_fd, ev, 16) > 0)
		;
}

static void power_gpiod_release(void *ctx)
{
	power_gpiod_ctx_release(ctx);
}

static const struct power_gpio_ops pg_ops = {
	.name = "gpiod",
	.request = power_gpiod_request,
	.set = power_gpiod_set,
	.get = power_gpiod_get,
	.event_fd = power_gpiod_event_fd,
	.event_drain = power_gpiod_event_drain,
	.release = power_gpiod_release,
};

const struct power_gpio_ops *power_gpiod_ops(void)
{
	return &pg_ops;
}

#else

const struct power_gpio_ops *power_gpiod_ops(void)
{
	return NULL;
}

#endif
