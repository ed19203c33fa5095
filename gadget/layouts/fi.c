/*
 * Finnish (the same keys as Swedish for every character here). The acute and
 * grave accents, the diaeresis, ^ and ~ (AltGr) are dead keys; ` ^ ~ themselves
 * are typed as dead key then space.
 */
#include "gadget/layouts/layout_rows.h"

static const struct layout_entry fi_table[] = {
	LET(K_A, 'a'),
	LET(K_B, 'b'),
	LET(K_C, 'c'),
	LET(K_D, 'd'),
	KEY3(K_E, 'e', 'E', U'€'),
	LET(K_F, 'f'),
	LET(K_G, 'g'),
	LET(K_H, 'h'),
	LET(K_I, 'i'),
	LET(K_J, 'j'),
	LET(K_K, 'k'),
	LET(K_L, 'l'),
	KEY3(K_M, 'm', 'M', U'µ'),
	LET(K_N, 'n'),
	LET(K_O, 'o'),
	LET(K_P, 'p'),
	LET(K_Q, 'q'),
	LET(K_R, 'r'),
	LET(K_S, 's'),
	LET(K_T, 't'),
	LET(K_U, 'u'),
	LET(K_V, 'v'),
	LET(K_W, 'w'),
	LET(K_X, 'x'),
	LET(K_Y, 'y'),
	LET(K_Z, 'z'),
	KEY2(K_1, '1', '!'),
	KEY3(K_2, '2', '"', '@'),
	KEY3(K_3, '3', '#', U'£'),
	KEY3(K_4, '4', U'¤', '$'),
	KEY2(K_5, '5', '%'),
	KEY2(K_6, '6', '&'),
	KEY3(K_7, '7', '/', '{'),
	KEY3(K_8, '8', '(', '['),
	KEY3(K_9, '9', ')', ']'),
	KEY3(K_0, '0', '=', '}'),
	KEY3(K_MINUS, '+', '?', '\\'),
	KEY2(K_EQUAL, D_ACUTE, D_GRAVE),
	KEY2(K_LBRACKET, U'å', U'Å'),
	KEY3(K_RBRACKET, D_DIAER, D_CIRC, D_TILDE),
	KEY2(K_HASH, '\'', '*'),
	KEY2(K_SEMICOLON, U'ö', U'Ö'),
	KEY2(K_QUOTE, U'ä', U'Ä'),
	KEY2(K_GRAVE, U'§', U'½'),
	KEY2(K_COMMA, ',', ';'),
	KEY2(K_PERIOD, '.', ':'),
	KEY2(K_SLASH, '-', '_'),
	KEY3(K_102ND, '<', '>', '|'),
};

LAYOUT_DEFINE(layout_fi, "fi", "Finnish", fi_table);
