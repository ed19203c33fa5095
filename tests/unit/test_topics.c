#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "topics/result.h"
#include "topics/topics.h"

static void test_build(void **state)
{
	const char groups[2][65] = {"rack1", "lab"};
	struct topics t;

	assert_int_equal(topics_init(&t, "zerobmc", "nuc", groups, 2), 0);
	assert_string_equal(t.base, "zerobmc/nuc");
	assert_string_equal(t.pub[TOPIC_STATUS], "zerobmc/nuc/status");
	assert_string_equal(t.pub[TOPIC_STATE], "zerobmc/nuc/state");
	assert_string_equal(t.pub[TOPIC_CONSOLE], "zerobmc/nuc/console");
	assert_string_equal(t.pub[TOPIC_RESULT], "zerobmc/nuc/result");
	assert_string_equal(t.cmd_filter, "zerobmc/nuc/cmd/+");
	assert_string_equal(t.group_filter[1], "zerobmc/group/lab/cmd/+");
}

static void test_match(void **state)
{
	const char groups[1][65] = {"rack1"};
	char name[TOPICS_CMD_NAME_MAX];
	struct topics t;

	assert_int_equal(topics_init(&t, "site/bmc", "nuc", groups, 1), 0);
	assert_int_equal(topics_match_cmd(&t, "site/bmc/nuc/cmd/key", name), 0);
	assert_string_equal(name, "key");
	assert_int_equal(
		topics_match_cmd(&t, "site/bmc/group/rack1/cmd/type", name), 0);
	assert_string_equal(name, "type");
	assert_int_equal(topics_match_cmd(&t, "site/bmc/nuc2/cmd/key", name),
			 -ENOENT);
	assert_int_equal(topics_match_cmd(&t, "site/bmc/nuc/state", name),
			 -ENOENT);
	assert_int_equal(
		topics_match_cmd(&t, "site/bmc/group/rack2/cmd/key", name),
		-ENOENT);
	assert_int_equal(topics_match_cmd(&t, "site/bmc/nuc/cmd/", name),
			 -EINVAL);
	assert_int_equal(topics_match_cmd(&t, "site/bmc/nuc/cmd/Key", name),
			 -EINVAL);
	assert_int_equal(topics_match_cmd(&t, "site/bmc/nuc/cmd/a/b", name),
			 -EINVAL);
	assert_int_equal(
		topics_match_cmd(&t,
				 "site/bmc/nuc/cmd/"
				 "averyveryveryveryverylongcommandname",
				 name),
		-EINVAL);
}

static void test_bad_names(void **state)
{
	struct topics t;
	char longid[400];

	assert_int_equal(topics_init(&t, "zerobmc", "a+b", NULL, 0), -EINVAL);
	assert_int_equal(topics_init(&t, "zero#", "a", NULL, 0), -EINVAL);
	assert_int_equal(topics_init(&t, "", "a", NULL, 0), -EINVAL);
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(topics_init(&t, longid, "a", NULL, 0), -ENAMETOOLONG);
}

static void test_result(void **state)
{
	cJSON *extra = cJSON_CreateObject();
	char *s;

	cJSON_AddNumberToObject(extra, "n", 3);
	s = result_build("42", "key", RESULT_ERROR, "bad \"key\"", extra);
	assert_non_null(s);
	assert_string_equal(s, "{\"id\":\"42\",\"cmd\":\"key\",\"status\":"
			       "\"error\",\"error\":\"bad \\\"key\\\"\","
			       "\"n\":3}");
	cJSON_free(s);
	s = result_build("", "type", RESULT_BUSY, NULL, NULL);
	assert_string_equal(s, "{\"cmd\":\"type\",\"status\":\"busy\"}");
	cJSON_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
