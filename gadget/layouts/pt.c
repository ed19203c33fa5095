/*
 * Portuguese (Portugal). The acute and grave accents, ~ ^ and the
 * diaeresis are dead keys; ` ~ ^ themselves are typed as dead key then
 * space.
 */
#include "gadget/layouts/layout_rows.h"

static const struct layout_entry pt_table[] = {
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
	LET(K_M, 'm'),
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
	KEY3(K_4, '4', '$', U'§'),
	KEY2(K_5, '5', '%'),
	KEY2(K_6, '6', '&'),
	KEY3(K_7, '7', '/', '{'),
	KEY3(K_8, '8', '(', '['),
	KEY3(K_9, '9', ')', ']'),
	KEY3(K_0, '0', '=', '}'),
	KEY2(K_MINUS, '\'', '?'),
	KEY2(K_EQUAL, U'«', U'»'),
	KEY3(K_LBRACKET, '+', '*', D_DIAER),
	KEY2(K_RBRACKET, D_ACUTE, D_GRAVE),
	KEY2(K_HASH, D_TILDE, D_CIRC),
	KEY2(K_SEMICOLON, U'ç', U'Ç'),
	KEY2(K_QUOTE, U'º', U'ª'),
	KEY2(K_GRAVE, '\\', '|'),
	KEY2(K_COMMA, ',', ';'),
	KEY2(K_PERIOD, '.', ':'),
	KEY2(K_SLASH, '-', '_'),
	KEY2(K_102ND, '<', '>'),
};

LAYOUT_DEFINE(layout_pt, "pt", "Portuguese", pt_table);
