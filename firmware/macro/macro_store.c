#include "firmware/macro/macro_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/macro/macro_parse.h"

#define MACRO_EXT ".txt"

bool macro_name_valid(const char *name, size_t len)
{
	if (len < 1 || len > MACRO_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int macro_store_read(const char *dir, const char *name, char **text,
		     size_t *len, char *err, size_t errlen)
{
	char file[MACRO_NAME_MAX + sizeof(MACRO_EXT)];
	char *buf = NULL;
	size_t have = 0;
	struct stat st;
	int dfd = -1, fd = -1, r;

	*text = NULL;
	*len = 0;
	err[0] = '\0';
	if (!macro_name_valid(name, strlen(name))) {
		snprintf(err, errlen,
			 "bad macro name (A-Z, a-z, 0-9, _ and -, 1 to %d)",
			 MACRO_NAME_MAX);
		return -EINVAL;
	}
	snprintf(file, sizeof(file), "%s%s", name, MACRO_EXT);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return r; /* no folder: no file either */
		snprintf(err, errlen, "macros folder %s: %s", dir,
			 strerror(-r));
		return r;
	}
	/* O_NONBLOCK: a FIFO put there must not hang the agent. */
	fd = openat(dfd, file,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			snprintf(err, errlen,
				 "%s is a symbolic link: refused (macros are "
				 "plain files in the macros folder)",
				 file);
		else if (r != -ENOENT)
			snprintf(err, errlen, "%s: %s", file, strerror(-r));
		goto out;
	}
	if (fstat(fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s is not a regular file: refused",
			 file);
		goto out;
	}
	if (st.st_size > MACRO_FILE_MAX) {
		r = -EFBIG;
		snprintf(err, errlen, "%s is %lld bytes, more than %d", file,
			 (long long)st.st_size, MACRO_FILE_MAX);
		goto out;
	}
	buf = malloc(MACRO_FILE_MAX + 2);
	if (!buf) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* Read to the end, not st_size: the file may grow meanwhile. */
	for (;;) {
		ssize_t n = read(fd, buf + have, MACRO_FILE_MAX + 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", file, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > MACRO_FILE_MAX) {
			r = -EFBIG;
			snprintf(err, errlen, "%s is more than %d bytes", file,
				 MACRO_FILE_MAX);
			goto out;
		}
	}
	buf[have] = '\0';
	*text = buf;
	*len = have;
	buf = NULL;
	r = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r;
}

static int macro_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int macro_store_list(const char *dir, char (*names)[MACRO_NAME_MAX + 1],
		     size_t max, size_t *n)
{
	const size_t ext = strlen(MACRO_EXT);
	struct dirent *de;
	DIR *d;

	*n = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && *n < max) {
		size_t len = strlen(de->d_name);
		struct stat st;

		if (len <= ext || strcmp(de->d_name + len - ext, MACRO_EXT) ||
		    !macro_name_valid(de->d_name, len - ext))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		memcpy(names[*n], de->d_name, len - ext);
		names[*n][len - ext] = '\0';
		(*n)++;
	}
	closedir(d);
	qsort(names, *n, sizeof(names[0]), macro_name_cmp);
	return 0;
}
