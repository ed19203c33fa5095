/* Addresses written in the configuration: MAC and numeric IPv4. */
#ifndef ZB_ADDR_H
#define ZB_ADDR_H

#include <netinet/in.h>
#include <stdint.h>

/* The value of one hex digit, or -1 when c is none. */
int addr_hex_digit(char c);
/* "aa:bb:cc:dd:ee:ff" or with '-'. Returns 0 or -EINVAL. */
int addr_mac_parse(const char *s, uint8_t mac[6]);
/*
 * A numeric IPv4 address and a port (numeric only: a name lookup could
 * block the loop). Returns 0 or -EINVAL.
 */
int addr_ipv4(const char *ip, uint16_t port, struct sockaddr_in *out);

#endif
