#include "firmware/core/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid, char *err,
		    size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen,
			 "user %s: %s (create it: adduser --system --group "
			 "%s, or set [agent] user)",
			 user, errno ? strerror(errno) : "no such user", user);
		return errno ? -errno : -ENOENT;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int privdrop_to(const char *user, char *err, size_t errlen)
{
	uid_t uid, ru, eu, su;
	gid_t gid, rg, eg, sg;
	int r;

	r = privdrop_lookup(user, &uid, &gid, err, errlen);
	if (r)
		return r;
	if (uid == 0) {
		snprintf(err, errlen, "user %s has uid 0: nothing to drop",
			 user);
		return -EINVAL;
	}
	/* Groups first: once the uid is gone, they cannot be changed. */
	if (setgroups(1, &gid) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid)) {
		r = -errno;
		snprintf(err, errlen, "dropping to user %s: %s", user,
			 strerror(-r));
		return r;
	}
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg) || ru != uid ||
	    eu != uid || su != uid || rg != gid || eg != gid || sg != gid ||
	    setuid(0) == 0 || getgroups(0, NULL) > 1) {
		snprintf(err, errlen,
			 "dropping to user %s: the ids did not all change",
			 user);
		return -EPERM;
	}
	return 0;
}
