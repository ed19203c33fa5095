/*
 * Belgian (AZERTY). ^, the diaeresis, ` (AltGr+µ), the acute accent
 * (AltGr+ù) and ~ (AltGr+=) are dead keys; ^ ` ~ themselves are typed as
 * dead key then space.
 */
#include "gadget/layouts/layout_rows.h"

static const struct layout_entry be_table[] = {
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
	KEY3(K_1, '&', '1', '|'),
	KEY3(K_2, U'é', '2', '@'),
	KEY3(K_3, '"', '3', '#'),
	KEY2(K_4, '\'', '4'),
	KEY2(K_5, '(', '5'),
	KEY2(K_6, U'§', '6'),
	KEY2(K_7, U'è', '7'),
	KEY2(K_8, '!', '8'),
	KEY3(K_9, U'ç', '9', '{'),
	KEY3(K_0, U'à', '0', '}'),
	KEY2(K_MINUS, ')', U'°'),
	KEY2(K_EQUAL, '-', '_'),
	KEY3(K_LBRACKET, D_CIRC, D_DIAER, '['),
	KEY3(K_RBRACKET, '$', '*', ']'),
	KEY3(K_HASH, U'µ', U'£', D_GRAVE),
	KEY3(K_QUOTE, U'ù', '%', D_ACUTE),
	KEY2(K_GRAVE, U'²', U'³'),
	KEY2(K_COMMA, ';', '.'),
	KEY2(K_PERIOD, ':', '/'),
	KEY3(K_SLASH, '=', '+', D_TILDE),
	KEY3(K_102ND, '<', '>', '\\'),
};

LAYOUT_DEFINE(layout_be, "be", "Belgian (AZERTY)", be_table);
