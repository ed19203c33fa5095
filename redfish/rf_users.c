/*
 * The users file: one user a line, "name:crypt-hash:systems", where
 * systems is a comma-separated list of agent ids or shell patterns ("*"
 * for all). Passwords are checked with crypt(3) (libcrypt: yescrypt,
 * SHA-512, ...), never stored.
 */
#include <crypt.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "redfish/rf.h"

static int rf_users_line(char *line, struct rf_user *u)
{
	char *name = line, *hash, *systems, *save = NULL, *tok;

	hash = strchr(name, ':');
	if (!hash)
		return -EINVAL;
	*hash++ = '\0';
	systems = strchr(hash, ':');
	if (!systems)
		return -EINVAL;
	*systems++ = '\0';
	if (!*name || strlen(name) >= sizeof(u->name) || !*hash ||
	    strlen(hash) >= sizeof(u->hash))
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->hash, sizeof(u->hash), "%s", hash);
	for (tok = strtok_r(systems, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (u->n_systems == RF_PATTERNS_MAX ||
		    strlen(tok) >= sizeof(u->systems[0]))
			return -E2BIG;
		snprintf(u->systems[u->n_systems++], sizeof(u->systems[0]),
			 "%s", tok);
	}
	return 0;
}

int rf_users_load(const char *path, struct rf_user *users, int *n, char *err,
		  size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	int lineno = 0, r = 0;

	*n = 0;
	if (!f) {
		snprintf(err, errlen, "users file %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (*n == RF_USERS_MAX) {
			snprintf(err, errlen, "%s:%d: more than %d users", path,
				 lineno, RF_USERS_MAX);
			r = -E2BIG;
			goto cleanup;
		}
		if (rf_users_line(line, &users[*n])) {
			snprintf(err, errlen,
				 "%s:%d: expected name:crypt-hash:systems",
				 path, lineno);
			r = -EINVAL;
			goto cleanup;
		}
		(*n)++;
	}
cleanup:
	fclose(f);
	return r;
}

/* Returns the user's index, or -1. */
int rf_users_check(const struct rf_user *users, int n, const char *name,
		   const char *password)
{
	struct crypt_data cd;
	const char *h;
	size_t len;
	unsigned char diff = 0;

	for (int i = 0; i < n; i++) {
		if (strcmp(users[i].name, name))
			continue;
		memset(&cd, 0, sizeof(cd));
		h = crypt_r(password, users[i].hash, &cd);
		if (!h || h[0] == '*')
			return -1;
		len = strlen(users[i].hash);
		if (strlen(h) != len)
			return -1;
		for (size_t k = 0; k < len; k++)
			diff |= (unsigned char)(h[k] ^ users[i].hash[k]);
		return diff ? -1 : i;
	}
	return -1;
}

bool rf_user_sees(const struct rf_user *u, const char *id)
{
	for (int i = 0; i < u->n_systems; i++)
		if (!fnmatch(u->systems[i], id, 0))
			return true;
	return false;
}

int rf_random_hex(char *out, size_t bytes)
{
	unsigned char buf[32];
	ssize_t got;

	if (bytes > sizeof(buf))
		return -EINVAL;
	got = getrandom(buf, bytes, 0);
	if (got != (ssize_t)bytes)
		return got < 0 ? -errno : -EIO;
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", buf[i]);
	return 0;
}
