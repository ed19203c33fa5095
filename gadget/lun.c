#include "gadget/lun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The kernel's ETOOSMALL (fsg_lun_open: fewer blocks than a medium needs)
 * has no name in user space. */
#define LUN_ETOOSMALL 525

static const char *lun_strerror(int r)
{
	if (r == -LUN_ETOOSMALL)
		return "the kernel says the file is too small for this medium";
	return strerror(-r);
}

static int lun_path(char *buf, size_t len, const char *lun, const char *attr)
{
	int n = snprintf(buf, len, "%s/%s", lun, attr);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int lun_attr_read(const char *lun, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	size_t got = 0;
	ssize_t n;
	int fd, r;

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	r = lun_path(path, sizeof(path), lun, attr);
	if (r)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (got == len - 1) {
			char extra;

			/* Full: fine only if nothing (or a newline) is left. */
			n = read(fd, &extra, 1);
			if (n == 1 &&
			    !(extra == '\n' && read(fd, &extra, 1) == 0))
				r = -EOVERFLOW;
			else if (n < 0)
				r = -errno;
			break;
		}
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (r) {
		buf[0] = '\0';
		return r;
	}
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		got--;
	buf[got] = '\0';
	return 0;
}

int lun_attr_write(const char *lun, const char *attr, const char *value)
{
	char path[PATH_MAX];
	char line[LUN_FILE_MAX + 2];
	size_t n = strlen(value);
	ssize_t w;
	int fd, r;

	if (n > LUN_FILE_MAX)
		return -ENAMETOOLONG;
	r = lun_path(path, sizeof(path), lun, attr);
	if (r)
		return r;
	/*
	 * The newline makes a zero-length value ("file" = "" ejects) reach
	 * the kernel's store function, which strips it; O_TRUNC is what the
	 * shell's `echo > attr` does and keeps plain stand-in files exact.
	 */
	memcpy(line, value, n);
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		w = write(fd, line, n);
	while (w < 0 && errno == EINTR);
	r = w < 0 ? -errno : (size_t)w != n ? -EIO : 0;
	if (close(fd) && !r && errno != EINTR)
		r = -errno;
	return r;
}

static int lun_bool(const char *lun, const char *attr, bool optional, bool *out)
{
	char v[16];
	int r = lun_attr_read(lun, attr, v, sizeof(v));

	*out = false;
	if (r == -ENOENT && optional)
		return 0;
	if (r)
		return r;
	if (!strcmp(v, "1") || !strcmp(v, "Y") || !strcmp(v, "y"))
		*out = true;
	else if (v[0] && strcmp(v, "0") && strcmp(v, "N") && strcmp(v, "n"))
		return -EINVAL;
	return 0;
}

int lun_read(const char *lun, struct lun_medium *m, char *err, size_t errlen)
{
	static const struct {
		const char *attr;
		size_t off;
		bool optional;
	} bools[] = {
		{"ro", offsetof(struct lun_medium, ro), false},
		{"cdrom", offsetof(struct lun_medium, cdrom), false},
		{"removable", offsetof(struct lun_medium, removable), true},
		{"nofua", offsetof(struct lun_medium, nofua), true},
	};
	int r;

	memset(m, 0, sizeof(*m));
	r = lun_attr_read(lun, "file", m->file, sizeof(m->file));
	if (r) {
		snprintf(err, errlen, "reading %s/file: %s", lun, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		r = lun_bool(lun, bools[i].attr, bools[i].optional,
			     (bool *)((char *)m + bools[i].off));
		if (r) {
			snprintf(err, errlen, "reading %s/%s: %s", lun,
				 bools[i].attr,
				 r == -EINVAL ? "not 0 or 1" : strerror(-r));
			return r;
		}
	}
	return 0;
}

int lun_eject(const char *lun, bool *forced, char *err, size_t errlen)
{
	int r = lun_attr_write(lun, "file", "");

	*forced = false;
	if (r == -EBUSY) {
		/* The host locked the door: take the medium anyway. */
		r = lun_attr_write(lun, "forced_eject", "1");
		if (r) {
			snprintf(err, errlen,
				 "the host has locked the medium and "
				 "%s/forced_eject failed: %s",
				 lun, strerror(-r));
			return r;
		}
		*forced = true;
		return 0;
	}
	if (r)
		snprintf(err, errlen, "ejecting (writing %s/file): %s", lun,
			 strerror(-r));
	return r;
}

int lun_insert(const char *lun, const char *path, bool cdrom, bool ro,
	       bool *forced, char *err, size_t errlen)
{
	const struct {
		const char *attr;
		const char *value;
	} steps[] = {
		{"cdrom", cdrom ? "1" : "0"},
		{"ro", cdrom || ro ? "1" : "0"},
		{"file", path},
	};
	int r;

	if (!path[0]) {
		snprintf(err, errlen, "no file to insert");
		return -EINVAL;
	}
	r = lun_eject(lun, forced, err, errlen);
	if (r)
		return r;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		r = lun_attr_write(lun, steps[i].attr, steps[i].value);
		if (r) {
			snprintf(err, errlen, "writing %s/%s: %s", lun,
				 steps[i].attr, lun_strerror(r));
			return r;
		}
	}
	return 0;
}
