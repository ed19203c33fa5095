/*
 * Key names to HID usages: W3C KeyboardEvent.code names, short aliases,
 * DuckyScript names and raw usage codes, all case-insensitive.
 */
#ifndef ZB_KEYS_H
#define ZB_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_CHORD_MAX 6

/* One chord: modifiers held together with up to six keys. */
struct key_chord {
	uint8_t mods;
	uint8_t nkeys;
	uint8_t keys[KEYS_CHORD_MAX];
};

/*
 * Look up one key name. A modifier name ("ctrl", "ShiftLeft", "altgr")
 * sets *mod and leaves *usage 0; any other key sets *usage and leaves
 * *mod 0. Raw usage codes are written 0x00..0xff ("0x4c"); 0xe0..0xe7
 * are the modifiers. Returns 0 or -ENOENT.
 */
int keys_lookup(const char *name, size_t len, uint8_t *usage, uint8_t *mod);

/*
 * Parse "ctrl+alt+delete" (or "CTRL ALT DELETE" when sep is ' ', where
 * runs of blanks count as one separator). With sep '+', a '+' where a
 * name starts is the plus key itself: "shift++", "ctrl+plus" and
 * "ctrl+NumpadAdd" are the same chord. Returns 0, -ENOENT for an unknown
 * name, -EINVAL for an empty chord or a '+' with no name after it, and
 * -E2BIG for more than KEYS_CHORD_MAX keys (modifiers do not count).
 */
int keys_parse_chord(const char *s, size_t len, char sep,
		     struct key_chord *out);

/*
 * keys_parse_chord with the place of an error: *err_off and *err_len
 * (either may be NULL) are the offending name inside s, or the position
 * with length 0 for -EINVAL. With sep ' ' each blank-separated word is
 * a name, or names joined by '+' or '-' as some scripts write chords
 * ("CTRL-ALT DEL", "ctrl+shift t"); an error names the whole word.
 */
int keys_chord_parse(const char *s, size_t len, char sep, struct key_chord *out,
		     size_t *err_off, size_t *err_len);

/*
 * Parse a space-separated sequence of '+' chords into out[max].
 * On an unknown name returns -ENOENT and sets *err_off and *err_len to
 * the offending name inside s; -E2BIG when more than max chords (or more
 * than KEYS_CHORD_MAX keys in one chord), -EINVAL when s has no chord or
 * a chord ends in '+'; these set *err_off and *err_len to the chord (or
 * the position, length 0). err_off and err_len may be NULL.
 */
int keys_parse_sequence(const char *s, struct key_chord *out, size_t max,
			size_t *n, size_t *err_off, size_t *err_len);

/*
 * The canonical name of a usage, for messages and tests ("KeyA",
 * "ControlLeft"); NULL for a usage without a name.
 */
const char *keys_name(uint8_t usage);

/*
 * The i-th name of the table (canonical names, aliases, DuckyScript
 * names), for help texts and tests; NULL past the end.
 */
const char *keys_table_name(size_t i, uint8_t *usage);

#endif
