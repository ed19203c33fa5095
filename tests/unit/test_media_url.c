/*
 * Download URL rules (firmware/media/media_url.c): what normalisation
 * makes of a URL, which prefixes of [media] url_allow match it (only at a
 * path boundary), what is refused and with which errno, and the image
 * name taken from the URL's last path segment.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/media/media_url.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct url_case {
	const char *allow;
	const char *url;
	int r;
	const char *norm; /* when r == 0 */
};

static const struct url_case cases[] = {
	/* Normalised before the match: case, default port, dot segments. */
	{"http://h.lan/img/", "HTTP://H.LAN:80/img/a.iso", 0,
	 "http://h.lan/img/a.iso"},
	{"http://h.lan/img/", "http://h.lan/x/../img/./a.iso", 0,
	 "http://h.lan/img/a.iso"},
	{"https://h.lan:443/img", "https://h.lan/img/a.iso", 0,
	 "https://h.lan/img/a.iso"},
	{"http://h.lan/img/", "http://h.lan/img/a.iso#frag", 0,
	 "http://h.lan/img/a.iso"},
	{"http://h.lan/img/", "http://h.lan/img/a.iso?x=1", 0,
	 "http://h.lan/img/a.iso?x=1"},
	/* The second of several prefixes. */
	{"  http://a.lan/  http://h.lan/img ", "http://h.lan/img/a.iso", 0,
	 "http://h.lan/img/a.iso"},
	/* A host alone allows the whole host, never a longer host name. */
	{"http://h.lan", "http://h.lan/any/a.iso", 0, "http://h.lan/any/a.iso"},
	{"http://h.lan", "http://h.lan.evil.com/a.iso", -EPERM, NULL},
	{"http://h.lan", "http://h.lan:8080/a.iso", -EPERM, NULL},
	/* Path boundaries. */
	{"http://h.lan/img", "http://h.lan/img-other/a.iso", -EPERM, NULL},
	{"http://h.lan/img", "http://h.lan/img?x", 0, "http://h.lan/img?x"},
	{"http://h.lan/img/", "http://h.lan/x/../../img/a.iso", 0,
	 "http://h.lan/img/a.iso"},
	{"http://h.lan/img/", "https://h.lan/img/a.iso", -EPERM, NULL},
	/* Downloads off. */
	{"", "http://h.lan/img/a.iso", -EPERM, NULL},
	{"   ", "http://h.lan/img/a.iso", -EPERM, NULL},
	/* An allow entry that does not parse allows nothing. */
	{"file:///img/", "file:///img/a.iso", -EINVAL, NULL},
	{"not a url", "http://h.lan/a.iso", -EPERM, NULL},
	/* Hostile. */
	{"http://h.lan/", "http://u:p@h.lan/a.iso", -EINVAL, NULL},
	{"http://h.lan/", "http://u@h.lan/a.iso", -EINVAL, NULL},
	{"http://h.lan/", "http://h.lan/a.iso\r\nX: y", -EINVAL, NULL},
	{"http://h.lan/", "http://h.lan/a b.iso", -EINVAL, NULL},
	{"http://h.lan/", "http://h.lan/a\tb.iso", -EINVAL, NULL},
	{"http://h.lan/", "http://h.lan/\x7f.iso", -EINVAL, NULL},
	{"http://h.lan/", "http://h.lan/\xc3\xa9.iso", -EINVAL, NULL},
	{"http://h.lan/", "http://h.lan/img\\a.iso", -EINVAL, NULL},
	{"http://h.lan/img/", "http://h.lan/img/%2E%2E/etc/x", -EINVAL, NULL},
	{"http://h.lan/img/", "http://h.lan/img/..%2fetc", -EINVAL, NULL},
	{"http://h.lan/img/", "http://h.lan/img/..%5Cetc", -EINVAL, NULL},
	{"http://h.lan/", "ftp://h.lan/a.iso", -EINVAL, NULL},
	{"http://h.lan/", "gopher://h.lan/a.iso", -EINVAL, NULL},
	{"http://h.lan/", "h.lan/a.iso", -EINVAL, NULL},
	/* libcurl reads a third slash as the start of the host name. */
	{"http://h.lan/", "http:///a.iso", -EPERM, NULL},
	{"http://h.lan/", "", -EINVAL, NULL},
};

static void test_url_cases(void **state)
{
	char norm[MEDIA_URL_MAX + 64], err[512];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const struct url_case *c = &cases[i];
		int r;

		err[0] = '\0';
		r = media_url_check(c->url, c->allow, norm, sizeof(norm), err,
				    sizeof(err));
		if (r != c->r)
			fail_msg("case %zu (%s): %d, want %d (%s)", i, c->url,
				 r, c->r, err);
		if (!r)
			assert_string_equal(norm, c->norm);
		else
			assert_true(strlen(err) > 10);
	}
}

static void test_url_overlong(void **state)
{
	static char url[MEDIA_URL_MAX + 2];
	char norm[MEDIA_URL_MAX + 64], err[512];

	(void)state;
	memset(url, 'a', sizeof(url) - 1);
	memcpy(url, "http://h.lan/", 13);
	assert_int_equal(media_url_check(url, "http://h.lan/", norm,
					 sizeof(norm), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "more than 2048"));
	url[MEDIA_URL_MAX] = '\0';
	assert_int_equal(media_url_check(url, "http://h.lan/", norm,
					 sizeof(norm), err, sizeof(err)),
			 0);
}

static void test_url_name(void **state)
{
	static const struct {
		const char *url, *name;
	} ok[] = {
		{"http://h/img/debian-12.iso", "debian-12.iso"},
		{"http://h/img/deb%C3%A9.iso?x=1", "deb\xc3\xa9.iso"},
		{"http://h/a.iso", "a.iso"},
	};
	static const char *const bad[] = {"http://h/img/", "http://h/",
					  "http://h/a%00b"};
	char name[256], err[256];

	(void)state;
	for (size_t i = 0; i < N(ok); i++) {
		assert_int_equal(media_url_name(ok[i].url, name, sizeof(name),
						err, sizeof(err)),
				 0);
		assert_string_equal(name, ok[i].name);
	}
	for (size_t i = 0; i < N(bad); i++) {
		assert_int_equal(media_url_name(bad[i], name, sizeof(name), err,
						sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "\"image\""));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_cases),
		cmocka_unit_test(test_url_overlong),
		cmocka_unit_test(test_url_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
