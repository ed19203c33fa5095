/*
 * French (AZERTY). ^ and the diaeresis are dead keys. Windows differs in
 * two places: AltGr+2 (~) and AltGr+7 (`) are dead keys there, plain
 * characters on Linux as this table has them.
 */
#include "gadget/layouts/layout_rows.h"

static const struct layout_entry fr_table[] = {
	LET(K_Q, 'a'),
	LET(K_W, 'z'),
	KEY3(K_E, 'e', 'E', U'€'),
	LET(K_R, 'r'),
	LET(K_T, 't'),
	LET(K_Y, 'y'),
	LET(K_U, 'u'),
	LET(K_I, 'i'),
	LET(K_O, 'o'),
	LET(K_P, 'p'),
	LET(K_A, 'q'),
	LET(K_S, 's'),
	LET(K_D, 'd'),
	LET(K_F, 'f'),
	LET(K_G, 'g'),
	LET(K_H, 'h'),
	LET(K_J, 'j'),
	LET(K_K, 'k'),
	LET(K_L, 'l'),
	LET(K_SEMICOLON, 'm'),
	LET(K_Z, 'w'),
	LET(K_X, 'x'),
	LET(K_C, 'c'),
	LET(K_V, 'v'),
	LET(K_B, 'b'),
	LET(K_N, 'n'),
	KEY2(K_M, ',', '?'),
	KEY2(K_1, '&', '1'),
	KEY3(K_2, U'é', '2', '~'),
	KEY3(K_3, '"', '3', '#'),
	KEY3(K_4, '\'', '4', '{'),
	KEY3(K_5, '(', '5', '['),
	KEY3(K_6, '-', '6', '|'),
	KEY3(K_7, U'è', '7', '`'),
	KEY3(K_8, '_', '8', '\\'),
	KEY3(K_9, U'ç', '9', '^'),
	KEY3(K_0, U'à', '0', '@'),
	KEY3(K_MINUS, ')', U'°', ']'),
	KEY3(K_EQUAL, '=', '+', '}'),
	KEY2(K_LBRACKET, D_CIRC, D_DIAER),
	KEY3(K_RBRACKET, '$', U'£', U'¤'),
	KEY2(K_QUOTE, U'ù', '%'),
	KEY2(K_HASH, '*', U'µ'),
	KEY2(K_GRAVE, U'²', 0),
	KEY2(K_COMMA, ';', '.'),
	KEY2(K_PERIOD, ':', '/'),
	KEY2(K_SLASH, '!', U'§'),
	KEY2(K_102ND, '<', '>'),
};

LAYOUT_DEFINE(layout_fr, "fr", "French (AZERTY)", fr_table);
