#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "topics/payload.h"

#define PARSE(s, p) payload_parse(s, strlen(s), 65536, p, err, sizeof(err))

static void test_plain(void **state)
{
	struct payload p;
	char err[200];

	assert_int_equal(PARSE("  ctrl+alt+delete \r\n", &p), 0);
	assert_null(p.json);
	assert_string_equal(p.text, "ctrl+alt+delete");
	assert_string_equal(p.id, "");
	assert_string_equal(payload_str(&p, "keys", true, NULL),
			    "ctrl+alt+delete");
	assert_null(payload_str(&p, "keys", false, NULL));
	payload_free(&p);
	assert_int_equal(PARSE("", &p), 0);
	assert_string_equal(p.text, "");
	payload_free(&p);
}

static void test_json(void **state)
{
	struct payload p;
	char err[200];
	long n;
	bool b, bad;
	static const char *const known[] = {"keys", "hold_ms", "x", NULL};

	assert_int_equal(
		PARSE(" {\"id\":\"a1\",\"keys\":\"F2\",\"hold_ms\":250,"
		      "\"x\":true}",
		      &p),
		0);
	assert_string_equal(p.id, "a1");
	assert_string_equal(payload_str(&p, "keys", true, &bad), "F2");
	assert_false(bad);
	assert_int_equal(payload_int(&p, "hold_ms", 0, 1000, &n), 0);
	assert_int_equal(n, 250);
	assert_int_equal(payload_int(&p, "hold_ms", 0, 100, &n), -EINVAL);
	assert_int_equal(payload_int(&p, "nope", 0, 100, &n), -ENOENT);
	assert_int_equal(payload_bool(&p, "x", &b), 0);
	assert_true(b);
	assert_null(payload_str(&p, "hold_ms", false, &bad));
	assert_true(bad);
	assert_int_equal(payload_check_fields(&p, known, err, sizeof(err)), 0);
	payload_free(&p);

	assert_int_equal(PARSE("{\"id\":7,\"zz\":1}", &p), 0);
	assert_string_equal(p.id, "7");
	assert_int_equal(payload_check_fields(&p, known, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "zz"));
	payload_free(&p);
}

static void test_errors(void **state)
{
	struct payload p;
	char err[200];
	char big[70000];
	char deep[200] = "";

	assert_int_equal(PARSE("{\"keys\":", &p), -EINVAL);
	assert_non_null(strstr(err, "malformed JSON"));
	assert_int_equal(PARSE("{\"id\":{}}", &p), -EINVAL);
	assert_non_null(strstr(err, "\"id\""));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(PARSE(big, &p), -E2BIG);
	assert_non_null(strstr(err, "too large"));
	assert_int_equal(payload_parse("a\0b", 3, 100, &p, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(PARSE("\xc0\xaf", &p), -EILSEQ);
	assert_int_equal(PARSE("{\"image\":\"a\\u0000b.iso\"}", &p), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	/* An escaped backslash followed by "u0000" is plain text. */
	assert_int_equal(PARSE("{\"t\":\"a\\\\u0000\"}", &p), 0);
	assert_string_equal(payload_str(&p, "t", false, NULL), "a\\u0000");
	payload_free(&p);
	for (int i = 0; i < 20; i++)
		strcat(deep, "{\"a\":");
	strcat(deep, "1");
	for (int i = 0; i < 20; i++)
		strcat(deep, "}");
	assert_int_equal(PARSE(deep, &p), -EINVAL);
	assert_non_null(strstr(err, "nested"));
}

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{"plain", true},
		{"caf\xc3\xa9", true},
		{"\xe2\x98\x83", true},
		{"\xf0\x9f\x98\x80", true},
		{"\xc3", false},
		{"\xe2\x98", false},
		{"\xc0\x80", false},	     /* overlong NUL */
		{"\xed\xa0\x80", false},     /* surrogate */
		{"\xf4\x90\x80\x80", false}, /* above U+10FFFF */
		{"\xff", false},
		{"\x80", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
			payload_utf8_valid(cases[i].s, strlen(cases[i].s)),
			cases[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
