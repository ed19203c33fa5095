/* Addresses written in the configuration: MAC and numeric IPv4. */
#include "firmware/core/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

int addr_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int addr_mac_parse(const char *s, uint8_t mac[6])
{
	char sep = 0;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + i * 3;
		int hi = addr_hex_digit(p[0]), lo = addr_hex_digit(p[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < 5) {
			/* One separator kind throughout: ':' or '-'. */
			if ((p[2] != ':' && p[2] != '-') ||
			    (sep && p[2] != sep))
				return -EINVAL;
			sep = p[2];
		}
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int addr_ipv4(const char *ip, uint16_t port, struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons(port);
	/* Numeric only: a name lookup could block the loop. */
	if (!ip || !port || inet_pton(AF_INET, ip, &out->sin_addr) != 1)
		return -EINVAL;
	return 0;
}
