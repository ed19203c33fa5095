#include "firmware/media/media_name.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "topics/payload.h"
#include "topics/utf8.h"

typedef bool (*media_rule_fn)(const char *s, size_t len, size_t *at);

struct media_rule_def {
	const char *id;
	const char *text;
	media_rule_fn broken; /* NULL: a rule about the file, not the name */
};

struct cp_range {
	uint32_t lo, hi;
};

/* C0 controls, DEL and the C1 controls. */
static const struct cp_range control_ranges[] = {
	{0x0000, 0x001f},
	{0x007f, 0x009f},
};

/*
 * Characters that show as nothing or reorder what follows: soft hyphen,
 * Arabic letter mark, Mongolian vowel separator, zero-width characters
 * and directional marks, line and paragraph separators, embeddings and
 * overrides, word joiner to the deprecated format characters, BOM and
 * interlinear annotation marks.
 */
static const struct cp_range invisible_ranges[] = {
	{0x00ad, 0x00ad}, {0x061c, 0x061c}, {0x180e, 0x180e}, {0x200b, 0x200f},
	{0x2028, 0x202e}, {0x2060, 0x206f}, {0xfeff, 0xfeff}, {0xfff9, 0xfffb},
};

static bool media_name_in_ranges(uint32_t cp, const struct cp_range *r,
				 size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	return false;
}

/* Runs after the UTF-8 rule, so s is valid UTF-8 here. */
static bool media_name_has_range(const char *s, size_t len, size_t *at,
				 const struct cp_range *r, size_t nr)
{
	uint32_t cp;

	for (size_t i = 0, step; i < len; i += step) {
		int n = utf8_decode(s + i, len - i, &cp);

		step = n > 0 ? (size_t)n : 1;
		if (media_name_in_ranges(cp, r, nr)) {
			*at = i;
			return true;
		}
	}
	return false;
}

static bool media_name_rule_empty(const char *s, size_t len, size_t *at)
{
	*at = 0;
	return len == 0;
}

static bool media_name_rule_length(const char *s, size_t len, size_t *at)
{
	*at = MEDIA_NAME_MAX;
	return len > MEDIA_NAME_MAX;
}

static bool media_name_rule_nul(const char *s, size_t len, size_t *at)
{
	const char *p = memchr(s, '\0', len);

	*at = p ? (size_t)(p - s) : 0;
	return p != NULL;
}

static bool media_name_rule_slash(const char *s, size_t len, size_t *at)
{
	const char *p = memchr(s, '/', len);

	*at = p ? (size_t)(p - s) : 0;
	return p != NULL;
}

static bool media_name_rule_dot(const char *s, size_t len, size_t *at)
{
	*at = 0;
	return s[0] == '.';
}

static bool media_name_rule_utf8(const char *s, size_t len, size_t *at)
{
	*at = 0;
	return !payload_utf8_valid(s, len);
}

static bool media_name_rule_control(const char *s, size_t len, size_t *at)
{
	return media_name_has_range(s, len, at, control_ranges,
				    sizeof(control_ranges) /
					    sizeof(control_ranges[0]));
}

static bool media_name_rule_invisible(const char *s, size_t len, size_t *at)
{
	return media_name_has_range(s, len, at, invisible_ranges,
				    sizeof(invisible_ranges) /
					    sizeof(invisible_ranges[0]));
}

static bool media_name_rule_blank(const char *s, size_t len, size_t *at)
{
	const unsigned char *u = (const unsigned char *)s;

	/* U+00A0 (C2 A0) looks exactly like a space, so it counts too. */
	if (u[0] == ' ' || (len >= 2 && u[0] == 0xc2 && u[1] == 0xa0)) {
		*at = 0;
		return true;
	}
	if (u[len - 1] == ' ') {
		*at = len - 1;
		return true;
	}
	if (len >= 2 && u[len - 2] == 0xc2 && u[len - 1] == 0xa0) {
		*at = len - 2;
		return true;
	}
	return false;
}

/* In the order they are checked: the first broken rule is reported. */
static const struct media_rule_def rules[MEDIA_RULE_COUNT] = {
	[MEDIA_RULE_OK] = {"ok", "the name is acceptable", NULL},
	[MEDIA_RULE_EMPTY] = {"empty", "an image name is required",
			      media_name_rule_empty},
	[MEDIA_RULE_LENGTH] = {"length", "a name has at most 255 bytes (UTF-8)",
			       media_name_rule_length},
	[MEDIA_RULE_NUL] = {"nul", "a name cannot contain a NUL byte",
			    media_name_rule_nul},
	[MEDIA_RULE_SLASH] = {"slash",
			      "a name is a plain file name inside the images "
			      "folder, without '/'",
			      media_name_rule_slash},
	[MEDIA_RULE_DOT] = {"dot",
			    "names starting with '.' (hidden files, '.' and "
			    "'..') are refused",
			    media_name_rule_dot},
	[MEDIA_RULE_UTF8] = {"utf8", "a name must be valid UTF-8",
			     media_name_rule_utf8},
	[MEDIA_RULE_CONTROL] = {"control",
				"a name cannot contain control characters",
				media_name_rule_control},
	[MEDIA_RULE_INVISIBLE] = {"invisible",
				  "a name cannot contain invisible or "
				  "direction-changing characters",
				  media_name_rule_invisible},
	[MEDIA_RULE_BLANK] = {"blank",
			      "a name cannot start or end with white space",
			      media_name_rule_blank},
	[MEDIA_RULE_MISSING] = {"missing", "no such image in the images folder",
				NULL},
	[MEDIA_RULE_SYMLINK] = {"symlink",
				"symbolic links are refused (one could lead "
				"outside the images folder)",
				NULL},
	[MEDIA_RULE_DIRECTORY] = {"directory",
				  "a directory is not an image (only regular "
				  "files are)",
				  NULL},
	[MEDIA_RULE_FIFO] = {"fifo",
			     "a FIFO is not an image (only regular files are)",
			     NULL},
	[MEDIA_RULE_DEVICE] = {"device",
			       "a device node is not an image (only regular "
			       "files are)",
			       NULL},
	[MEDIA_RULE_SOCKET] = {"socket",
			       "a socket is not an image (only regular files "
			       "are)",
			       NULL},
	[MEDIA_RULE_UNREADABLE] = {"unreadable",
				   "the image cannot be looked at in the "
				   "images folder",
				   NULL},
};

