/*
 * Macro scripts: DuckyScript 1.0 plus zerobmc's extensions, parsed in
 * full into a list of operations before anything runs. Every problem is
 * reported with its line number; a script with one bad line runs not at
 * all. Limits keep a hostile script from exhausting memory or time.
 *
 * The language is described in docs/MACROS.md.
 */
#ifndef ZB_MACRO_PARSE_H
#define ZB_MACRO_PARSE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gadget/keys.h"
#include "gadget/layout.h"
#include "gadget/typing.h"
#include "gadget/udc.h"

#define MACRO_FILE_MAX (64 * 1024) /* bytes of a script */
#define MACRO_LINES_MAX 4096
#define MACRO_LINE_MAX 4096    /* bytes of one line, STRING text included */
#define MACRO_REPEAT_MAX 10000 /* runs of one line, REPEATs added up */
#define MACRO_STEPS_MAX 100000 /* runs of all lines, REPEATs counted */
#define MACRO_DELAY_MAX_MS (60u * 60 * 1000)	/* DELAY, SPAM, timeouts */
#define MACRO_DEFAULT_DELAY_MAX_MS (60u * 1000) /* DEFAULT_DELAY */
#define MACRO_WAIT_DEFAULT_MS (60u * 1000)	/* a WAIT_* without timeout */
#define MACRO_SPAM_EVERY_MIN_MS 20
#define MACRO_SPAM_EVERY_MAX_MS (10u * 1000)
#define MACRO_SPAM_KEYS_MAX 4
#define MACRO_REGEX_MAX 256 /* bytes of a WAIT_CONSOLE pattern */
#define MACRO_REGEXES_MAX 64
#define MACRO_REGEX_REPEAT 256	 /* product of a pattern's {m,n} counts */
#define MACRO_REGEX_WEIGHT 65536 /* sum of pattern length x that product */
#define MACRO_ERROR_MAX 200

enum macro_op_kind {
	MACRO_OP_DELAY,
	MACRO_OP_TYPE,	  /* STRING, STRINGLN */
	MACRO_OP_CHORD,	  /* a key line: tap the chord */
	MACRO_OP_HOLD,	  /* press keys and keep them down */
	MACRO_OP_RELEASE, /* let keys go (all of them when none is named) */
	MACRO_OP_WAIT_USB,
	MACRO_OP_WAIT_LED,
	MACRO_OP_WAIT_CONSOLE,
	MACRO_OP_WAIT_PHASE,	  /* the server phase (firmware/phase.h) */
	MACRO_OP_WAIT_MEDIA_READ, /* the host reads the virtual media */
	MACRO_OP_SPAM,
	MACRO_OP_MEDIA, /* insert an image, or eject (name NULL) */
	MACRO_OP_REBOOT,
	MACRO_OP_COUNT
};

enum macro_reboot {
	MACRO_REBOOT_SOFT,  /* Ctrl+Alt+Del */
	MACRO_REBOOT_SYSRQ, /* Alt+SysRq R E I S U B */
	MACRO_REBOOT_HARD,  /* the reset pin */
};

enum macro_led_want {
	MACRO_LED_ON,
	MACRO_LED_OFF,
	MACRO_LED_CHANGE,
};

struct macro_op {
	enum macro_op_kind kind;
	uint32_t line;
	uint32_t runs;	   /* 1, plus what REPEAT lines added */
	uint32_t after_ms; /* DEFAULT_DELAY after each run (keyboard lines) */
	int profile;	   /* enum typing_profile, -1: the runner's default */
	const struct layout *layout; /* STRING: NULL for the default layout */
	union {
		uint32_t ms; /* DELAY */
		struct {
			const char *s; /* into the script's own copy */
			size_t len;
			bool enter; /* STRINGLN */
		} text;
		struct key_chord chord; /* key line, HOLD, RELEASE */
		struct {
			enum udc_state want;
			uint32_t timeout_ms;
		} usb;
		struct {
			uint8_t bit; /* HID_LED_* */
			enum macro_led_want want;
			uint32_t timeout_ms;
		} led;
		struct {
			int want; /* enum phase */
			uint32_t timeout_ms;
		} phase;
		struct {
			uint32_t timeout_ms;
		} media_read;
		struct {
			regex_t *re;
			const char *pattern;
			uint32_t timeout_ms;
		} console;
		struct {
			struct key_chord keys[MACRO_SPAM_KEYS_MAX];
			uint8_t n;
			uint32_t every_ms, for_ms;
		} spam;
		struct {
			const char *name; /* NULL: eject */
		} media;
		enum macro_reboot reboot;
	} u;
};

struct macro_script {
	struct macro_op *ops;
	size_t n;
	size_t lines;  /* lines in the text */
	uint64_t runs; /* sum of the ops' runs */
	char *text;    /* the script's own copy, cut into lines */
};

struct macro_error {
	uint32_t line; /* 0: not tied to a line (size, memory) */
	char msg[MACRO_ERROR_MAX];
};

/*
 * Parse len bytes of script (UTF-8, LF or CRLF lines, an optional BOM).
 * STRING lines are checked against the layout in effect (LAYOUT lines,
 * else deflt) so that text a layout cannot type is an error here, not
 * half-way through the run. Returns 0 with *out filled in (free it with
 * macro_script_free), or -EINVAL / -E2BIG / -ENOMEM with *err filled in
 * and *out empty.
 */
int macro_parse(const char *script, size_t len, const struct layout *deflt,
		struct macro_script *out, struct macro_error *err);
void macro_script_free(struct macro_script *s);

/* "line 12: ..." or the bare message, into buf. */
void macro_error_format(const struct macro_error *e, char *buf, size_t len);

/*
 * A duration: digits with an optional unit ms, s, m or h ("500", "500ms",
 * "30s", "2m"); no unit means milliseconds, as DuckyScript's DELAY.
 * Returns 0 or -EINVAL (-ERANGE above max_ms).
 */
int macro_duration(const char *s, size_t len, uint32_t max_ms, uint32_t *ms);

/* The name of an op kind as scripts write it ("DELAY", "WAIT_USB"). */
const char *macro_op_name(enum macro_op_kind k);

#endif
