/*
 * A small tool for tests/lab/test_gadget.py, run inside the lab's Pi VM
 * (which has no Python): the kernel calls the shell cannot make. Built
 * statically on the host by the test, reached through the 9p share.
 *
 *   gadget_probe hid-write DEV HEX...   one non-blocking write per 8-byte
 *                                       report, prints ok or the errno name
 *   gadget_probe hid-read DEV MS        prints each output (LED) report
 *   gadget_probe evdev-read DEV MS      prints "type code value" per event
 *   gadget_probe evdev-led DEV CODE VAL writes an EV_LED event (host side)
 *   gadget_probe udc-wait FILE MS       prints the UDC state and each
 *                                       POLLPRI change until MS pass
 *   gadget_probe up-hook IMAGE          gadget_up() with a before_bind hook
 *                                       that inserts IMAGE into lun.0
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gadget/compose.h"
#include "gadget/lun.h"
#include "gadget/udc.h"

static long probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *probe_errname(int e)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{EAGAIN, "EAGAIN"},	    {ESHUTDOWN, "ESHUTDOWN"},
		{EINTR, "EINTR"},	    {EIO, "EIO"},
		{ENODEV, "ENODEV"},	    {EINVAL, "EINVAL"},
		{EBUSY, "EBUSY"},	    {ENOENT, "ENOENT"},
		{ECONNRESET, "ECONNRESET"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	return "E?";
}

static int probe_hex(const char *s, unsigned char *out, size_t len)
{
	size_t i;

	if (strlen(s) != len * 2)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int probe_hid_write(int argc, char **argv)
{
	unsigned char r[8];
	int fd, i;

	fd = open(argv[2], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		printf("open %s\n", probe_errname(errno));
		return 1;
	}
	for (i = 3; i < argc; i++) {
		if (probe_hex(argv[i], r, sizeof(r)) < 0) {
			printf("bad report %s\n", argv[i]);
			return 2;
		}
		if (write(fd, r, sizeof(r)) == (ssize_t)sizeof(r))
			printf("write %d ok\n", i - 2);
		else
			printf("write %d %s\n", i - 2, probe_errname(errno));
		fflush(stdout);
	}
	close(fd);
	return 0;
}

static int probe_hid_read(int argc, char **argv)
{
	long end = probe_now_ms() + atol(argv[3]);
	struct pollfd p = {.events = POLLIN};
	unsigned char buf[16];
	ssize_t n, i;

	p.fd = open(argv[2], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (p.fd < 0) {
		printf("open %s\n", probe_errname(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		long left = end - probe_now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = read(p.fd, buf, sizeof(buf));
		if (n < 0) {
			printf("read %s\n", probe_errname(errno));
			return 1;
		}
		printf("report");
		for (i = 0; i < n; i++)
			printf(" %02x", buf[i]);
		printf("\n");
		fflush(stdout);
	}
	printf("end\n");
	return 0;
}

static int probe_evdev_read(int argc, char **argv)
{
	long end = probe_now_ms() + atol(argv[3]);
	struct pollfd p = {.events = POLLIN};
	struct input_event ev;

	p.fd = open(argv[2], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (p.fd < 0) {
		printf("open %s\n", probe_errname(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		long left = end - probe_now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		while (read(p.fd, &ev, sizeof(ev)) == (ssize_t)sizeof(ev)) {
			if (ev.type == EV_SYN || ev.type == EV_MSC)
				continue;
			printf("%u %u %d\n", ev.type, ev.code, ev.value);
			fflush(stdout);
		}
	}
	printf("end\n");
	return 0;
}

static int probe_evdev_led(int argc, char **argv)
{
	struct input_event ev[2];
	int fd;

	memset(ev, 0, sizeof(ev));
	ev[0].type = EV_LED;
	ev[0].code = (unsigned short)atoi(argv[3]);
	ev[0].value = atoi(argv[4]);
	ev[1].type = EV_SYN;
	ev[1].code = SYN_REPORT;
	fd = open(argv[2], O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, ev, sizeof(ev)) != (ssize_t)sizeof(ev)) {
		printf("led %s\n", probe_errname(errno));
		return 1;
	}
	printf("led ok\n");
	close(fd);
	return 0;
}

static int probe_udc_wait(int argc, char **argv)
{
	long start = probe_now_ms(), end = start + atol(argv[3]);
	struct pollfd p = {.events = POLLPRI | POLLERR};
	enum udc_state st;
	int ret;

	p.fd = udc_state_open(argv[2]);
	if (p.fd < 0) {
		printf("open %s\n", probe_errname(-p.fd));
		return 1;
	}
	ret = udc_state_read(p.fd, &st);
	if (ret < 0) {
		printf("read %s\n", probe_errname(-ret));
		return 1;
	}
	printf("initial %s\n", udc_state_name(st));
	fflush(stdout);
	for (;;) {
		long left = end - probe_now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		ret = udc_state_read(p.fd, &st);
		if (ret < 0) {
			printf("read %s\n", probe_errname(-ret));
			return 1;
		}
		printf("event %s after %ld ms (revents %#x)\n",
		       udc_state_name(st), probe_now_ms() - start,
		       (unsigned)p.revents);
		fflush(stdout);
	}
	printf("end\n");
	return 0;
}

struct probe_hook {
	const char *image;
	int calls;
};

/* What the media module does: put the image in before the host looks. */
static int probe_before_bind(const struct gadget_info *info, void *user)
{
	struct probe_hook *h = user;
	char path[GADGET_PATH_MAX + 16], udc[64] = "", cur[LUN_FILE_MAX];
	int fd;

	h->calls++;
	snprintf(path, sizeof(path), "/sys/kernel/config/usb_gadget/%s/UDC",
		 info->name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, udc, sizeof(udc) - 1);

		udc[n > 0 ? n : 0] = '\0';
		udc[strcspn(udc, "\n")] = '\0';
		close(fd);
	}
	printf("hook udc_file='%s' target=%s hid=%s tty=%s luns=%d "
	       "was_bound=%d\n",
	       udc, info->udc, info->hid_dev, info->acm_tty, info->nluns,
	       info->was_bound);
	/* Already in: writing it again would fail with EBUSY whenever the
	 * host has the medium locked (its partition scan does, briefly). */
	if (!lun_attr_read(info->lun[0], "file", cur, sizeof(cur)) &&
	    !strcmp(cur, h->image))
		return 0;
	return lun_attr_write(info->lun[0], "file", h->image);
}

