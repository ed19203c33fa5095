/*
 * What the configuration's files share: the table's row type, the table
 * itself (config_table.c) and the error setter. Only config*.c include
 * this.
 */
#ifndef ZB_CONFIG_PRIV_H
#define ZB_CONFIG_PRIV_H

#include <stddef.h>

#include "firmware/core/config.h"

enum config_type {
	CT_STR,
	CT_PATH,
	CT_BOOL,
	CT_INT,
	CT_U16,
	CT_U32,
	CT_HEX16,
	CT_LOGLEVEL,
	CT_GROUPS,
	CT_ID,
	CT_SIZE,
};

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	size_t offset;
	size_t size;   /* of the destination string */
	long min, max; /* for numbers */
};

/* Room for the parser's "seen" marks; config_table.c checks the table fits. */
#define CONFIG_KEYS_MAX 128

extern const struct config_key config_keys[];
extern const size_t config_n_keys;

/* config_parse.c */
void config_err_set(struct config_error *e, int line, const char *section,
		    const char *key, const char *msg);
/* Split mqtt.uri (a list) into tls and the brokers' hosts and ports. */
int config_parse_uri(struct config *c, struct config_error *err);

#endif
