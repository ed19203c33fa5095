/*
 * German (QWERTZ). ^ and the acute and grave accents are dead keys; ^ and
 * ` themselves are typed as dead key then space. The acute accent alone
 * is left out: dead key then space gives ´ on Windows but ' on Linux.
 */
#include "gadget/layouts/layout_rows.h"

static const struct layout_entry de_table[] = {
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
	KEY3(K_Q, 'q', 'Q', '@'),
	LET(K_R, 'r'),
	LET(K_S, 's'),
	LET(K_T, 't'),
	LET(K_U, 'u'),
	LET(K_V, 'v'),
	LET(K_W, 'w'),
	LET(K_X, 'x'),
	LET(K_Y, 'z'),
	LET(K_Z, 'y'),
	KEY2(K_1, '1', '!'),
	KEY3(K_2, '2', '"', U'²'),
	KEY3(K_3, '3', U'§', U'³'),
	KEY2(K_4, '4', '$'),
	KEY2(K_5, '5', '%'),
	KEY2(K_6, '6', '&'),
	KEY3(K_7, '7', '/', '{'),
	KEY3(K_8, '8', '(', '['),
	KEY3(K_9, '9', ')', ']'),
	KEY3(K_0, '0', '=', '}'),
	KEY3(K_MINUS, U'ß', '?', '\\'),
	KEY2(K_EQUAL, D_ACUTE, D_GRAVE),
	KEY2(K_LBRACKET, U'ü', U'Ü'),
	KEY3(K_RBRACKET, '+', '*', '~'),
	KEY2(K_HASH, '#', '\''),
	KEY2(K_SEMICOLON, U'ö', U'Ö'),
	KEY2(K_QUOTE, U'ä', U'Ä'),
	KEY2(K_GRAVE, D_CIRC, U'°'),
	KEY2(K_COMMA, ',', ';'),
	KEY2(K_PERIOD, '.', ':'),
	KEY2(K_SLASH, '-', '_'),
	KEY3(K_102ND, '<', '>', '|'),
};

LAYOUT_DEFINE(layout_de, "de", "German", de_table);
