/*
 * Dropping root for good (OpenBSD's privilege separation habit): what
 * needs uid 0 (configfs, the gadget's device nodes) is done first, then
 * the process becomes [agent] user and checks that it cannot come back.
 */
#ifndef ZB_PRIVDROP_H
#define ZB_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* uid and gid of user; -ENOENT with err naming it when there is none. */
int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid, char *err,
		    size_t errlen);

/*
 * Become user: supplementary groups cleared, then gid, then uid, and
 * verified (ids as asked, and setuid(0) fails). Returns 0 or a negative
 * errno with err saying which step failed.
 */
int privdrop_to(const char *user, char *err, size_t errlen);

#endif
