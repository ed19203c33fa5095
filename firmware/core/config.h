/*
 * The agent's configuration: an INI file read with libinih. Every section
 * and key is a row of the table in config_table.c; unknown ones are errors.
 */
#ifndef ZB_CONFIG_H
#define ZB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topics/topics.h"

#define CONFIG_PATH_MAX 256
#define CONFIG_STR_MAX 128
#define CONFIG_GROUPS_MAX 8

struct config {
	struct {
		char id[TOPICS_ID_MAX + 1];
		char base_topic[CONFIG_STR_MAX];
		char groups[CONFIG_GROUPS_MAX][TOPICS_ID_MAX + 1];
		int n_groups;
		int log_level;	      /* 0 error, 1 warn, 2 info, 3 debug */
		uint32_t max_payload; /* bytes, default 64 KiB */
	} agent;
	struct {
		char uri[CONFIG_PATH_MAX];
		char client_id[CONFIG_STR_MAX];
		char username[CONFIG_STR_MAX];
		char password_file[CONFIG_PATH_MAX];
		char ca_file[CONFIG_PATH_MAX];
		char cert_file[CONFIG_PATH_MAX];
		char key_file[CONFIG_PATH_MAX];
		char tls_server_name[CONFIG_STR_MAX];
		char psk_identity[CONFIG_STR_MAX];
		char psk_file[CONFIG_PATH_MAX];
		int keepalive; /* seconds */
		/* Parsed from uri. */
		bool tls;
		char host[CONFIG_STR_MAX];
		uint16_t port;
	} mqtt;
	struct {
		bool manage;
		char udc[CONFIG_STR_MAX];
		char name[CONFIG_STR_MAX]; /* configfs gadget folder name */
		uint16_t vendor_id, product_id;
		char serial[CONFIG_STR_MAX];
		char manufacturer[CONFIG_STR_MAX];
		char product[CONFIG_STR_MAX];
		int luns;
		char udc_state[CONFIG_PATH_MAX]; /* derived from udc when empty
						  */
	} gadget;
	struct {
		char device[CONFIG_PATH_MAX];
		char layout[16];
		char profile[16];
		int write_timeout_ms; /* host not polling: abort after this */
		int hold_timeout_ms;  /* keys pressed with action=press */
	} keyboard;
	struct {
		char device[CONFIG_PATH_MAX];
		int idle_flush_ms;
		uint32_t ring_bytes;
		int history_lines;
		int write_timeout_ms;
		bool strip_ansi; /* for the state's "last" line */
		bool raw_topic; /* also publish the byte stream (console/raw) */
	} console;
	struct {
		char dir[CONFIG_PATH_MAX];
		char lun[CONFIG_PATH_MAX];
		char state_file[CONFIG_PATH_MAX];
		bool allow_writable;
	} media;
	struct {
		char dir[CONFIG_PATH_MAX];
	} macros;
	struct {
		char wol_mac[32];
		char wol_broadcast[64];
		uint16_t wol_port;
		char gpio_chip[CONFIG_PATH_MAX];
		int power_line, reset_line, power_led_line; /* -1: not wired */
		bool active_low;
		bool led_active_low; /* the power-LED input */
		int short_press_ms, long_press_ms, cycle_wait_ms;
	} power;
	struct {
		int reenum_min_ms;	/* a later re-enumeration means an OS */
		int media_burst_gap_ms; /* quiet time that ends a read burst */
		int console_quiet_ms; /* silence before a "first line" event */
		int events_per_s;     /* rate limit of the event topic */
	} timeline;
	struct {
		bool discovery;
		char prefix[CONFIG_STR_MAX];
		bool per_entity;
	} homeassistant;
	struct {
		char firmware[32]; /* a profile of firmware/boot/ */
	} server;
	struct {
		int timeout_s;	   /* each wait of a cmd/boot attempt */
		int key_window_ms; /* hotkeys go on this long after USB */
		int settle_ms;	   /* a menu draws before keys move in it */
		int positions;	   /* menu positions tried per strategy */
		int proof_reads;   /* media reads that prove a boot */
	} boot;
	struct {
		char shell[CONFIG_PATH_MAX]; /* a UEFI shell for cmd/uefi */
	} uefi;
	struct {
		/* cmd/reinstall's signals when the command gives none. */
		char done_console[CONFIG_PATH_MAX];
		char done_marker[CONFIG_STR_MAX];
		char os_console[CONFIG_PATH_MAX];
		bool os_usb;
	} reinstall;
};

/* Where a configuration error was found, for the message. */
struct config_error {
	char file[CONFIG_PATH_MAX];
	int line; /* 0: not tied to a line */
	char section[32];
	char key[32];
	char msg[256];
};

void config_defaults(struct config *c);
/* Parse and validate. Returns 0 or -EINVAL with *err filled in. */
int config_load(struct config *c, const char *path, struct config_error *err);
int config_validate(struct config *c, struct config_error *err);
/* "file:line: [section] key: message" */
void config_error_format(const struct config_error *e, char *buf, size_t len);
bool config_id_valid(const char *id);

#endif
