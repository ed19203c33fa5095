/*
 * The media state file: the inserted image and its mode, put back at
 * start, and the SHA-256 sums already computed (by name, size and mtime)
 * so a restart does not read a 4 GB image again. A small text file:
 *
 *   # zerobmc virtual media ...
 *   image=debian-12.iso
 *   mode=cdrom
 *   readonly=1
 *   sha256=<64 hex> <size> <mtime s> <mtime ns> <name>
 *
 * Names pass the name rules, so none holds a newline. The parser is
 * strict about each line and skips a line it does not understand (an
 * image name that breaks the rules is dropped, never used).
 */
#ifndef ZB_MEDIA_STORE_H
#define ZB_MEDIA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/media/media.h"
#include "firmware/media/media_name.h"

#define MEDIA_STORE_MAX (64 * 1024)

struct media_hash_entry {
	char name[MEDIA_NAME_MAX + 1]; /* "" for a free slot */
	uint64_t size;
	int64_t mtime_s;
	long mtime_ns;
	char hex[65];
};

struct media_saved {
	char image[MEDIA_NAME_MAX + 1]; /* "" when nothing is inserted */
	enum media_mode mode;
	bool readonly;
	struct media_hash_entry hashes[MEDIA_HASH_CACHE];
};

/* The file's text (malloc'd), or NULL. */
char *media_store_build(const struct media_saved *s);
/* Parse len bytes; unknown or bad lines are skipped. */
void media_store_parse(const char *text, size_t len, struct media_saved *s);
/* Read and parse path: 0, or -ENOENT (never saved), -EFBIG, -errno. */
int media_store_read(const char *path, struct media_saved *s);

#endif
