/*
 * Swiss German (QWERTZ). ^ ` ~ and the diaeresis and acute accent are dead
 * keys. Shift on the umlaut keys gives French accented letters, so the
 * capital umlauts are typed with the dead diaeresis.
 */
#include "gadget/layouts/layout_rows.h"

static const struct layout_entry ch_de_table[] = {
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
	LET(K_Y, 'z'),
	LET(K_Z, 'y'),
	KEY2(K_1, '1', '+'),
	KEY3(K_2, '2', '"', '@'),
	KEY3(K_3, '3', '*', '#'),
	KEY2(K_4, '4', U'ç'),
	KEY2(K_5, '5', '%'),
	KEY3(K_6, '6', '&', U'¬'),
	KEY3(K_7, '7', '/', '|'),
	KEY3(K_8, '8', '(', U'¢'),
	KEY2(K_9, '9', ')'),
	KEY2(K_0, '0', '='),
	KEY3(K_MINUS, '\'', '?', D_ACUTE),
	KEY3(K_EQUAL, D_CIRC, D_GRAVE, D_TILDE),
	KEY3(K_LBRACKET, U'ü', U'è', '['),
	KEY3(K_RBRACKET, D_DIAER, '!', ']'),
	KEY3(K_HASH, '$', U'£', '}'),
	KEY2(K_SEMICOLON, U'ö', U'é'),
	KEY3(K_QUOTE, U'ä', U'à', '{'),
	KEY2(K_GRAVE, U'§', U'°'),
	KEY2(K_COMMA, ',', ';'),
	KEY2(K_PERIOD, '.', ':'),
	KEY2(K_SLASH, '-', '_'),
	KEY3(K_102ND, '<', '>', '\\'),
};

LAYOUT_DEFINE(layout_ch_de, "ch-de", "Swiss German", ch_de_table);
