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
	uint32_t cp; /* Unicode code point */
	struct keystroke ks[2]; /* dead key first, when ks[1].usage != 0 */
};

struct layout {
	const char *name; /* "us", "de", ... */
	const char *description;
	const struct layout_entry *entries;
	size_t n_entries;
};

const struct layout *layout_find(const char *name);
/* All layouts, NULL-terminated, for --help, tests and HA. */
const struct layout *const *layout_all(void);

/* Keystrokes for one code point: 1 or 2 (dead key). -ENOENT if none. */
int layout_map(const struct layout *l, uint32_t cp, struct keystroke out[2],
	       size_t *n);

#endif
