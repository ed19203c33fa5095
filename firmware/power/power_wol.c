/* Wake-on-LAN: the magic packet and its non-blocking UDP send. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firmware/power/power.h"

void power_wol_packet(const uint8_t mac[6], uint8_t out[POWER_WOL_LEN])
{
	memset(out, 0xff, 6);
	for (int i = 0; i < 16; i++)
		memcpy(out + 6 + i * 6, mac, 6);
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