const char *media_rule_id(enum media_rule r)
{
	return (unsigned)r < MEDIA_RULE_COUNT ? rules[r].id : "?";
}

const char *media_rule_text(enum media_rule r)
{
	return (unsigned)r < MEDIA_RULE_COUNT ? rules[r].text : "?";
}

enum media_rule media_name_check(const char *name, size_t len, size_t *at)
{
	size_t where = 0;

	if (!at)
		at = &where;
	*at = 0;
	for (int i = MEDIA_RULE_OK + 1; i < MEDIA_RULE_COUNT; i++)
		if (rules[i].broken && rules[i].broken(name, len, at))
			return (enum media_rule)i;
	return MEDIA_RULE_OK;
}

/* The file type rules, by st_mode. */
static const struct {
	mode_t type;
	enum media_rule rule;
	int err;
} type_rules[] = {
	{S_IFLNK, MEDIA_RULE_SYMLINK, -ELOOP},
	{S_IFDIR, MEDIA_RULE_DIRECTORY, -EISDIR},
	{S_IFIFO, MEDIA_RULE_FIFO, -EINVAL},
	{S_IFCHR, MEDIA_RULE_DEVICE, -ENODEV},
	{S_IFBLK, MEDIA_RULE_DEVICE, -ENODEV},
	{S_IFSOCK, MEDIA_RULE_SOCKET, -EINVAL},
};

int media_name_open(int dirfd, const char *name, size_t len, struct stat *st,
		    enum media_rule *rule, size_t *at)
{
	char cname[MEDIA_NAME_MAX + 1];
	size_t where = 0;
	int fd, r = 0;

	if (!at)
		at = &where;
	*rule = media_name_check(name, len, at);
	if (*rule != MEDIA_RULE_OK)
		return -EINVAL;
	*at = 0;
	memcpy(cname, name, len);
	cname[len] = '\0';
	/*
	 * O_PATH opens nothing (no tape rewinds, no tty becomes ours) and,
	 * with O_NOFOLLOW, gives the symbolic link itself to fstat. The name
	 * has no '/', so it is one entry of this folder and nothing else.
	 */
	fd = openat(dirfd, cname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		*rule = r == -ENOENT ? MEDIA_RULE_MISSING
				     : MEDIA_RULE_UNREADABLE;
		return r;
	}
	if (fstat(fd, st)) {
		r = -errno;
		*rule = MEDIA_RULE_UNREADABLE;
		goto out;
	}
	for (size_t i = 0; i < sizeof(type_rules) / sizeof(type_rules[0]); i++)
		if ((st->st_mode & S_IFMT) == type_rules[i].type) {
			*rule = type_rules[i].rule;
			r = type_rules[i].err;
			goto out;
		}
	if (!S_ISREG(st->st_mode)) {
		*rule = MEDIA_RULE_UNREADABLE;
		r = -EINVAL;
	}
out:
	close(fd);
	return r;
}

bool media_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int media_name_reopen(int dirfd, const char *name, const struct stat *checked)
{
	struct stat st;
	int fd = openat(dirfd, name,
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
				O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || !media_same_file(&st, checked)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

void media_name_escape(const char *name, size_t len, char *buf, size_t buflen)
{
	/* Invalid UTF-8 is escaped whole: messages travel in JSON. */
	bool raw8 = payload_utf8_valid(name, len);
	size_t o = 0;

	if (!buflen)
		return;
	for (size_t i = 0; i < len && o + 5 < buflen; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' ||
		    (c >= 0x80 && !raw8))
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x",
					      c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
}

void media_rule_format(enum media_rule r, const char *name, size_t len,
		       size_t at, char *buf, size_t buflen)
{
	char shown[64 * 4 + 8];
	size_t keep = len > 64 ? 64 : len;
	bool cut = keep < len;

	/* Cut on a character boundary so the message stays UTF-8. */
	while (cut && keep > 0 && ((unsigned char)name[keep] & 0xc0) == 0x80)
		keep--;
	media_name_escape(name, keep, shown, sizeof(shown));
	if (r == MEDIA_RULE_CONTROL || r == MEDIA_RULE_INVISIBLE ||
	    r == MEDIA_RULE_NUL || r == MEDIA_RULE_SLASH)
		snprintf(buf, buflen,
			 "image name \"%s%s\" refused by rule %s (byte %zu): "
			 "%s",
			 shown, cut ? "..." : "", media_rule_id(r), at,
			 media_rule_text(r));
	else
		snprintf(buf, buflen,
			 "image name \"%s%s\" refused by rule %s: %s", shown,
			 cut ? "..." : "", media_rule_id(r),
			 media_rule_text(r));
}
