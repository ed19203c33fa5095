/*
 * The boot capability's data and texts: every firmware profile's keys
 * and navigation parse as the macro lines its attempts are built from,
 * and cmd/uefi's script checks, startup.nsh and output cleaning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/boot/boot_profiles.h"
#include "firmware/boot/uefi_script.h"
#include "firmware/macro/macro_parse.h"
#include "gadget/layout.h"

static const char *const names[] = {
	"ovmf", "dell", "hp",	    "lenovo", "intel-nuc", "supermicro",
	"asus", "msi",	"gigabyte", "asrock", "generic",
};

static void parses(const char *text)
{
	struct macro_script s;
	struct macro_error e;

	if (macro_parse(text, strlen(text), layout_find("us"), &s, &e)) {
		char msg[256];

		macro_error_format(&e, msg, sizeof(msg));
		fail_msg("%s\n-> %s", text, msg);
	}
	macro_script_free(&s);
}

static void test_profiles_parse(void **state)
{
	char buf[512], list[256];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct boot_profile *p = boot_profile_find(names[i]);

		assert_non_null(p);
		assert_string_equal(p->name, names[i]);
		snprintf(buf, sizeof(buf),
			 "SPAM %s 100ms 1s\nSPAM %s 100ms 1s\n", p->setup_keys,
			 p->menu_keys);
		parses(buf);
		snprintf(buf, sizeof(buf), "ENTER\n%s%s", p->menu_nav,
			 p->setup_nav);
		parses(buf);
		assert_true(p->usb_position < 32);
		assert_non_null(p->usb_entry);
	}
	assert_null(boot_profile_find("acme"));
	assert_null(boot_profile_find(""));
	boot_profile_names(list, sizeof(list));
	assert_non_null(strstr(list, "ovmf, dell"));
	assert_non_null(strstr(list, "generic"));
}

static void refused(const char *script, const char *want)
{
	char msg[256] = "";

	if (!uefi_script_check(script, msg, sizeof(msg)))
		fail_msg("accepted: %s", script);
	if (!strstr(msg, want))
		fail_msg("%s: \"%s\" lacks \"%s\"", script, msg, want);
}

static void test_script_check(void **state)
{
	char msg[256], *big;

	(void)state;
	assert_int_equal(uefi_script_check("bcfg boot dump -v\r\nver\n", msg,
					   sizeof(msg)),
			 0);
	/* A word that begins with reset is no reset. */
	assert_int_equal(uefi_script_check("resetx\n", msg, sizeof(msg)), 0);
	refused("", "empty");
	refused("ver\nreset", "must not reset");
	refused("  Reset -c\n", "must not reset");
	refused("echo \xc3\xa9", "line 1: byte 0xc3");
	refused("ver\necho \x07", "line 2: byte 0x07");
	refused(":zbend\n", "labels");
	big = malloc(UEFI_SCRIPT_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', UEFI_SCRIPT_MAX + 1);
	big[UEFI_SCRIPT_MAX + 1] = '\0';
	refused(big, "script too long");
	memset(big, 'a', UEFI_LINE_MAX + 1);
	big[UEFI_LINE_MAX + 1] = '\0';
	refused(big, "longer than 256");
	free(big);
}

static void test_startup(void **state)
{
	char *t;

	(void)state;
	t = uefi_startup("j1.id",
			 "bcfg boot dump\n# note\nif exist x then\n  ver\n"
			 "endif\necho a > b\r\n");
	assert_non_null(t);
	assert_non_null(strstr(t, "if exist fs%i:\\zerobmc\\j1.id then\r\n"));
	assert_non_null(
		strstr(t, "bcfg boot dump >>a %zbfs%\\zerobmc\\out.txt\r\n"));
	assert_non_null(strstr(t, "ver >>a %zbfs%\\zerobmc\\out.txt\r\n"));
	assert_non_null(strstr(t, "\r\n# note\r\nif exist x then\r\n"));
	assert_non_null(strstr(t, "\r\nendif\r\necho a > b\r\n"));
	assert_true(strstr(t, "echo a > b") < strstr(t, "done.txt"));
	assert_true(strstr(t, "done.txt") < strstr(t, "\r\nreset\r\n"));
	/* Every line ends CRLF: no bare LF. */
	for (const char *p = t; (p = strchr(p, '\n')); p++)
		assert_true(p > t && p[-1] == '\r');
	free(t);
}

/* The largest script of the shortest lines (each gains a redirection),
 * with CR alone as the line end too. */
static void test_startup_many_lines(void **state)
{
	char *s = malloc(UEFI_SCRIPT_MAX + 1), *t;
	size_t n = 0;

	(void)state;
	assert_non_null(s);
	while (n + 2 <= UEFI_SCRIPT_MAX) {
		s[n] = 'v';
		s[n + 1] = n % 4 ? '\r' : '\n';
		n += 2;
	}
	s[n] = '\0';
	assert_int_equal(uefi_script_check(s, (char[64]){0}, 64), 0);
	t = uefi_startup("j.id", s);
	assert_non_null(t);
	assert_non_null(strstr(t, "\r\nv >>a %zbfs%\\zerobmc\\out.txt\r\n"
				  "v >>a"));
	assert_non_null(strstr(t, "\r\nreset\r\n:zbend\r\n"));
	free(t);
	free(s);
}

static void test_output_clean(void **state)
{
	static const char raw[] = "a\r\nb\tc\xff\x01\n";
	char *t;

	(void)state;
	t = uefi_output_clean(raw, sizeof(raw) - 1);
	assert_string_equal(t, "a\nb\tc??\n");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles_parse),
		cmocka_unit_test(test_script_check),
		cmocka_unit_test(test_startup),
		cmocka_unit_test(test_startup_many_lines),
		cmocka_unit_test(test_output_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
