/* The layout registry and the lookup of a character's keystrokes. */
#include <errno.h>
#include <strings.h>

#include "gadget/layout.h"
#include "gadget/layouts/layout_rows.h"

static const struct layout *const layout_list[] = {
	&layout_us,    &layout_us_intl, &layout_gb, &layout_de,
	&layout_ch_de, &layout_fr,	&layout_be, &layout_es,
	&layout_it,    &layout_nl,	&layout_pt, &layout_dk,
	&layout_no,    &layout_se,	&layout_fi, NULL,
};

/* Other names people use for the same layouts. */
static const struct {
	const char *alias;
	const char *name;
} layout_aliases[] = {
	{"uk", "gb"},	     {"en-gb", "gb"},
	{"en-us", "us"},     {"us-international", "us-intl"},
	{"intl", "us-intl"}, {"ch", "ch-de"},
	{"de-ch", "ch-de"},  {"da", "dk"},
	{"nb", "no"},	     {"sv", "se"},
};

/*
 * Accent compositions that Linux (X11 Compose and the console) and Windows
 * both perform for a dead key followed by a base character. Dead key then
 * space gives the spacing accent only for ` ^ ~: for the acute accent and
 * the diaeresis the systems disagree (´ ¨ on Windows, ' " on Linux).
 */
static const struct {
	uint8_t accent;
	uint8_t base;
	uint16_t cp;
} layout_compose[] = {
	{LAYOUT_GRAVE, ' ', '`'},	{LAYOUT_CIRCUMFLEX, ' ', '^'},
	{LAYOUT_TILDE, ' ', '~'},

	{LAYOUT_GRAVE, 'a', 0xe0},	{LAYOUT_GRAVE, 'e', 0xe8},
	{LAYOUT_GRAVE, 'i', 0xec},	{LAYOUT_GRAVE, 'o', 0xf2},
	{LAYOUT_GRAVE, 'u', 0xf9},	{LAYOUT_GRAVE, 'A', 0xc0},
	{LAYOUT_GRAVE, 'E', 0xc8},	{LAYOUT_GRAVE, 'I', 0xcc},
	{LAYOUT_GRAVE, 'O', 0xd2},	{LAYOUT_GRAVE, 'U', 0xd9},

	{LAYOUT_ACUTE, 'a', 0xe1},	{LAYOUT_ACUTE, 'e', 0xe9},
	{LAYOUT_ACUTE, 'i', 0xed},	{LAYOUT_ACUTE, 'o', 0xf3},
	{LAYOUT_ACUTE, 'u', 0xfa},	{LAYOUT_ACUTE, 'y', 0xfd},
	{LAYOUT_ACUTE, 'A', 0xc1},	{LAYOUT_ACUTE, 'E', 0xc9},
	{LAYOUT_ACUTE, 'I', 0xcd},	{LAYOUT_ACUTE, 'O', 0xd3},
	{LAYOUT_ACUTE, 'U', 0xda},	{LAYOUT_ACUTE, 'Y', 0xdd},

	{LAYOUT_CIRCUMFLEX, 'a', 0xe2}, {LAYOUT_CIRCUMFLEX, 'e', 0xea},
	{LAYOUT_CIRCUMFLEX, 'i', 0xee}, {LAYOUT_CIRCUMFLEX, 'o', 0xf4},
	{LAYOUT_CIRCUMFLEX, 'u', 0xfb}, {LAYOUT_CIRCUMFLEX, 'A', 0xc2},
	{LAYOUT_CIRCUMFLEX, 'E', 0xca}, {LAYOUT_CIRCUMFLEX, 'I', 0xce},
	{LAYOUT_CIRCUMFLEX, 'O', 0xd4}, {LAYOUT_CIRCUMFLEX, 'U', 0xdb},

	{LAYOUT_TILDE, 'a', 0xe3},	{LAYOUT_TILDE, 'o', 0xf5},
	{LAYOUT_TILDE, 'n', 0xf1},	{LAYOUT_TILDE, 'A', 0xc3},
	{LAYOUT_TILDE, 'O', 0xd5},	{LAYOUT_TILDE, 'N', 0xd1},

	{LAYOUT_DIAERESIS, 'a', 0xe4},	{LAYOUT_DIAERESIS, 'e', 0xeb},
	{LAYOUT_DIAERESIS, 'i', 0xef},	{LAYOUT_DIAERESIS, 'o', 0xf6},
	{LAYOUT_DIAERESIS, 'u', 0xfc},	{LAYOUT_DIAERESIS, 'y', 0xff},
	{LAYOUT_DIAERESIS, 'A', 0xc4},	{LAYOUT_DIAERESIS, 'E', 0xcb},
	{LAYOUT_DIAERESIS, 'I', 0xcf},	{LAYOUT_DIAERESIS, 'O', 0xd6},
	{LAYOUT_DIAERESIS, 'U', 0xdc},
};