static int probe_up_hook(int argc, char **argv)
{
	struct probe_hook h = {.image = argv[2]};
	struct gadget_spec spec = {.luns = 1};
	struct gadget_info info;
	char err[512];
	int ret;

	ret = gadget_up(&spec, probe_before_bind, &h, &info, err, sizeof(err));
	printf("up %d %s calls=%d bound=%d hid=%s\n", ret, ret ? err : "ok",
	       h.calls, info.bound, info.hid_dev);
	return ret ? 1 : 0;
}

static const struct {
	const char *name;
	int argc;
	int (*fn)(int argc, char **argv);
} probe_cmds[] = {
	{"hid-write", 4, probe_hid_write},   {"hid-read", 4, probe_hid_read},
	{"evdev-read", 4, probe_evdev_read}, {"evdev-led", 5, probe_evdev_led},
	{"udc-wait", 4, probe_udc_wait},     {"up-hook", 3, probe_up_hook},
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 1 && i < sizeof(probe_cmds) / sizeof(probe_cmds[0]);
	     i++)
		if (strcmp(argv[1], probe_cmds[i].name) == 0 &&
		    argc >= probe_cmds[i].argc)
			return probe_cmds[i].fn(argc, argv);
	fprintf(stderr,
		"usage: see the comment at the top of gadget_probe.c\n");
	return 2;
}
