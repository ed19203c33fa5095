#include "firmware/host/phase.h"

#include <stddef.h>

static const char *const phase_names[PHASE_COUNT] = {
	[PHASE_UNKNOWN] = "unknown",
	[PHASE_OFF] = "off",
	[PHASE_FIRMWARE] = "firmware",
	[PHASE_BOOTING_MEDIA] = "booting-media",
	[PHASE_OS] = "os",
	[PHASE_ASLEEP] = "asleep",
};

const char *phase_name(enum phase ph)
{
	return ph < PHASE_COUNT ? phase_names[ph] : "unknown";
}

void phase_init(struct phase_ctx *p, const struct phase_tuning *t,
		uint64_t now_ms)
{
	p->phase = PHASE_UNKNOWN;
	p->evidence = "agent started: nothing seen yet";
	p->since_ms = now_ms;
	p->enumerated_ms = 0;
	p->usb = UDC_STATE_UNKNOWN;
	p->left_configured = false;
	p->tune = *t;
}

/*
 * The rules. A row applies when the signal matches, the current phase is
 * in its mask (0: any), and its condition (if any) holds; the first row
 * that applies decides. "keep" rows record that the signal was seen
 * without changing the phase.
 */
enum phase_cond {
	COND_NONE,
	COND_USB_CONFIGURED,
	COND_USB_SUSPENDED,
	COND_USB_DOWN,	  /* not attached, powered, attached */
	COND_USB_RESET,	  /* default, addressed: enumeration under way */
	COND_REENUM_LATE, /* configured again, long after the last time */
	COND_REENUM,	  /* configured again after dropping */
};

#define M(ph) (1u << (ph))
#define KEEP PHASE_COUNT

static const struct phase_rule {
	enum phase_signal sig;
	unsigned int from; /* mask of phases, 0: any */
	enum phase_cond cond;
	enum phase to; /* KEEP: no change */
	const char *evidence;
} phase_rules[] = {
	{PHASE_SIG_USB, 0, COND_USB_SUSPENDED, PHASE_ASLEEP,
	 "USB suspended by the host"},
	{PHASE_SIG_USB, 0, COND_USB_DOWN, PHASE_OFF,
	 "USB link down: server off or unplugged"},
	{PHASE_SIG_USB, 0, COND_USB_RESET, KEEP, NULL},
	{PHASE_SIG_USB, M(PHASE_ASLEEP), COND_USB_CONFIGURED, PHASE_OS,
	 "resumed from suspend"},
	{PHASE_SIG_USB, M(PHASE_FIRMWARE) | M(PHASE_BOOTING_MEDIA),
	 COND_REENUM_LATE, PHASE_OS,
	 "re-enumerated after the firmware: the OS's USB driver"},
	{PHASE_SIG_USB, M(PHASE_OS), COND_REENUM, PHASE_FIRMWARE,
	 "re-enumerated while the OS ran: rebooted"},
	{PHASE_SIG_USB, M(PHASE_FIRMWARE) | M(PHASE_BOOTING_MEDIA), COND_REENUM,
	 KEEP, NULL},
	{PHASE_SIG_USB, 0, COND_USB_CONFIGURED, PHASE_FIRMWARE,
	 "host enumerated the gadget, no OS signs yet"},
	{PHASE_SIG_MEDIA_READ, M(PHASE_FIRMWARE) | M(PHASE_UNKNOWN), COND_NONE,
	 PHASE_BOOTING_MEDIA, "reads of the virtual media after enumeration"},
	{PHASE_SIG_CONSOLE, ~(M(PHASE_OFF)), COND_NONE, PHASE_OS,
	 "console output from the server"},
	{PHASE_SIG_KB_DEAD,
	 M(PHASE_OS) | M(PHASE_FIRMWARE) | M(PHASE_BOOTING_MEDIA), COND_NONE,
	 PHASE_UNKNOWN, "the host stopped taking keyboard reports"},
	{PHASE_SIG_LED, 0, COND_NONE, KEEP, NULL},
	{PHASE_SIG_RESTART, ~(M(PHASE_OFF)), COND_NONE, PHASE_FIRMWARE,
	 "reset by the agent: the firmware starts"},
};

static bool phase_cond_holds(const struct phase_ctx *p, enum phase_cond c,
			     enum udc_state usb, uint64_t now)
{
	switch (c) {
	case COND_NONE:
		return true;
	case COND_USB_CONFIGURED:
		return usb == UDC_STATE_CONFIGURED;
	case COND_USB_SUSPENDED:
		return usb == UDC_STATE_SUSPENDED;
	case COND_USB_DOWN:
		return usb == UDC_STATE_NOT_ATTACHED ||
		       usb == UDC_STATE_ATTACHED || usb == UDC_STATE_POWERED;
	case COND_USB_RESET:
		return usb == UDC_STATE_DEFAULT || usb == UDC_STATE_ADDRESSED ||
		       usb == UDC_STATE_RECONNECTING ||
		       usb == UDC_STATE_UNAUTHENTICATED;
	case COND_REENUM_LATE:
		return usb == UDC_STATE_CONFIGURED && p->left_configured &&
		       p->enumerated_ms &&
		       now - p->enumerated_ms >= p->tune.reenum_min_ms;
	case COND_REENUM:
		return usb == UDC_STATE_CONFIGURED && p->left_configured;
	}
	return false;
}

bool phase_feed(struct phase_ctx *p, enum phase_signal sig, enum udc_state usb,
		uint64_t now_ms)
{
	const struct phase_rule *hit = NULL;
	bool changed = false;

	if (sig != PHASE_SIG_USB)
		usb = p->usb;
	for (size_t i = 0; i < sizeof(phase_rules) / sizeof(phase_rules[0]);
	     i++) {
		const struct phase_rule *r = &phase_rules[i];

		if (r->sig != sig)
			continue;
		if (r->from && !(r->from & M(p->phase)))
			continue;
		if (!phase_cond_holds(p, r->cond, usb, now_ms))
			continue;
		hit = r;
		break;
	}
	if (hit && hit->to != KEEP && hit->to != p->phase) {
		p->phase = hit->to;
		p->evidence = hit->evidence;
		p->since_ms = now_ms;
		changed = true;
	} else if (hit && hit->to != KEEP && hit->evidence) {
		p->evidence = hit->evidence;
	}
	if (sig == PHASE_SIG_RESTART) {
		/*
		 * The next enumeration is the firmware's, however long the
		 * server sat in its firmware before: forget the last one, so
		 * that it is not taken for an OS's driver.
		 */
		p->enumerated_ms = 0;
		p->left_configured = false;
	}
	if (sig == PHASE_SIG_USB) {
		if (usb == UDC_STATE_CONFIGURED) {
			p->enumerated_ms = now_ms;
			p->left_configured = false;
		} else if (usb != UDC_STATE_SUSPENDED) {
			/* A suspend and resume is not a re-enumeration. */
			p->left_configured = true;
		}
		p->usb = usb;
	}
	return changed;
}
