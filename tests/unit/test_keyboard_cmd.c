/*
 * The keyboard commands against a plain file standing in for the HID
 * device. typing_plan_report is wrapped (-Wl,--wrap, see CMakeLists.txt)
 * so a test can make building the release plan fail with -ENOMEM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/keyboard/keyboard_priv.h"
#include "gadget/layout.h"

int __real_typing_plan_report(struct typing_plan *p, const struct hid_report *r,
			      uint32_t gap_us);
int __wrap_typing_plan_report(struct typing_plan *p, const struct hid_report *r,
			      uint32_t gap_us);

static struct {
	bool fail_report;
	int replies;
	enum result_status st;
	char error[200];
	struct loop *l;
} t;

int __wrap_typing_plan_report(struct typing_plan *p, const struct hid_report *r,
			      uint32_t gap_us)
{
	if (t.fail_report)
		return -ENOMEM;
	return __real_typing_plan_report(p, r, gap_us);
}

static void fake_reply(void *agent, struct cmd_req *req, enum result_status st,
		       const char *error, cJSON *extra)
{
	t.replies++;
	t.st = st;
	snprintf(t.error, sizeof(t.error), "%s", error ? error : "");
	cJSON_Delete(extra);
	cmd_req_free(req);
	loop_quit(t.l);
}

static void fake_dirty(void *agent)
{
}

static const struct cap_ops ops = {
	.reply = fake_reply,
	.state_dirty = fake_dirty,
};

static struct cmd_req *req_new(const char *json)
{
	struct cmd_req *req = calloc(1, sizeof(*req));
	char err[128];

	assert_non_null(req);
	snprintf(req->name, sizeof(req->name), "key");
	assert_int_equal(payload_parse(json, strlen(json), 65536, &req->p, err,
				       sizeof(err)),
			 0);
	return req;
}

static void on_timeout(void *data)
{
	fail_msg("no reply within 5 s");
}

/* Run the command and the loop until it is answered. */
static void run_key(struct keyboard_cap *k, const char *json)
{
	int before = t.replies;
	int timer;

	keyboard_cmd_key(k, req_new(json));
	if (t.replies != before)
		return;
	timer = loop_timer_add(t.l, 5000, on_timeout, NULL);
	assert_int_equal(loop_run(t.l), 0);
	loop_timer_cancel(t.l, timer);
	assert_int_equal(t.replies, before + 1);
}

static void test_release_without_memory(void **state)
{
	char path[] = "/tmp/zb-test-kbd-XXXXXX";
	int fd = mkstemp(path);
	struct keyboard_cbs cbs = {0};
	struct cap c = {.ops = &ops};
	struct keyboard_cap k = {.c = &c, .profile = TYPING_FAST};

	assert_true(fd >= 0);
	close(fd);
	t.l = loop_new();
	assert_non_null(t.l);
	assert_int_equal(keyboard_new(t.l, 1000, 60000, &cbs, NULL, &k.kb), 0);
	assert_int_equal(keyboard_open(k.kb, path), 0);
	k.layout = layout_find("us");

	run_key(&k, "{\"keys\":\"shift+a\",\"action\":\"press\"}");
	assert_int_equal(t.st, RESULT_OK);
	assert_true(keyboard_keys_down(k.kb));

	t.fail_report = true;
	run_key(&k, "{\"action\":\"release\"}");
	t.fail_report = false;
	/* Either the keys are up, or the answer says they may not be. */
	if (t.st == RESULT_OK)
		assert_false(keyboard_keys_down(k.kb));
	else
		assert_true(strstr(t.error, "release") != NULL);
	keyboard_free(k.kb);
	loop_free(t.l);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_without_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