/* Keys that type the same character in every layout. */
static const struct {
	uint32_t cp;
	uint8_t usage;
} layout_common[] = {
	{' ', K_SPACE},
	{'\n', 0x28}, /* Enter */
	{'\t', 0x2b}, /* Tab */
};

#define LAYOUT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const struct layout *layout_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < LAYOUT_ARRAY_LEN(layout_aliases); i++) {
		if (!strcasecmp(name, layout_aliases[i].alias)) {
			name = layout_aliases[i].name;
			break;
		}
	}
	for (i = 0; layout_list[i]; i++) {
		if (!strcasecmp(name, layout_list[i]->name))
			return layout_list[i];
	}
	return NULL;
}

const struct layout *const *layout_all(void)
{
	return layout_list;
}

static const struct layout_entry *layout_entry_of(const struct layout *l,
						  uint32_t cp)
{
	size_t i;

	for (i = 0; i < l->n_entries; i++) {
		if (l->entries[i].cp == cp)
			return &l->entries[i];
	}
	return NULL;
}

/* One keystroke that types cp by itself, from the table or the common keys. */
static int layout_single(const struct layout *l, uint32_t cp,
			 struct keystroke *out)
{
	const struct layout_entry *e = layout_entry_of(l, cp);
	size_t i;

	if (e && !e->ks[1].usage) {
		*out = e->ks[0];
		return 0;
	}
	for (i = 0; i < LAYOUT_ARRAY_LEN(layout_common); i++) {
		if (layout_common[i].cp == cp) {
			out->mods = 0;
			out->usage = layout_common[i].usage;
			return 0;
		}
	}
	return -ENOENT;
}

static int layout_composed(const struct layout *l, uint32_t cp,
			   struct keystroke out[2])
{
	const struct layout_entry *dead;
	size_t i;

	for (i = 0; i < LAYOUT_ARRAY_LEN(layout_compose); i++) {
		if (layout_compose[i].cp != cp)
			continue;
		dead = layout_entry_of(
			l, LAYOUT_DEAD_KEY(layout_compose[i].accent));
		if (!dead)
			continue;
		if (layout_single(l, layout_compose[i].base, &out[1]))
			continue;
		out[0] = dead->ks[0];
		return 0;
	}
	return -ENOENT;
}

int layout_map(const struct layout *l, uint32_t cp, struct keystroke out[2],
	       size_t *n)
{
	const struct layout_entry *e;

	if (!l || cp == 0 || cp >= LAYOUT_DEAD)
		return -ENOENT;
	e = layout_entry_of(l, cp);
	if (e) {
		out[0] = e->ks[0];
		out[1] = e->ks[1];
		*n = e->ks[1].usage ? 2 : 1;
		return 0;
	}
	if (!layout_composed(l, cp, out)) {
		*n = 2;
		return 0;
	}
	if (!layout_single(l, cp, &out[0])) {
		out[1].mods = 0;
		out[1].usage = 0;
		*n = 1;
		return 0;
	}
	return -ENOENT;
}
