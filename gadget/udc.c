/* The UDC state file: names, parsing, and reading it for poll(). */
#include "gadget/udc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The strings of the kernel's usb_state_string(), indexed by state. */
static const char *const udc_state_names[UDC_STATE_COUNT] = {
	[UDC_STATE_NOT_ATTACHED] = "not attached",
	[UDC_STATE_ATTACHED] = "attached",
	[UDC_STATE_POWERED] = "powered",
	[UDC_STATE_RECONNECTING] = "reconnecting",
	[UDC_STATE_UNAUTHENTICATED] = "unauthenticated",
	[UDC_STATE_DEFAULT] = "default",
	[UDC_STATE_ADDRESSED] = "addressed",
	[UDC_STATE_CONFIGURED] = "configured",
	[UDC_STATE_SUSPENDED] = "suspended",
	[UDC_STATE_UNKNOWN] = "unknown",
};

const char *udc_state_name(enum udc_state st)
{
	if ((unsigned)st >= UDC_STATE_COUNT)
		return udc_state_names[UDC_STATE_UNKNOWN];
	return udc_state_names[st];
}

int udc_state_parse(const char *s, size_t len, enum udc_state *st)
{
	size_t i;

	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	for (i = 0; i < UDC_STATE_COUNT; i++) {
		const char *name = udc_state_names[i];

		if (strlen(name) == len && strncasecmp(name, s, len) == 0) {
			*st = (enum udc_state)i;
			return 0;
		}
	}
	*st = UDC_STATE_UNKNOWN;
	return -EINVAL;
}

int udc_state_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int udc_state_read(int fd, enum udc_state *st)
{
	char buf[64];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	/* A state the kernel added after this table was written. */
	udc_state_parse(buf, (size_t)n, st);
	return 0;
}

int udc_state_path(char *buf, size_t len, const char *udc)
{
	int n = snprintf(buf, len, "%s/%s/state", UDC_CLASS_DIR, udc);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int udc_entry_select(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int udc_first(const char *class_dir, char *name, size_t len)
{
	struct dirent **list;
	int n, i, ret = -ENOENT;

	n = scandir(class_dir, &list, udc_entry_select, alphasort);
	if (n < 0)
		return -ENOENT;
	if (n > 0) {
		ret = strlen(list[0]->d_name) < len ? 0 : -ENAMETOOLONG;
		if (ret == 0)
			strcpy(name, list[0]->d_name);
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return ret;
}
