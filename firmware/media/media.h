/*
 * Virtual media: boot images from one folder, inserted into and ejected
 * from the gadget's mass-storage LUN without touching the rest of the
 * gadget (the keyboard and the serial port stay enumerated).
 *
 * - Names pass the rules of media_name.h before anything is touched.
 * - A switch writes the LUN's attributes (gadget/lun.h); the inode that
 *   was checked must be the one the LUN holds afterwards, or it is
 *   ejected again (a swapped file is never served).
 * - The inserted image and its mode are kept in a state file, written
 *   atomically by a worker thread, and put back at start.
 * - The SHA-256 of a read-only image is computed by the same worker in
 *   1 MiB steps, cancellable, at idle CPU and I/O priority; results are
 *   cached by name, size and mtime (in memory and in the state file).
 * - The folder is watched with inotify; the list of images is part of
 *   the state for the Home Assistant select.
 *
 * Only the loop's thread calls these functions. Errors come back with a
 * message; nothing here logs.
 */
#ifndef ZB_MEDIA_H
#define ZB_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "firmware/core/loop.h"

struct media;

enum media_mode {
	MEDIA_MODE_DISK,
	MEDIA_MODE_CDROM,
};

/*
 * f_mass_storage in CD-ROM mode uses 2048-byte blocks and needs at least
 * 300 of them (fsg_lun_open: "Smallest track is 300 frames", else
 * ETOOSMALL). It also clamps a larger file to 256*60*75 - 1 blocks (the
 * MSF addressing of a CD) and serves only that much, silently: Linux
 * 6.1 (checked in Debian's 6.1.0 usb_f_mass_storage.ko: cmp $0x1193ff)
 * and mainline still do. Images past that are refused in CD-ROM mode.
 */
#define MEDIA_CDROM_BLOCK 2048ull
#define MEDIA_CDROM_MIN_BLOCKS 300ull
#define MEDIA_CDROM_MAX_BLOCKS (256ull * 60 * 75 - 1)
#define MEDIA_DISK_BLOCK 512ull

#define MEDIA_IMAGES_MAX 256 /* listed in the state, by name */
#define MEDIA_HASH_CACHE 16  /* remembered SHA-256 sums */
#define MEDIA_HASH_CHUNK (1u << 20)
#define MEDIA_CREATE_MAX_MB (4ull << 20) /* 4 TiB */
#define MEDIA_URL_ALLOW_MAX 1024	 /* [media] url_allow, bytes */

struct media_cfg {
	const char *dir;	/* the images folder */
	const char *lun;	/* the LUN's folder; "" or NULL: none */
	const char *state_file; /* "" or NULL: nothing is kept */
	bool allow_writable;
	const char *url_allow;	 /* space-separated URL prefixes; "": none */
	int url_timeout_s;	 /* connect, and longest stall of a download */
	const char *url_ca_file; /* CAs for https; "" or NULL: the system's */
};

typedef void (*media_changed_fn)(void *data);

int media_new(struct loop *l, const struct media_cfg *cfg,
	      media_changed_fn changed, void *data, struct media **out,
	      char *err, size_t errlen);
/* Cancels the hash, finishes a pending state-file write, frees. */
void media_free(struct media *m);

struct media_insert_req {
	const char *name;
	size_t len;
	int mode;     /* -1: CD-ROM for .iso, disk otherwise */
	int readonly; /* -1: read-only; 0 needs allow_writable */
};

/* What a command did, for its result. */
struct media_done {
	bool forced; /* the host had locked the medium */
	bool present;
	enum media_mode mode;
	bool readonly;
	uint64_t size;
};

/*
 * Insert an image. Every refusal (name rules, mode, size, writable)
 * happens before the LUN is touched. -EINVAL and friends with err.
 */
int media_insert(struct media *m, const struct media_insert_req *rq,
		 struct media_done *done, char *err, size_t errlen);
int media_eject(struct media *m, struct media_done *done, char *err,
		size_t errlen);
/*
 * A blank sparse image of bytes (name rules apply; never overwrites).
 * The checks and the empty file are done at once (an error returns with
 * err, done is not called); the file is grown by the worker thread,
 * since a file system without sparse files writes the zeros, and done
 * is called from the loop when it is: err 0, or a negative errno with
 * msg (the file is removed then). One at a time: -EBUSY.
 */
typedef void (*media_create_done_fn)(void *data, int err, const char *msg);
int media_create(struct media *m, const char *name, size_t len, uint64_t bytes,
		 media_create_done_fn done, void *data, char *err,
		 size_t errlen);
/* The agent stops: done is not called, the unfinished file is removed. */
void media_create_forget(struct media *m);

/*
 * Downloads (cmd/media {"url"}): the URL is checked against the rules of
 * media_url.h and url_allow, the name against media_name.h, the free
 * space of the folder is read; then the worker thread fetches the image
 * to "<name>.partial" (never the loop), checks the SHA-256 when given,
 * renames it to name (replacing a file of that name that is not the
 * inserted one) and the loop inserts it as media_insert() would.
 */
struct media_url_req {
	const char *url;
	const char *name;   /* NULL: the URL's last path segment */
	const char *sha256; /* NULL or 64 hex digits */
	int mode;	    /* as in media_insert_req */
	int readonly;
};

struct media_url_result {
	const char *url; /* normalised */
	const char *name;
	const char *sha256; /* "" when the download failed */
	uint64_t bytes;
	uint64_t ms;
	struct media_done done; /* when inserted */
};

/* err: 0, -ECANCELED, or the error with msg. */
typedef void (*media_url_done_fn)(void *data, int err, const char *msg,
				  const struct media_url_result *res);

/* Start a download; done is called once (not when refused here). */
int media_download_start(struct media *m, const struct media_url_req *rq,
			 media_url_done_fn done, void *data, char *err,
			 size_t errlen);
/* Ask the running download to stop; -ENOENT when none. done follows
 * with -ECANCELED once the .partial is gone. */
int media_download_cancel(struct media *m);
/* Forget the callback of the running download (it is not called). */
void media_download_forget(struct media *m);
/* The URL of the running download, or NULL. */
const char *media_download_url(struct media *m);

/*
 * At start: put the saved image back into the LUN, or keep it if the LUN
 * holds it already (the agent restarted, the gadget stayed bound). msg
 * says what was done ("" when nothing was saved). Never ejects.
 */
int media_restore(struct media *m, char *msg, size_t msglen);

/* The "media" section of the state document. */
cJSON *media_state_json(void *media);

const char *media_mode_name(enum media_mode mode);
int media_mode_parse(const char *s, enum media_mode *mode);

#endif
