#include "gadget/hid.h"

#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

int hid_open(const char *path)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct termios tio;

	if (fd < 0)
		return -errno;
	if (isatty(fd) && tcgetattr(fd, &tio) == 0) {
		/* A pty stand-in must pass report bytes untouched. */
		cfmakeraw(&tio);
		tcsetattr(fd, TCSANOW, &tio);
	}
	return fd;
}

int hid_report_write(int fd, const struct hid_report *r)
{
	ssize_t n = write(fd, r->b, HID_REPORT_LEN);

	if (n == HID_REPORT_LEN)
		return 0;
	if (n >= 0)
		return -EIO; /* a report is all or nothing */
	if (errno == EINTR)
		return -EAGAIN;
	return -errno;
}

int hid_led_read(int fd, uint8_t *leds)
{
	uint8_t buf[64];
	ssize_t n;
	int got = 0;

	/* Drain: only the newest LED state matters. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		*leds = buf[n - 1];
		got = 1;
	}
	if (got)
		return 0;
	if (n == 0)
		return -EPIPE; /* end of file: a stand-in whose peer is gone */
	return errno == EINTR ? -EAGAIN : -errno;
}
