/*
 * What the server is doing, inferred from what the gadget sees: USB
 * enumeration and suspend, keyboard LEDs, reads of the virtual media,
 * console output. An inference, not a measurement: every phase carries
 * the evidence it was derived from. The rules are a table in phase.c and
 * are documented in topics/README.md.
 */
#ifndef ZB_PHASE_H
#define ZB_PHASE_H

#include <stdbool.h>
#include <stdint.h>

#include "gadget/udc.h"

enum phase {
	PHASE_UNKNOWN,
	PHASE_OFF,
	PHASE_FIRMWARE,
	PHASE_BOOTING_MEDIA,
	PHASE_OS,
	PHASE_ASLEEP,
	PHASE_COUNT
};

enum phase_signal {
	PHASE_SIG_USB,	      /* a new UDC state (with .usb) */
	PHASE_SIG_LED,	      /* the host changed the keyboard LEDs */
	PHASE_SIG_MEDIA_READ, /* the host read the virtual media */
	PHASE_SIG_CONSOLE,    /* a console line arrived */
	PHASE_SIG_KB_DEAD,    /* the host stopped taking keyboard reports */
	PHASE_SIG_RESTART,    /* the agent reset or power-cycled the server */
};

struct phase_tuning {
	/* A re-enumeration this long after the firmware's counts as the
	 * OS's USB driver taking over; sooner, as the firmware's own. */
	uint32_t reenum_min_ms;
};

struct phase_ctx {
	enum phase phase;
	const char *evidence;	/* static text */
	uint64_t since_ms;	/* when the phase was entered */
	uint64_t enumerated_ms; /* the last time USB became configured */
	enum udc_state usb;
	bool left_configured; /* USB dropped below configured since */
	struct phase_tuning tune;
};

void phase_init(struct phase_ctx *p, const struct phase_tuning *t,
		uint64_t now_ms);
/* Feed one signal; returns true if the phase changed. */
bool phase_feed(struct phase_ctx *p, enum phase_signal sig, enum udc_state usb,
		uint64_t now_ms);
const char *phase_name(enum phase ph);

#endif
