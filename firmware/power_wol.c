/* Wake-on-LAN: the magic packet and its non-blocking UDP send. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firmware/power.h"

static int power_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int power_mac_parse(const char *s, uint8_t mac[6])
{
	char sep = 0;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + i * 3;
		int hi = power_hex(p[0]), lo = power_hex(p[1]);

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

void power_wol_packet(const uint8_t mac[6], uint8_t out[POWER_WOL_LEN])
{
	memset(out, 0xff, 6);
	for (int i = 0; i < 16; i++)
		memcpy(out + 6 + i * 6, mac, 6);
}

int power_wol_addr(const char *ip, uint16_t port, struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons(port);
	/* Numeric only: a name lookup could block the loop. */
	if (!ip || !port || inet_pton(AF_INET, ip, &out->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

int power_wol_send(int *fd, const uint8_t mac[6], const struct sockaddr_in *to,
		   char *err, size_t errlen)
{
	uint8_t pkt[POWER_WOL_LEN];
	char ip[INET_ADDRSTRLEN] = "?";
	int one = 1;
	ssize_t n;

	inet_ntop(AF_INET, &to->sin_addr, ip, sizeof(ip));
	if (*fd < 0) {
		*fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			     0);
		if (*fd < 0) {
			int e = errno;

			snprintf(err, errlen, "Wake-on-LAN socket: %s",
				 strerror(e));
			return -e;
		}
		if (setsockopt(*fd, SOL_SOCKET, SO_BROADCAST, &one,
			       sizeof(one))) {
			int e = errno;

			close(*fd);
			*fd = -1;
			snprintf(err, errlen, "Wake-on-LAN SO_BROADCAST: %s",
				 strerror(e));
			return -e;
		}
	}
	power_wol_packet(mac, pkt);
	n = sendto(*fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)to,
		   sizeof(*to));
	if (n != (ssize_t)sizeof(pkt)) {
		int e = n < 0 ? errno : EIO;

		snprintf(err, errlen, "Wake-on-LAN to %s:%u: %s", ip,
			 ntohs(to->sin_port),
			 e == EAGAIN ? "socket buffer full, try again"
				     : strerror(e));
		return -e;
	}
	return 0;
}
