/*
 * Keyboard layouts: which keystrokes the host's layout turns into a
 * character. Each layout is a data table in gadget/layouts/, one per file.
 */
#ifndef ZB_LAYOUT_H
#define ZB_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct keystroke {
	uint8_t mods;
	uint8_t usage;
};

struct layout_entry {
	uint32_t cp;		/* Unicode code point */
	struct keystroke ks[2]; /* dead key first, when ks[1].usage != 0 */
};

/*
 * Table entries whose cp is LAYOUT_DEAD + an accent mark a dead key: the
 * keystroke types nothing by itself and puts that accent on the next
 * letter. Entries with cp 0 are empty places (a level of a key that has
 * no character, or one the layouts leave out on purpose).
 */
enum layout_accent {
	LAYOUT_GRAVE,
	LAYOUT_ACUTE,
	LAYOUT_CIRCUMFLEX,
	LAYOUT_TILDE,
	LAYOUT_DIAERESIS,
	LAYOUT_N_ACCENTS,
};

#define LAYOUT_DEAD 0x110000u
#define LAYOUT_DEAD_KEY(accent) (LAYOUT_DEAD + (uint32_t)(accent))

struct layout {
	const char *name; /* "us", "de", ... */
	const char *description;
	const struct layout_entry *entries;
	size_t n_entries;
};

const struct layout *layout_find(const char *name);
/* All layouts, NULL-terminated, for --help, tests and HA. */
const struct layout *const *layout_all(void);

/*
 * Keystrokes for one code point: 1 or 2 (dead key). -ENOENT if none.
 * Characters come from the layout's table, then from a dead key of the
 * table followed by a base letter (accent composition, the same on Linux
 * and Windows), then from the keys every layout shares (space, '\n' as
 * Enter, '\t' as Tab).
 */
int layout_map(const struct layout *l, uint32_t cp, struct keystroke out[2],
	       size_t *n);

#endif
