/*
 * Configuration: a table of every section and key, parsed by type.
 * Unknown sections and keys are errors so that a typo never silently
 * falls back to a default. This file is the data: the table and the
 * defaults. Reading is in config_parse.c, cross-key checks in
 * config_validate.c.
 */
#include <stdio.h>
#include <string.h>

#include "firmware/core/config_priv.h"
#include "firmware/core/log.h"

#define OFF(f) offsetof(struct config, f)
#define SZ(f) sizeof(((struct config *)0)->f)
#define STR(s, k, f)                                                           \
	{                                                                      \
		s, k, CT_STR, OFF(f), SZ(f), 0, 0                              \
	}
#define PATH(s, k, f)                                                          \
	{                                                                      \
		s, k, CT_PATH, OFF(f), SZ(f), 0, 0                             \
	}
#define BOOL(s, k, f)                                                          \
	{                                                                      \
		s, k, CT_BOOL, OFF(f), 0, 0, 1                                 \
	}
#define INT(s, k, f, lo, hi)                                                   \
	{                                                                      \
		s, k, CT_INT, OFF(f), 0, lo, hi                                \
	}
#define U16(s, k, f, lo, hi)                                                   \
	{                                                                      \
		s, k, CT_U16, OFF(f), 0, lo, hi                                \
	}
#define SIZE(s, k, f, lo, hi)                                                  \
	{                                                                      \
		s, k, CT_SIZE, OFF(f), 0, lo, hi                               \
	}

const struct config_key config_keys[] = {
	{"agent", "id", CT_ID, OFF(agent.id), SZ(agent.id), 0, 0},
	STR("agent", "base_topic", agent.base_topic),
	{"agent", "groups", CT_GROUPS, 0, 0, 0, 0},
	{"agent", "log_level", CT_LOGLEVEL, OFF(agent.log_level), 0, 0, 3},
	SIZE("agent", "max_payload", agent.max_payload, 256, 16 << 20),

	STR("mqtt", "uri", mqtt.uri),
	STR("mqtt", "client_id", mqtt.client_id),
	STR("mqtt", "username", mqtt.username),
	PATH("mqtt", "password_file", mqtt.password_file),
	PATH("mqtt", "ca_file", mqtt.ca_file),
	PATH("mqtt", "cert_file", mqtt.cert_file),
	PATH("mqtt", "key_file", mqtt.key_file),
	STR("mqtt", "tls_server_name", mqtt.tls_server_name),
	STR("mqtt", "psk_identity", mqtt.psk_identity),
	PATH("mqtt", "psk_file", mqtt.psk_file),
	INT("mqtt", "keepalive", mqtt.keepalive, 5, 3600),

	BOOL("gadget", "manage", gadget.manage),
	STR("gadget", "udc", gadget.udc),
	STR("gadget", "name", gadget.name),
	{"gadget", "vendor_id", CT_HEX16, OFF(gadget.vendor_id), 0, 0, 0},
	{"gadget", "product_id", CT_HEX16, OFF(gadget.product_id), 0, 0, 0},
	STR("gadget", "serial", gadget.serial),
	STR("gadget", "manufacturer", gadget.manufacturer),
	STR("gadget", "product", gadget.product),
	INT("gadget", "luns", gadget.luns, 1, 8),
	PATH("gadget", "udc_state", gadget.udc_state),

	PATH("keyboard", "device", keyboard.device),
	STR("keyboard", "layout", keyboard.layout),
	STR("keyboard", "profile", keyboard.profile),
	INT("keyboard", "write_timeout_ms", keyboard.write_timeout_ms, 10,
	    600000),
	INT("keyboard", "hold_timeout_ms", keyboard.hold_timeout_ms, 10,
	    3600000),

	PATH("console", "device", console.device),
	INT("console", "idle_flush_ms", console.idle_flush_ms, 0, 60000),
	SIZE("console", "ring_bytes", console.ring_bytes, 4096, 256 << 20),
	INT("console", "history_lines", console.history_lines, 0, 100000),
	INT("console", "write_timeout_ms", console.write_timeout_ms, 10,
	    600000),
	BOOL("console", "strip_ansi", console.strip_ansi),
	BOOL("console", "raw_topic", console.raw_topic),

	PATH("media", "dir", media.dir),
	PATH("media", "lun", media.lun),
	PATH("media", "state_file", media.state_file),
	BOOL("media", "allow_writable", media.allow_writable),

	PATH("macros", "dir", macros.dir),

	STR("power", "wol_mac", power.wol_mac),
	STR("power", "wol_broadcast", power.wol_broadcast),
	U16("power", "wol_port", power.wol_port, 1, 65535),
	PATH("power", "gpio_chip", power.gpio_chip),
	INT("power", "power_line", power.power_line, -1, 1023),
	INT("power", "reset_line", power.reset_line, -1, 1023),
	INT("power", "power_led_line", power.power_led_line, -1, 1023),
	BOOL("power", "active_low", power.active_low),
	BOOL("power", "led_active_low", power.led_active_low),
	INT("power", "short_press_ms", power.short_press_ms, 50, 10000),
	INT("power", "long_press_ms", power.long_press_ms, 1000, 30000),
	INT("power", "cycle_wait_ms", power.cycle_wait_ms, 0, 60000),

	INT("timeline", "reenum_min_ms", timeline.reenum_min_ms, 0, 600000),
	INT("timeline", "media_burst_gap_ms", timeline.media_burst_gap_ms, 100,
	    600000),
	INT("timeline", "console_quiet_ms", timeline.console_quiet_ms, 0,
	    3600000),
	INT("timeline", "events_per_s", timeline.events_per_s, 1, 1000),

	BOOL("homeassistant", "discovery", homeassistant.discovery),
	STR("homeassistant", "prefix", homeassistant.prefix),
	BOOL("homeassistant", "per_entity", homeassistant.per_entity),

	STR("server", "firmware", server.firmware),

	INT("boot", "timeout_s", boot.timeout_s, 1, 3600),
	INT("boot", "key_window_ms", boot.key_window_ms, 0, 120000),
	INT("boot", "settle_ms", boot.settle_ms, 0, 60000),
	INT("boot", "positions", boot.positions, 1, 8),
	INT("boot", "proof_reads", boot.proof_reads, 1, 1000000),

	PATH("uefi", "shell", uefi.shell),

	STR("reinstall", "done_console", reinstall.done_console),
	STR("reinstall", "done_marker", reinstall.done_marker),
	STR("reinstall", "os_console", reinstall.os_console),
	BOOL("reinstall", "os_usb", reinstall.os_usb),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))
