/*
 * English (US, international with dead keys): ' " ` ~ ^ are dead keys and
 * AltGr (right Alt) types accented letters. Linux "us(intl)" and Windows
 * "US-International" agree on every character here. The quote characters
 * themselves are typed as dead key then space.
 */
#include "gadget/layouts/layout_rows.h"

static const struct layout_entry us_intl_table[] = {
	KEY(K_Q, 'q', 'Q', U'ä', U'Ä'),
	KEY(K_W, 'w', 'W', U'å', U'Å'),
	KEY(K_E, 'e', 'E', U'é', U'É'),
	KEY3(K_R, 'r', 'R', U'®'),
	KEY(K_T, 't', 'T', U'þ', U'Þ'),
	KEY(K_Y, 'y', 'Y', U'ü', U'Ü'),
	KEY(K_U, 'u', 'U', U'ú', U'Ú'),
	KEY(K_I, 'i', 'I', U'í', U'Í'),
	KEY(K_O, 'o', 'O', U'ó', U'Ó'),
	KEY(K_P, 'p', 'P', U'ö', U'Ö'),
	KEY(K_A, 'a', 'A', U'á', U'Á'),
	KEY(K_S, 's', 'S', U'ß', U'§'),
	KEY(K_D, 'd', 'D', U'ð', U'Ð'),
	LET(K_F, 'f'),
	LET(K_G, 'g'),
	LET(K_H, 'h'),
	LET(K_J, 'j'),
	LET(K_K, 'k'),
	KEY(K_L, 'l', 'L', U'ø', U'Ø'),
	KEY(K_Z, 'z', 'Z', U'æ', U'Æ'),
	LET(K_X, 'x'),
	KEY(K_C, 'c', 'C', U'©', U'¢'),
	LET(K_V, 'v'),
	LET(K_B, 'b'),
	KEY(K_N, 'n', 'N', U'ñ', U'Ñ'),
	KEY3(K_M, 'm', 'M', U'µ'),
	KEY(K_1, '1', '!', U'¡', U'¹'),
	KEY3(K_2, '2', '@', U'²'),
	KEY3(K_3, '3', '#', U'³'),
	KEY(K_4, '4', '$', U'¤', U'£'),
	KEY3(K_5, '5', '%', U'€'),
	KEY3(K_6, '6', D_CIRC, U'¼'),
	KEY3(K_7, '7', '&', U'½'),
	KEY3(K_8, '8', '*', U'¾'),
	KEY3(K_9, '9', '(', U'‘'),
	KEY3(K_0, '0', ')', U'’'),
	KEY3(K_MINUS, '-', '_', U'¥'),
	KEY3(K_EQUAL, '=', '+', U'×'),
	KEY3(K_LBRACKET, '[', '{', U'«'),
	KEY3(K_RBRACKET, ']', '}', U'»'),
	KEY3(K_BACKSLASH, '\\', '|', U'¬'),
	KEY(K_SEMICOLON, ';', ':', U'¶', U'°'),
	KEY2(K_QUOTE, D_ACUTE, D_DIAER),
	KEY2(K_GRAVE, D_GRAVE, D_TILDE),
	KEY(K_COMMA, ',', '<', U'ç', U'Ç'),
	KEY2(K_PERIOD, '.', '>'),
	KEY3(K_SLASH, '/', '?', U'¿'),
	/* Both systems type the plain quote for dead key then space. */
	SEQ('\'', 0, K_QUOTE, 0, K_SPACE),
	SEQ('"', LR_SH, K_QUOTE, 0, K_SPACE),
};

LAYOUT_DEFINE(layout_us_intl, "us-intl",
	      "English (US, international with dead keys)", us_intl_table);
