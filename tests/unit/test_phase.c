/* The phase inference rules against recorded event sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/host/phase.h"

struct step {
	uint64_t t;
	enum phase_signal sig;
	enum udc_state usb;
	enum phase expect;
};

#define U(t, st, ex)                                                           \
	{                                                                      \
		t, PHASE_SIG_USB, UDC_STATE_##st, PHASE_##ex                   \
	}
#define S(t, sig, ex)                                                          \
	{                                                                      \
		t, PHASE_SIG_##sig, UDC_STATE_UNKNOWN, PHASE_##ex              \
	}

static void run(const struct step *s, size_t n)
{
	struct phase_tuning tune = {.reenum_min_ms = 5000};
	struct phase_ctx p;

	phase_init(&p, &tune, 0);
	for (size_t i = 0; i < n; i++) {
		phase_feed(&p, s[i].sig, s[i].usb, s[i].t);
		if (p.phase != s[i].expect)
			fail_msg("step %zu: phase %s, expected %s (%s)", i,
				 phase_name(p.phase), phase_name(s[i].expect),
				 p.evidence);
		assert_non_null(p.evidence);
	}
}

/* OVMF boots from the virtual media: enumeration, LEDs, reads. */
static void test_firmware_boots_media(void **state)
{
	static const struct step s[] = {
		U(100, DEFAULT, UNKNOWN),
		U(150, ADDRESSED, UNKNOWN),
		U(200, CONFIGURED, FIRMWARE),
		S(900, LED, FIRMWARE),
		S(3000, MEDIA_READ, BOOTING_MEDIA),
		S(3500, MEDIA_READ, BOOTING_MEDIA),
	};

	run(s, sizeof(s) / sizeof(s[0]));
}

/* A Linux from the media: its xhci driver re-enumerates, then console. */
static void test_linux_takes_over(void **state)
{
	static const struct step s[] = {
		U(200, CONFIGURED, FIRMWARE),
		S(3000, MEDIA_READ, BOOTING_MEDIA),
		U(9000, DEFAULT, BOOTING_MEDIA),
		U(9100, CONFIGURED, OS),
		S(12000, CONSOLE, OS),
	};

	run(s, sizeof(s) / sizeof(s[0]));
}

/* The firmware's own quick re-enumeration is not an OS. */
static void test_firmware_reenumerates_early(void **state)
{
	static const struct step s[] = {
		U(200, CONFIGURED, FIRMWARE),
		U(700, DEFAULT, FIRMWARE),
		U(800, CONFIGURED, FIRMWARE),
	};

	run(s, sizeof(s) / sizeof(s[0]));
}

/* Reboot from the OS, sleep and wake, power off. */
static void test_reboot_sleep_off(void **state)
{
	static const struct step s[] = {
		U(200, CONFIGURED, FIRMWARE), S(1000, CONSOLE, OS),
		U(50000, DEFAULT, OS),	      U(50100, CONFIGURED, FIRMWARE),
		S(60000, CONSOLE, OS),	      U(70000, SUSPENDED, ASLEEP),
		U(80000, CONFIGURED, OS),     U(90000, NOT_ATTACHED, OFF),
		S(90500, CONSOLE, OFF),
	};

	run(s, sizeof(s) / sizeof(s[0]));
}

/* A server that vanishes without a USB change is never a wrong "os". */
static void test_host_gone_without_usb_change(void **state)
{
	static const struct step s[] = {
		U(200, CONFIGURED, FIRMWARE),
		S(1000, CONSOLE, OS),
		S(20000, KB_DEAD, UNKNOWN),
		U(30000, CONFIGURED, FIRMWARE),
	};

	run(s, sizeof(s) / sizeof(s[0]));
}

/*
 * The agent presses the reset pin of a server that sat in its firmware
 * for minutes: the firmware's enumeration after the reset is late, but
 * it is no OS's driver. (The lab's Redfish ForceRestart showed phase os
 * here and never booting-media while the medium booted.)
 */
static void test_reset_by_the_agent_in_firmware(void **state)
{
	static const struct step s[] = {
		U(200, CONFIGURED, FIRMWARE),
		S(120000, RESTART, FIRMWARE),
		U(120300, DEFAULT, FIRMWARE),
		U(121000, CONFIGURED, FIRMWARE),
		S(125000, MEDIA_READ, BOOTING_MEDIA),
		U(140000, DEFAULT, BOOTING_MEDIA),
		U(140100, CONFIGURED, OS),
	};

	run(s, sizeof(s) / sizeof(s[0]));
}

/* A reset while the OS runs: the firmware comes next. */
static void test_reset_by_the_agent_in_os(void **state)
{
	static const struct step s[] = {
		U(200, CONFIGURED, FIRMWARE),	S(3000, CONSOLE, OS),
		S(60000, RESTART, FIRMWARE),	U(60300, DEFAULT, FIRMWARE),
		U(61000, CONFIGURED, FIRMWARE),
	};

	run(s, sizeof(s) / sizeof(s[0]));
}

static void test_names(void **state)
{
	assert_string_equal(phase_name(PHASE_BOOTING_MEDIA), "booting-media");
	assert_string_equal(phase_name(PHASE_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firmware_boots_media),
		cmocka_unit_test(test_linux_takes_over),
		cmocka_unit_test(test_firmware_reenumerates_early),
		cmocka_unit_test(test_reboot_sleep_off),
		cmocka_unit_test(test_host_gone_without_usb_change),
		cmocka_unit_test(test_reset_by_the_agent_in_firmware),
		cmocka_unit_test(test_reset_by_the_agent_in_os),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
