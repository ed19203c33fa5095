/*
 * The media module's inside, shared by media.c (life, restore, the state
 * section), media_lun.c (the LUN: insert, eject, the inode re-check),
 * media_hash.c (SHA-256 of images and its cache) and media_folder.c (the
 * images folder: inotify, listing, create).
 */
#ifndef ZB_MEDIA_PRIV_H
#define ZB_MEDIA_PRIV_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "firmware/media/media.h"
#include "firmware/media/media_name.h"
#include "firmware/media/media_store.h"
#include "firmware/media/media_url.h"
#include "firmware/media/media_worker.h"
#include "gadget/lun.h"

#define MEDIA_RESCAN_MS 50
#define MEDIA_DIR_RETRY_MS 5000 /* the images folder is missing */
#define MEDIA_PROGRESS_MS 1000
#define MEDIA_DIR_EVENTS                                                       \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |                 \
	 IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |          \
	 IN_ONLYDIR)

struct media_image {
	char name[MEDIA_NAME_MAX + 1];
	uint64_t size;
};

/* The medium this module put into (or found in) the LUN. */
struct media_current {
	bool present;
	char name[MEDIA_NAME_MAX + 1];
	enum media_mode mode;
	bool readonly;
	struct stat st;	  /* the inode that was checked and inserted */
	bool removed;	  /* deleted or replaced in the folder since */
	char sha256[65];  /* "" while unknown */
	int hash_err;	  /* the last hash failed */
	uint64_t hash_ms; /* how long the hash took, when done here */
};

/* A download is refused when it would leave less than this free. */
#define MEDIA_FETCH_RESERVE (4ull << 20)

/* One download: set up by the loop, run by media_fetch_job(). */
struct media_fetch {
	/* In: written before the job is queued, read-only after. */
	char url[MEDIA_URL_MAX + 64]; /* normalised */
	char allow[MEDIA_URL_ALLOW_MAX];
	char name[MEDIA_NAME_MAX + 1];
	char partial[MEDIA_NAME_MAX + 1];
	char sha256[65]; /* expected; "" to take what comes */
	int dirfd;	 /* the job's own dup of the images folder */
	uint64_t max_bytes;
	long timeout_s;
	char ca_file[PATH_MAX]; /* "": the system's CAs */
	/* Both sides. */
	atomic_bool cancel;
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t total; /* 0: not known (yet) */
	/* Out: read by the loop once the worker said the job ended. */
	int err;
	char msg[600];
	char hex[65];

	/* The loop's alone. */
	struct media_insert_req rq;
	media_url_done_fn done;
	void *done_data;
	uint64_t t0_us;
};

struct media {
	struct loop *loop;
	media_changed_fn changed;
	void *data;
	bool allow_writable;
	char dir_cfg[PATH_MAX];
	char dir[PATH_MAX]; /* resolved: the LUN gets dir/name */
	int dirfd;
	char dir_error[PATH_MAX + 128];
	char lun[PATH_MAX];
	char state_file[PATH_MAX];
	char save_error[PATH_MAX + 128];

	struct media_current cur;
	char foreign[LUN_FILE_MAX]; /* the LUN holds a file from elsewhere */
	struct media_saved saved;   /* as read at start */

	struct media_image *images;
	size_t n_images;
	bool images_truncated;
	uint64_t free_bytes;

	int ino_fd;
	int ino_wd;
	int rescan_timer;

	struct media_worker *worker;
	uint64_t hash_gen;
	bool hashing;
	int progress_timer;
	struct media_hash_entry cache[MEDIA_HASH_CACHE];
	int cache_next;

	char url_allow[MEDIA_URL_ALLOW_MAX];
	long url_timeout_s;
	char url_ca_file[PATH_MAX];
	struct media_fetch *fetch; /* the running download */
	struct {
		bool busy; /* the worker grows name */
		char name[MEDIA_NAME_MAX + 1];
		media_create_done_fn done; /* NULL: forgotten */
		void *data;
	} create;
	int fetch_timer;
	bool curl_ready;
};

/* media.c */
void media_changed(struct media *m);

/* media_fetch.c: runs in the worker thread. */
void media_fetch_job(struct media_worker *w, void *arg);

/* media_download.c */
void media_download_done(struct media *m, void *job);
void media_download_free(struct media *m);
cJSON *media_download_json(struct media *m);

/* media_hash.c */
void media_hash_known(struct media *m, const char *name, const struct stat *st,
		      const char *hex);
void media_save(struct media *m);
void media_hash_stop(struct media *m);
void media_hash_start(struct media *m);
void media_on_worker(void *data, const struct media_worker_result *res);

/* media_folder.c */
void media_dir_close(struct media *m);
int media_dir_open(struct media *m);
void media_rescan(struct media *m);
void media_on_inotify(int fd, short revents, void *data);
void media_create_done(struct media *m, int err);

/* media_lun.c */
bool media_is_iso(const char *name);
bool media_check_current(struct media *m);
int media_check_fit(enum media_mode mode, uint64_t size, const char *name,
		    char *err, size_t errlen);
int media_lun_put(struct media *m, const char *name, const struct stat *st,
		  enum media_mode mode, bool ro, bool *forced, char *err,
		  size_t errlen);
void media_set_current(struct media *m, const char *name, const struct stat *st,
		       enum media_mode mode);

#endif
