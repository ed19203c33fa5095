/* The LUN's attribute files, with a plain folder standing in for configfs. */
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

#include "gadget/lun.h"

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void get(const char *dir, const char *name, char *buf, size_t len)
{
	char p[PATH_MAX];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static int setup(void **state)
{
	char *dir = malloc(64);

	snprintf(dir, 64, "/tmp/zb-lun-XXXXXX");
	assert_non_null(mkdtemp(dir));
	put(dir, "file", "/some/old/image.img\n");
	put(dir, "ro", "0\n");
	put(dir, "cdrom", "0\n");
	put(dir, "forced_eject", "");
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", (char *)*state);
	free(*state);
	return 0;
}

static void test_read(void **state)
{
	struct lun_medium m;
	char err[256];

	assert_int_equal(lun_read(*state, &m, err, sizeof(err)), 0);
	assert_string_equal(m.file, "/some/old/image.img");
	assert_false(m.ro);
	assert_false(m.cdrom);
	assert_false(m.removable); /* absent in the stand-in */
}

static void test_insert_cdrom_forces_ro(void **state)
{
	struct lun_medium m;
	char err[256], v[64];
	bool forced = true;

	assert_int_equal(lun_insert(*state, "/images/x.iso", true, false,
				    &forced, err, sizeof(err)),
			 0);
	assert_false(forced);
	get(*state, "file", v, sizeof(v));
	assert_string_equal(v, "/images/x.iso\n");
	assert_int_equal(lun_read(*state, &m, err, sizeof(err)), 0);
	assert_true(m.cdrom);
	assert_true(m.ro);
}

static void test_eject_writes_a_newline(void **state)
{
	struct lun_medium m;
	char err[256], v[64];
	bool forced;

	assert_int_equal(lun_eject(*state, &forced, err, sizeof(err)), 0);
	get(*state, "file", v, sizeof(v));
	/* An empty write would never reach the kernel's store function. */
	assert_string_equal(v, "\n");
	assert_int_equal(lun_read(*state, &m, err, sizeof(err)), 0);
	assert_string_equal(m.file, "");
}

static void test_missing_attribute_is_named(void **state)
{
	char p[PATH_MAX], err[256];
	bool forced;

	snprintf(p, sizeof(p), "%s/cdrom", (char *)*state);
	unlink(p);
	assert_int_equal(lun_insert(*state, "/x.img", false, true, &forced, err,
				    sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "cdrom"));
}

static void test_bad_bool(void **state)
{
	struct lun_medium m;
	char err[256];

	put(*state, "ro", "maybe\n");
	assert_int_equal(lun_read(*state, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/ro"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_cdrom_forces_ro,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_eject_writes_a_newline,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_attribute_is_named,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_bool, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
