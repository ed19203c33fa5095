/*
 * The rules an image name must pass before anything is touched: a plain,
 * printable file name inside the images folder, opened without following
 * a symbolic link, and a regular file. Each rule has a short id and a
 * message, so an error result can say which rule refused the name.
 *
 * Names are UTF-8 (the wire contract is UTF-8, and people do call files
 * "débian.iso"); what is refused is what cannot be shown or typed
 * faithfully in a Home Assistant select: control characters (C0, DEL,
 * C1), invisible and direction-changing characters, invalid UTF-8, and
 * leading or trailing white space (plain payloads are trimmed).
 */
#ifndef ZB_MEDIA_NAME_H
#define ZB_MEDIA_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define MEDIA_NAME_MAX 255 /* bytes, NAME_MAX of every Linux file system */

enum media_rule {
	MEDIA_RULE_OK,
	/* Rules about the name itself (media_name_check). */
	MEDIA_RULE_EMPTY,
	MEDIA_RULE_LENGTH,
	MEDIA_RULE_NUL,
	MEDIA_RULE_SLASH,
	MEDIA_RULE_DOT,
	MEDIA_RULE_UTF8,
	MEDIA_RULE_CONTROL,
	MEDIA_RULE_INVISIBLE,
	MEDIA_RULE_BLANK,
	/* Rules about the file the name leads to (media_name_open). */
	MEDIA_RULE_MISSING,
	MEDIA_RULE_SYMLINK,
	MEDIA_RULE_DIRECTORY,
	MEDIA_RULE_FIFO,
	MEDIA_RULE_DEVICE,
	MEDIA_RULE_SOCKET,
	MEDIA_RULE_UNREADABLE,
	MEDIA_RULE_COUNT
};

/* "slash", "symlink", ...; "ok" for MEDIA_RULE_OK. */
const char *media_rule_id(enum media_rule r);
/* The rule in one sentence. */
const char *media_rule_text(enum media_rule r);

/*
 * The name rules, a pure function of the len bytes at name (which may
 * hold NUL bytes). Returns the first rule broken, MEDIA_RULE_OK if none;
 * *at (may be NULL) is the byte offset of the offending character.
 */
enum media_rule media_name_check(const char *name, size_t len, size_t *at);

/*
 * Check the name, then look at the file it names in the folder dirfd:
 * openat(O_PATH | O_NOFOLLOW) (no side effect even on a device node, and
 * a symbolic link is seen as itself, never followed), then fstat: only a
 * regular file passes. On success returns 0 with *st filled in. On
 * failure returns -EINVAL (name rules), -ENOENT, -ELOOP, -EISDIR,
 * -EACCES, ... with *rule set; *at as for media_name_check().
 */
int media_name_open(int dirfd, const char *name, size_t len, struct stat *st,
		    enum media_rule *rule, size_t *at);

/*
 * Open the checked name for reading (O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
 * O_NOCTTY) and make sure it is still the inode that was checked (same
 * st_dev and st_ino). Returns the fd or a negative errno (-ESTALE when
 * the file was swapped).
 */
int media_name_reopen(int dirfd, const char *name, const struct stat *checked);

/* True if a and b are the same inode. */
bool media_same_file(const struct stat *a, const struct stat *b);

/*
 * The error message for a refused name: the name (control bytes escaped,
 * cut to 64 bytes), the rule's id and its sentence.
 */
void media_rule_format(enum media_rule r, const char *name, size_t len,
		       size_t at, char *buf, size_t buflen);

/* name escaped for a message: \xNN for bytes below 0x20 and 0x7f. */
void media_name_escape(const char *name, size_t len, char *buf, size_t buflen);

#endif
