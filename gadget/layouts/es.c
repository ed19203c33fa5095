/*
 * Spanish. ` ^ and the acute accent and diaeresis are dead keys; ` and ^
 * themselves are typed as dead key then space. Windows makes AltGr+4 (~)
 * a dead key; on Linux, as here, it types ~.
 */
#include "gadget/layouts/layout_rows.h"

static const struct layout_entry es_table[] = {
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
	KEY3(K_1, '1', '!', '|'),
	KEY3(K_2, '2', '"', '@'),
	KEY3(K_3, '3', U'·', '#'),
	KEY3(K_4, '4', '$', '~'),
	KEY2(K_5, '5', '%'),
	KEY3(K_6, '6', '&', U'¬'),
	KEY2(K_7, '7', '/'),
	KEY2(K_8, '8', '('),
	KEY2(K_9, '9', ')'),
	KEY2(K_0, '0', '='),
	KEY2(K_MINUS, '\'', '?'),
	KEY2(K_EQUAL, U'¡', U'¿'),
	KEY3(K_LBRACKET, D_GRAVE, D_CIRC, '['),
	KEY3(K_RBRACKET, '+', '*', ']'),
	KEY3(K_HASH, U'ç', U'Ç', '}'),
	KEY2(K_SEMICOLON, U'ñ', U'Ñ'),
	KEY3(K_QUOTE, D_ACUTE, D_DIAER, '{'),
	KEY3(K_GRAVE, U'º', U'ª', '\\'),
	KEY2(K_COMMA, ',', ';'),
	KEY2(K_PERIOD, '.', ':'),
	KEY2(K_SLASH, '-', '_'),
	KEY2(K_102ND, '<', '>'),
};

LAYOUT_DEFINE(layout_es, "es", "Spanish", es_table);
