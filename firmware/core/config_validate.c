/*
 * Checks across keys, once the whole file is read: required keys, topic
 * safety, the broker URI and TLS settings that go together, the power
 * pins and Wake-on-LAN address.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "firmware/core/addr.h"
#include "firmware/core/config_priv.h"

static bool config_topic_safe(const char *s)
{
	/* Topic levels must not carry wildcards or control bytes. */
	for (; *s; s++)
		if (*s == '+' || *s == '#' || (unsigned char)*s < 0x20)
			return false;
	return true;
}

/* Pins without a chip, one line twice, a bad MAC or address. */
static int config_validate_power(const struct config *c,
				 struct config_error *err)
{
	const int *lines[] = {&c->power.power_line, &c->power.reset_line,
			      &c->power.power_led_line};
	struct sockaddr_in to;
	uint8_t mac[6];

	for (int i = 0; i < 3; i++)
		for (int k = i + 1; k < 3; k++)
			if (*lines[i] >= 0 && *lines[i] == *lines[k]) {
				config_err_set(err, 0, "power", "reset_line",
					       "power_line, reset_line and "
					       "power_led_line must differ");
				return -EINVAL;
			}
	if (!c->power.gpio_chip[0] &&
	    (c->power.power_line >= 0 || c->power.reset_line >= 0 ||
	     c->power.power_led_line >= 0)) {
		config_err_set(err, 0, "power", "gpio_chip",
			       "missing: the lines need their chip (e.g. "
			       "/dev/gpiochip0)");
		return -EINVAL;
	}
	if (c->power.wol_mac[0] && addr_mac_parse(c->power.wol_mac, mac)) {
		config_err_set(err, 0, "power", "wol_mac",
			       "not a MAC address (aa:bb:cc:dd:ee:ff)");
		return -EINVAL;
	}
	if (c->power.wol_mac[0] &&
	    addr_ipv4(c->power.wol_broadcast, c->power.wol_port, &to)) {
		config_err_set(err, 0, "power", "wol_broadcast",
			       "not a numeric IPv4 address (e.g. "
			       "192.168.1.255)");
		return -EINVAL;
	}
	return 0;
}

/* Where a password in clear cannot be read on the way. */
static bool config_host_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!strcasecmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int config_validate(struct config *c, struct config_error *err)
{
	if (!c->agent.id[0]) {
		config_err_set(
			err, 0, "agent", "id",
			"missing: the managed server's name is required");
		return -EINVAL;
	}
	/* <base>/group/<name>/cmd is where group commands go: an agent
	 * called "group" would be commanded by, and could command, every
	 * group. */
	if (!strcmp(c->agent.id, "group")) {
		config_err_set(err, 0, "agent", "id",
			       "\"group\" is reserved (group commands use "
			       "<base_topic>/group/<name>/cmd)");
		return -EINVAL;
	}
	/* <base>/_reply/<client id> is where `zerobmc send` and `list` find
	 * out that the broker has sent every retained message. */
	if (!strcmp(c->agent.id, "_reply")) {
		config_err_set(err, 0, "agent", "id",
			       "\"_reply\" is reserved (the command-line "
			       "client's own topics)");
		return -EINVAL;
	}
	if (!c->agent.base_topic[0] ||
	    !config_topic_safe(c->agent.base_topic)) {
		config_err_set(err, 0, "agent", "base_topic",
			       "must be non-empty, without + # or control "
			       "characters");
		return -EINVAL;
	}
	if (!config_topic_safe(c->homeassistant.prefix) ||
	    !c->homeassistant.prefix[0]) {
		config_err_set(err, 0, "homeassistant", "prefix",
			       "must be non-empty, without + # or control "
			       "characters");
		return -EINVAL;
	}
	if (config_parse_uri(c, err))
		return -EINVAL;
	if (!c->mqtt.tls && (c->mqtt.ca_file[0] || c->mqtt.cert_file[0] ||
			     c->mqtt.psk_file[0])) {
		config_err_set(err, 0, "mqtt", "uri",
			       "TLS settings are given but the uri is not "
			       "mqtts://: refusing to connect in clear");
		return -EINVAL;
	}
	if (!c->mqtt.tls && c->mqtt.password_file[0] &&
	    !c->mqtt.allow_plaintext_password &&
	    !config_host_loopback(c->mqtt.host)) {
		config_err_set(err, 0, "mqtt", "password_file",
			       "refused: the password would cross the network "
			       "in clear (tcp:// to a host that is not "
			       "loopback); use mqtts:// (docs/TLS.md), or set "
			       "[mqtt] allow_plaintext_password = true");
		return -EINVAL;
	}
	if (!!c->mqtt.cert_file[0] != !!c->mqtt.key_file[0]) {
		config_err_set(err, 0, "mqtt",
			       c->mqtt.cert_file[0] ? "key_file" : "cert_file",
			       "cert_file and key_file go together");
		return -EINVAL;
	}
	if (!!c->mqtt.psk_identity[0] != !!c->mqtt.psk_file[0]) {
		config_err_set(err, 0, "mqtt",
			       c->mqtt.psk_file[0] ? "psk_identity"
						   : "psk_file",
			       "psk_identity and psk_file go together");
		return -EINVAL;
	}
	if (c->mqtt.psk_file[0] &&
	    (c->mqtt.ca_file[0] || c->mqtt.cert_file[0])) {
		config_err_set(err, 0, "mqtt", "psk_file",
			       "TLS-PSK uses no certificates: give either "
			       "psk_identity + psk_file, or ca_file and "
			       "cert_file + key_file");
		return -EINVAL;
	}
	if (config_validate_power(c, err))
		return -EINVAL;
	if (!c->mqtt.client_id[0])
		snprintf(c->mqtt.client_id, sizeof(c->mqtt.client_id),
			 "zerobmc-%.64s", c->agent.id);
	return 0;
}
