#include "firmware/core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *secret_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

int secret_open(const char *what, const char *path, char *err, size_t errlen)
{
	uid_t me = geteuid();
	char user[64];
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == EACCES) {
		secret_user_name(me, user, sizeof(user));
		snprintf(err, errlen,
			 "%s %s: %s for the agent's user %s (fix: chown %s %s "
			 "and chmod 600 %s)",
			 what, path, strerror(EACCES), user, user, path, path);
		return -EACCES;
	}
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-r));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		goto fail;
	}
	if (st.st_uid != me) {
		r = -EPERM;
		snprintf(err, errlen,
			 "%s %s: owned by uid %u, not by the agent's user %s: "
			 "refused (fix: chown %s %s)",
			 what, path, (unsigned)st.st_uid,
			 secret_user_name(me, user, sizeof(user)), user, path);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = -EPERM;
		snprintf(err, errlen,
			 "%s %s: mode %04o lets others read or change it: "
			 "refused (fix: chmod 600 %s)",
			 what, path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

/* Whether what is left of fd, after a full buffer, is more than newlines. */
static int secret_more(int fd, bool *more)
{
	char rest[64];
	ssize_t got;

	*more = false;
	while ((got = read(fd, rest, sizeof(rest))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		for (ssize_t i = 0; i < got; i++)
			if (rest[i] != '\n' && rest[i] != '\r')
				*more = true;
	}
	return 0;
}

int secret_read(const char *what, const char *path, char *buf, size_t size,
		char *err, size_t errlen)
{
	bool more = false;
	size_t n = 0;
	ssize_t got;
	int fd, r;

	fd = secret_open(what, path, err, errlen);
	if (fd < 0)
		return fd;
	do {
		got = read(fd, buf + n, size - n);
		if (got > 0)
			n += (size_t)got;
	} while ((got > 0 || (got < 0 && errno == EINTR)) && n < size);
	r = got < 0 ? -errno : 0;
	/* A full buffer: the secret is longer unless only newlines follow. */
	if (!r && n == size)
		r = secret_more(fd, &more);
	close(fd);
	if (r) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-r));
		goto wipe;
	}
	while (!more && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (more || n >= size) {
		r = -EINVAL;
		snprintf(err, errlen,
			 "%s %s: longer than %zu bytes: refused rather than "
			 "cut",
			 what, path, size - 1);
		goto wipe;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s %s: holds a NUL byte", what, path);
		goto wipe;
	}
	return (int)n;
wipe:
	memset(buf, 0, size);
	return r;
}
