#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/core/config.h"
#include "firmware/net/mqtt.h"

static int load(const char *text, struct config *c, struct config_error *e)
{
	char path[] = "/tmp/zbconfXXXXXX";
	int fd = mkstemp(path);
	int r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_defaults(c);
	r = config_load(c, path, e);
	unlink(path);
	return r;
}

static void test_full(void **state)
{
	struct config c;
	struct config_error e;

	assert_int_equal(load("[agent]\nid = nuc_1\ngroups = rack1, lab\n"
			      "log_level = debug\nmax_payload = 16K\n"
			      "[mqtt]\nuri = mqtts://broker.example:8884\n"
			      "ca_file = /etc/ca.pem\nkeepalive = 20\n"
			      "[gadget]\nmanage = yes\nvendor_id = 0x1234\n"
			      "[keyboard]\nlayout = de\nprofile = bios\n"
			      "[console]\nring_bytes = 2M\n"
			      "[homeassistant]\ndiscovery = false\n",
			      &c, &e),
			 0);
	assert_string_equal(c.agent.id, "nuc_1");
	assert_int_equal(c.agent.n_groups, 2);
	assert_string_equal(c.agent.groups[1], "lab");
	assert_int_equal(c.agent.log_level, 3);
	assert_int_equal(c.agent.max_payload, 16384);
	assert_true(c.mqtt.tls);
	assert_string_equal(c.mqtt.host, "broker.example");
	assert_int_equal(c.mqtt.port, 8884);
	assert_int_equal(c.mqtt.keepalive, 20);
	assert_true(c.gadget.manage);
	assert_int_equal(c.gadget.vendor_id, 0x1234);
	assert_string_equal(c.keyboard.layout, "de");
	assert_int_equal(c.console.ring_bytes, 2 << 20);
	assert_false(c.homeassistant.discovery);
	assert_string_equal(c.mqtt.client_id, "zerobmc-nuc_1");
}

static void test_defaults_and_ports(void **state)
{
	struct config c;
	struct config_error e;

	assert_int_equal(load("[agent]\nid = a\n", &c, &e), 0);
	assert_string_equal(c.mqtt.host, "127.0.0.1");
	assert_int_equal(c.mqtt.port, 1883);
	assert_false(c.mqtt.tls);
	assert_string_equal(c.agent.base_topic, "zerobmc");
	assert_int_equal(
		load("[agent]\nid = a\n[mqtt]\nuri = mqtts://h\n", &c, &e), 0);
	assert_int_equal(c.mqtt.port, 8883);
	assert_int_equal(
		load("[agent]\nid = a\n[mqtt]\nuri = tcp://[::1]:99\n", &c, &e),
		0);
	assert_string_equal(c.mqtt.host, "::1");
	assert_int_equal(c.mqtt.port, 99);
}

static void test_several_uris(void **state)
{
	struct config c;
	struct config_error e;

	assert_int_equal(load("[agent]\nid = a\n[mqtt]\nuri = tcp://a:1 "
			      " mqtt://[::1]:2\ttcp://c\n",
			      &c, &e),
			 0);
	assert_int_equal(c.mqtt.n_brokers, 3);
	assert_string_equal(c.mqtt.host, "a");
	assert_int_equal(c.mqtt.port, 1);
	assert_string_equal(c.mqtt.brokers[1].host, "::1");
	assert_int_equal(c.mqtt.brokers[1].port, 2);
	assert_string_equal(c.mqtt.brokers[2].host, "c");
	assert_int_equal(c.mqtt.brokers[2].port, 1883);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *key;
		const char *msg;
	} cases[] = {
		{"[agent]\nid = a b\n", 2, "id", "A-Za-z0-9"},
		{"[agent]\nid = a\nid = b\n", 3, "id", "twice"},
		{"[agent]\nid = a\nnope = 1\n", 3, "nope", "unknown key"},
		{"[bogus]\nx = 1\n", 2, "", "unknown section"},
		{"[agent]\nid = a\ngroups = a/b\n", 3, "groups", "group"},
		{"[agent]\nid = a\nmax_payload = 1G\n", 3, "max_payload",
		 "size"},
		{"[agent]\nid = a\n[mqtt]\nkeepalive = 1\n", 4, "keepalive",
		 "from 5"},
		{"[agent]\nid = a\n[gadget]\nvendor_id = 0x10000\n", 4,
		 "vendor_id", "16-bit"},
		{"[agent]\nid = a\n[mqtt]\nuri = ftp://x\n", 0, "uri",
		 "tcp://"},
		{"[agent]\nid = a\n[mqtt]\nuri = tcp://a mqtts://b\n", 0, "uri",
		 "mixes"},
		{"[agent]\nid = a\n[mqtt]\nuri = tcp://a tcp://b tcp://c "
		 "tcp://d tcp://e\n",
		 0, "uri", "more than 4"},
		{"[agent]\nid = a\n[mqtt]\nuri = tcp://a ftp://b\n", 0, "uri",
		 "tcp://"},
		{"[agent]\nid = a\n[mqtt]\nuri =  \n", 0, "uri", "tcp://"},
		{"[agent]\nid = a\n[mqtt]\ncert_file = /c.pem\nuri = "
		 "mqtts://h\n",
		 0, "key_file", "together"},
		{"[agent]\nbase_topic = a/#\nid = a\n", 0, "base_topic", "+ #"},
		{"[agent]\nid = a\n[agent]\nlog_level = loud\n", 4, "log_level",
		 "error, warn"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		struct config_error e;
		char buf[600];

		assert_int_equal(load(cases[i].text, &c, &e), -EINVAL);
		config_error_format(&e, buf, sizeof(buf));
		if (e.line != cases[i].line || strcmp(e.key, cases[i].key) ||
		    !strstr(e.msg, cases[i].msg))
			fail_msg("case %zu: got '%s'", i, buf);
	}
}

static void test_id(void **state)
{
	char id65[66];

	assert_true(config_id_valid("a"));
	assert_true(config_id_valid("Server-01_b"));
	assert_false(config_id_valid(""));
	assert_false(config_id_valid("a.b"));
	assert_false(config_id_valid("a+"));
	memset(id65, 'x', 65);
	id65[65] = '\0';
	assert_false(config_id_valid(id65));
	id65[64] = '\0';
	assert_true(config_id_valid(id65));
}

static void test_backoff(void **state)
{
	for (unsigned int rnd = 0; rnd < 5000; rnd += 97) {
		assert_in_range(mqtt_backoff_ms(1, rnd), 800, 1200);
		assert_in_range(mqtt_backoff_ms(2, rnd), 1600, 2400);
		assert_in_range(mqtt_backoff_ms(5, rnd), 12800, 19200);
		assert_in_range(mqtt_backoff_ms(6, rnd), 24000, 36000);
		assert_in_range(mqtt_backoff_ms(100, rnd), 24000, 36000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults_and_ports),
		cmocka_unit_test(test_several_uris),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