_Static_assert(N_KEYS <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");

const size_t config_n_keys = N_KEYS;

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->agent.base_topic, sizeof(c->agent.base_topic), "zerobmc");
	c->agent.log_level = LOG_LVL_INFO;
	c->agent.max_payload = 64 * 1024;
	snprintf(c->mqtt.uri, sizeof(c->mqtt.uri), "tcp://127.0.0.1:1883");
	c->mqtt.keepalive = 30;
	c->gadget.manage = false;
	snprintf(c->gadget.name, sizeof(c->gadget.name), "zerobmc");
	c->gadget.vendor_id = 0x1d6b;
	c->gadget.product_id = 0x0104;
	/* Empty: the gadget derives one from /etc/machine-id. */
	snprintf(c->gadget.manufacturer, sizeof(c->gadget.manufacturer),
		 "zerobmc");
	snprintf(c->gadget.product, sizeof(c->gadget.product),
		 "zerobmc keyboard, storage and console");
	c->gadget.luns = 1;
	snprintf(c->keyboard.device, sizeof(c->keyboard.device), "/dev/hidg0");
	snprintf(c->keyboard.layout, sizeof(c->keyboard.layout), "us");
	snprintf(c->keyboard.profile, sizeof(c->keyboard.profile), "fast");
	c->keyboard.write_timeout_ms = 2000;
	c->keyboard.hold_timeout_ms = 10000;
	snprintf(c->console.device, sizeof(c->console.device), "/dev/ttyGS0");
	c->console.idle_flush_ms = 200;
	c->console.ring_bytes = 1 << 20;
	c->console.history_lines = 500;
	c->console.write_timeout_ms = 2000;
	c->console.strip_ansi = true;
	c->console.raw_topic = true;
	snprintf(c->media.dir, sizeof(c->media.dir), "/var/lib/zerobmc/images");
	snprintf(c->media.state_file, sizeof(c->media.state_file),
		 "/var/lib/zerobmc/media.state");
	snprintf(c->macros.dir, sizeof(c->macros.dir), "/etc/zerobmc/macros");
	snprintf(c->power.wol_broadcast, sizeof(c->power.wol_broadcast),
		 "255.255.255.255");
	c->power.wol_port = 9;
	c->power.power_line = -1;
	c->power.reset_line = -1;
	c->power.power_led_line = -1;
	c->power.short_press_ms = 300;
	c->power.long_press_ms = 5000;
	c->power.cycle_wait_ms = 5000;
	c->timeline.reenum_min_ms = 5000;
	c->timeline.media_burst_gap_ms = 2000;
	c->timeline.console_quiet_ms = 10000;
	c->timeline.events_per_s = 20;
	c->homeassistant.discovery = true;
	snprintf(c->homeassistant.prefix, sizeof(c->homeassistant.prefix),
		 "homeassistant");
	snprintf(c->server.firmware, sizeof(c->server.firmware), "generic");
	c->boot.timeout_s = 120;
	c->boot.key_window_ms = 10000;
	c->boot.settle_ms = 2000;
	c->boot.positions = 3;
	c->boot.proof_reads = 1;
}
