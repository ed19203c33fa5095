/*
 * Private helpers for the layout tables in this folder: key positions by
 * their US label and one-line rows with the characters of a key's levels.
 */
#ifndef ZB_LAYOUT_ROWS_H
#define ZB_LAYOUT_ROWS_H

#include "gadget/hid_report.h"
#include "gadget/layout.h"

/* HID usages (Keyboard page) named after the key's label on a US board. */
enum {
	K_A = 0x04,
	K_B,
	K_C,
	K_D,
	K_E,
	K_F,
	K_G,
	K_H,
	K_I,
	K_J,
	K_K,
	K_L,
	K_M,
	K_N,
	K_O,
	K_P,
	K_Q,
	K_R,
	K_S,
	K_T,
	K_U,
	K_V,
	K_W,
	K_X,
	K_Y,
	K_Z,
	K_1 = 0x1e,
	K_2,
	K_3,
	K_4,
	K_5,
	K_6,
	K_7,
	K_8,
	K_9,
	K_0,
	K_SPACE = 0x2c,
	K_MINUS = 0x2d,
	K_EQUAL,
	K_LBRACKET,
	K_RBRACKET,
	K_BACKSLASH, /* 0x31, the ANSI key above Enter */
	K_HASH,	     /* 0x32, the ISO key left of Enter */
	K_SEMICOLON,
	K_QUOTE,
	K_GRAVE,
	K_COMMA,
	K_PERIOD,
	K_SLASH,
	K_102ND = 0x64, /* the ISO key right of left Shift */
};

#define LR_SH HID_MOD_LSHIFT
#define LR_AG HID_MOD_RALT

#define LR_ONE(c, m, u)                                                        \
	{                                                                      \
		(c),                                                           \
		{                                                              \
			{(m), (u)},                                            \
			{                                                      \
				0, 0                                           \
			}                                                      \
		}                                                              \
	}

/* A key's four levels: plain, Shift, AltGr, Shift+AltGr (0: nothing). */
#define KEY(u, c0, c1, c2, c3)                                                 \
	LR_ONE(c0, 0, u), LR_ONE(c1, LR_SH, u), LR_ONE(c2, LR_AG, u),          \
		LR_ONE(c3, LR_SH | LR_AG, u)
#define KEY2(u, c0, c1) LR_ONE(c0, 0, u), LR_ONE(c1, LR_SH, u)
#define KEY3(u, c0, c1, c2) KEY(u, c0, c1, c2, 0)
/* A letter and its capital (ASCII letters only). */
#define LET(u, c) KEY2(u, c, (c) - 'a' + 'A')

/* A character typed as two keystrokes (a dead key, then another key). */
#define SEQ(c, m0, u0, m1, u1)                                                 \
	{                                                                      \
		(c),                                                           \
		{                                                              \
			{(m0), (u0)},                                          \
			{                                                      \
				(m1), (u1)                                     \
			}                                                      \
		}                                                              \
	}

#define D_GRAVE LAYOUT_DEAD_KEY(LAYOUT_GRAVE)
#define D_ACUTE LAYOUT_DEAD_KEY(LAYOUT_ACUTE)
#define D_CIRC LAYOUT_DEAD_KEY(LAYOUT_CIRCUMFLEX)
#define D_TILDE LAYOUT_DEAD_KEY(LAYOUT_TILDE)
#define D_DIAER LAYOUT_DEAD_KEY(LAYOUT_DIAERESIS)

#define LAYOUT_DEFINE(var, nm, desc, table)                                    \
	const struct layout var = {nm, desc, table,                            \
				   sizeof(table) / sizeof((table)[0])}

/* Every layout, for the registry in gadget/layout.c. */
extern const struct layout layout_us, layout_us_intl, layout_gb, layout_de,
	layout_ch_de, layout_fr, layout_be, layout_es, layout_it, layout_nl,
	layout_pt, layout_dk, layout_no, layout_se, layout_fi;

#endif
