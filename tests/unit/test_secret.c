/* core/secret.c and log_escape(): the edges of what is refused and cut. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/core/log.h"
#include "firmware/core/secret.h"

static char secret_path[] = "/tmp/zbsecretXXXXXX";

static void write_secret(const void *data, size_t len, mode_t mode)
{
	int fd = open(secret_path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(secret_path, mode), 0);
}

static int setup(void **state)
{
	int fd = mkstemp(secret_path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(secret_path);
	return 0;
}

static void test_sizes(void **state)
{
	char buf[8], err[256], text[16];

	(void)state;
	/* Seven bytes fit in eight with the NUL; a newline more is trimmed. */
	write_secret("1234567\n", 8, 0600);
	assert_int_equal(secret_read("password_file", secret_path, buf,
				     sizeof(buf), err, sizeof(err)),
			 7);
	assert_string_equal(buf, "1234567");
	/* Newlines past a full buffer are still the editor's... */
	write_secret("1234567\r\n\n", 10, 0600);
	assert_int_equal(secret_read("password_file", secret_path, buf,
				     sizeof(buf), err, sizeof(err)),
			 7);
	assert_string_equal(buf, "1234567");
	/* ...but anything else there makes it too long, never cut. */
	write_secret("1234567\rX", 9, 0600);
	assert_int_equal(secret_read("password_file", secret_path, buf,
				     sizeof(buf), err, sizeof(err)),
			 -EINVAL);
	write_secret("1234567\n\n\nX", 11, 0600);
	assert_int_equal(secret_read("password_file", secret_path, buf,
				     sizeof(buf), err, sizeof(err)),
			 -EINVAL);
	write_secret("12345678", 8, 0600);
	assert_int_equal(secret_read("password_file", secret_path, buf,
				     sizeof(buf), err, sizeof(err)),
			 -EINVAL);
	snprintf(text, sizeof(text), "longer than %zu", sizeof(buf) - 1);
	assert_non_null(strstr(err, text));
	/* Nothing of a refused secret stays in the buffer. */
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	write_secret("ab\0cd", 5, 0600);
	assert_int_equal(secret_read("password_file", secret_path, buf,
				     sizeof(buf), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	write_secret("", 0, 0600);
	assert_int_equal(secret_read("password_file", secret_path, buf,
				     sizeof(buf), err, sizeof(err)),
			 0);
	assert_string_equal(buf, "");
}

static void test_modes(void **state)
{
	static const mode_t bad[] = {0640, 0604, 0620, 0602, 0610, 0601, 0644};
	char buf[32], err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_secret("pw\n", 3, bad[i]);
		assert_int_equal(secret_read("psk_file", secret_path, buf,
					     sizeof(buf), err, sizeof(err)),
				 -EPERM);
		assert_non_null(strstr(err, "chmod 600"));
		assert_non_null(strstr(err, secret_path));
	}
	write_secret("pw\n", 3, 0400);
	assert_int_equal(secret_read("psk_file", secret_path, buf, sizeof(buf),
				     err, sizeof(err)),
			 2);
	assert_int_equal(secret_open("key_file", "/tmp", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(
		secret_open("key_file", "/nonexistent/zb", err, sizeof(err)),
		-ENOENT);
}

static void test_escape(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(log_escape(out, sizeof(out), "a\nb\rc\td\x1b[m\x7f"),
			 strlen("a\\nb\\rc\\td\\x1b[m\\x7f"));
	assert_string_equal(out, "a\\nb\\rc\\td\\x1b[m\\x7f");
	/* Bytes of UTF-8 and printable ASCII pass as they are. */
	log_escape(out, sizeof(out), "caf\xc3\xa9 \\ \"x\"");
	assert_string_equal(out, "caf\xc3\xa9 \\ \"x\"");
	/* An escape that does not fit is left out whole, never cut. */
	log_escape(out, 5, "ab\x01");
	assert_string_equal(out, "ab");
	log_escape(out, 7, "ab\x01");
	assert_string_equal(out, "ab\\x01");
	log_escape(out, 1, "abc");
	assert_string_equal(out, "");
	assert_int_equal(log_escape(out, 0, "abc"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
