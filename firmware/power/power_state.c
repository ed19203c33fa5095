/*
 * What the server's power state is, from what can be seen: the power LED
 * (a measurement) or the UDC state (an inference, and said to be one).
 */
#include "firmware/power/power.h"

/*
 * The UDC state says whether a host drives the bus, not whether the
 * server is on, so every row is a guess. A server that is off but keeps
 * standby power on its USB port looks "suspended" or "powered"; one that
 * is on but never enumerates the gadget looks "default".
 */
static const struct power_infer_row infer_table[UDC_STATE_COUNT] = {
	{UDC_STATE_NOT_ATTACHED, POWER_STATE_OFF,
	 "no USB host: the server is off, or its port is unpowered or "
	 "unplugged"},
	{UDC_STATE_ATTACHED, POWER_STATE_OFF,
	 "attached without bus power: the server is probably off"},
	{UDC_STATE_POWERED, POWER_STATE_OFF,
	 "bus power but no host activity: off with standby power on the "
	 "port, or firmware that ignores USB"},
	{UDC_STATE_RECONNECTING, POWER_STATE_UNKNOWN,
	 "the link is reconnecting"},
	{UDC_STATE_UNAUTHENTICATED, POWER_STATE_UNKNOWN,
	 "wireless USB state: says nothing about power"},
	{UDC_STATE_DEFAULT, POWER_STATE_OFF,
	 "bus reset but never enumerated: off with standby power on the "
	 "port, or firmware that ignores USB"},
	{UDC_STATE_ADDRESSED, POWER_STATE_ON,
	 "the host is enumerating the gadget: the server is on"},
	{UDC_STATE_CONFIGURED, POWER_STATE_ON,
	 "the host configured the gadget: the server is on (or asleep: "
	 "UDCs that never report suspend, such as dwc2, show a sleeping "
	 "host as configured)"},
	{UDC_STATE_SUSPENDED, POWER_STATE_ASLEEP,
	 "the host suspended the bus: the server sleeps (S3), or is off "
	 "with standby power on its port, or its OS suspended an idle port"},
	{UDC_STATE_UNKNOWN, POWER_STATE_UNKNOWN, "the UDC state is unknown"},
};

static const struct {
	enum power_led led;
	enum power_state state;
	const char *detail;
} led_table[] = {
	{POWER_LED_OFF, POWER_STATE_OFF, "the power LED is dark"},
	{POWER_LED_LIT, POWER_STATE_ON, "the power LED is lit"},
	{POWER_LED_BLINKING, POWER_STATE_ASLEEP,
	 "the power LED blinks: the server sleeps"},
};

const struct power_infer_row *power_infer_table(size_t *n)
{
	*n = sizeof(infer_table) / sizeof(infer_table[0]);
	return infer_table;
}

void power_status_from(enum power_led led, enum udc_state usb,
		       struct power_status *out)
{
	for (size_t i = 0; i < sizeof(led_table) / sizeof(led_table[0]); i++)
		if (led_table[i].led == led) {
			out->state = led_table[i].state;
			out->source = POWER_SOURCE_LED;
			out->inferred = false;
			out->detail = led_table[i].detail;
			return;
		}
	if ((unsigned)usb >= UDC_STATE_COUNT)
		usb = UDC_STATE_UNKNOWN;
	out->state = infer_table[usb].state;
	out->source =
		usb == UDC_STATE_UNKNOWN ? POWER_SOURCE_NONE : POWER_SOURCE_USB;
	out->inferred = out->source == POWER_SOURCE_USB;
	out->detail = usb == UDC_STATE_UNKNOWN
			      ? "no power LED wired and no UDC state to infer "
				"from"
			      : infer_table[usb].detail;
}

const char *power_state_name(enum power_state s)
{
	static const char *const names[] = {"unknown", "off", "on", "asleep"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s]
							      : "unknown";
}

const char *power_source_name(enum power_source s)
{
	static const char *const names[] = {"none", "power_led", "usb"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s]
							      : "none";
}

const char *power_led_name(enum power_led l)
{
	static const char *const names[] = {"unknown", "off", "lit",
					    "blinking"};

	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l]
							      : "unknown";
}
