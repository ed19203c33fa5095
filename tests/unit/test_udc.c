/* UDC state names, parsing and reading, with plain temp files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gadget/udc.h"

/* The strings of the kernel's usb_state_string(), written out again. */
static const struct {
	enum udc_state st;
	const char *text;
} kernel_strings[] = {
	{UDC_STATE_NOT_ATTACHED, "not attached"},
	{UDC_STATE_ATTACHED, "attached"},
	{UDC_STATE_POWERED, "powered"},
	{UDC_STATE_RECONNECTING, "reconnecting"},
	{UDC_STATE_UNAUTHENTICATED, "unauthenticated"},
	{UDC_STATE_DEFAULT, "default"},
	{UDC_STATE_ADDRESSED, "addressed"},
	{UDC_STATE_CONFIGURED, "configured"},
	{UDC_STATE_SUSPENDED, "suspended"},
};

static void test_names_match_kernel(void **unused)
{
	size_t i;

	for (i = 0; i < sizeof(kernel_strings) / sizeof(kernel_strings[0]); i++)
		assert_string_equal(udc_state_name(kernel_strings[i].st),
				    kernel_strings[i].text);
	assert_string_equal(udc_state_name(UDC_STATE_UNKNOWN), "unknown");
	assert_string_equal(udc_state_name((enum udc_state)99), "unknown");
	assert_string_equal(udc_state_name((enum udc_state) - 1), "unknown");
}

static void test_parse_round_trip(void **unused)
{
	enum udc_state st;
	int i;

	for (i = 0; i < UDC_STATE_COUNT; i++) {
		const char *name = udc_state_name((enum udc_state)i);

		st = UDC_STATE_COUNT;
		assert_int_equal(udc_state_parse(name, strlen(name), &st), 0);
		assert_int_equal(st, i);
	}
}

static void test_parse_forms(void **unused)
{
	enum udc_state st;

	assert_int_equal(udc_state_parse("configured\n", 11, &st), 0);
	assert_int_equal(st, UDC_STATE_CONFIGURED);
	assert_int_equal(udc_state_parse("not attached\n", 13, &st), 0);
	assert_int_equal(st, UDC_STATE_NOT_ATTACHED);
	/* The kernel prints "UNKNOWN" for a state it has no name for. */
	assert_int_equal(udc_state_parse("UNKNOWN\n", 8, &st), 0);
	assert_int_equal(st, UDC_STATE_UNKNOWN);
	/* Only len bytes count: "configured" cut short is not a state. */
	assert_int_equal(udc_state_parse("configured", 9, &st), -EINVAL);
	assert_int_equal(st, UDC_STATE_UNKNOWN);
	assert_int_equal(udc_state_parse("", 0, &st), -EINVAL);
	assert_int_equal(udc_state_parse("\n", 1, &st), -EINVAL);
	assert_int_equal(udc_state_parse("not", 3, &st), -EINVAL);
	assert_int_equal(udc_state_parse("configured!", 11, &st), -EINVAL);
	st = UDC_STATE_CONFIGURED;
	assert_int_equal(udc_state_parse("hibernating\n", 12, &st), -EINVAL);
	assert_int_equal(st, UDC_STATE_UNKNOWN);
}

static void rewrite(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_read_rereads_from_start(void **unused)
{
	char dir[] = "/tmp/zb_udc_XXXXXX";
	char path[PATH_MAX];
	enum udc_state st;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	rewrite(path, "configured\n");

	fd = udc_state_open(path);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(udc_state_read(fd, &st), 0);
	assert_int_equal(st, UDC_STATE_CONFIGURED);

	/* The same fd sees the new text: each read starts at offset 0. */
	rewrite(path, "suspended\n");
	assert_int_equal(udc_state_read(fd, &st), 0);
	assert_int_equal(st, UDC_STATE_SUSPENDED);
	assert_int_equal(udc_state_read(fd, &st), 0);
	assert_int_equal(st, UDC_STATE_SUSPENDED);

	rewrite(path, "not attached\n");
	assert_int_equal(udc_state_read(fd, &st), 0);
	assert_int_equal(st, UDC_STATE_NOT_ATTACHED);

	/* Unknown text is a hint we cannot read, not an error. */
	rewrite(path, "warp speed\n");
	assert_int_equal(udc_state_read(fd, &st), 0);
	assert_int_equal(st, UDC_STATE_UNKNOWN);

	close(fd);
	assert_int_equal(udc_state_read(fd, &st), -EBADF);
	unlink(path);
	rmdir(dir);
}

static void test_open_missing(void **unused)
{
	assert_int_equal(udc_state_open("/nonexistent/zb/udc/state"), -ENOENT);
}

static void test_state_path(void **unused)
{
	char buf[64];
	char small[20];

	assert_int_equal(udc_state_path(buf, sizeof(buf), "dummy_udc.0"), 0);
	assert_string_equal(buf, "/sys/class/udc/dummy_udc.0/state");
	assert_int_equal(udc_state_path(small, sizeof(small), "dummy_udc.0"),
			 -ENAMETOOLONG);
}

static void test_first_udc(void **unused)
{
	char dir[] = "/tmp/zb_udcs_XXXXXX";
	char path[PATH_MAX];
	char name[32];
	char small[4];

	assert_non_null(mkdtemp(dir));
	assert_int_equal(udc_first(dir, name, sizeof(name)), -ENOENT);

	snprintf(path, sizeof(path), "%s/musb-hdrc.0", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/20980000.usb", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(udc_first(dir, name, sizeof(name)), 0);
	assert_string_equal(name, "20980000.usb");
	assert_int_equal(udc_first(dir, small, sizeof(small)), -ENAMETOOLONG);

	rmdir(path);
	snprintf(path, sizeof(path), "%s/musb-hdrc.0", dir);
	rmdir(path);
	rmdir(dir);
	assert_int_equal(udc_first(dir, name, sizeof(name)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_match_kernel),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_read_rereads_from_start),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_state_path),
		cmocka_unit_test(test_first_udc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
