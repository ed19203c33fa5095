#include "firmware/media/media.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "firmware/media/media_name.h"
#include "firmware/media/media_store.h"
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
};

static const char *const mode_names[] = {
	[MEDIA_MODE_DISK] = "disk",
	[MEDIA_MODE_CDROM] = "cdrom",
};

const char *media_mode_name(enum media_mode mode)
{
	return (unsigned)mode <= MEDIA_MODE_CDROM ? mode_names[mode] : "?";
}

int media_mode_parse(const char *s, enum media_mode *mode)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcasecmp(s, mode_names[i])) {
			*mode = (enum media_mode)i;
			return 0;
		}
	return -EINVAL;
}

static void media_changed(struct media *m)
{
	if (m->changed)
		m->changed(m->data);
}

/* ---- the hash cache and the state file ---- */

static bool media_hash_key(const struct media_hash_entry *h, const char *name,
			   const struct stat *st)
{
	return !strcmp(h->name, name) && h->size == (uint64_t)st->st_size &&
	       h->mtime_s == (int64_t)st->st_mtim.tv_sec &&
	       h->mtime_ns == st->st_mtim.tv_nsec;
}

static const char *media_cache_find(struct media *m, const char *name,
				    const struct stat *st)
{
	for (int i = 0; i < MEDIA_HASH_CACHE; i++)
		if (m->cache[i].name[0] &&
		    media_hash_key(&m->cache[i], name, st))
			return m->cache[i].hex;
	return NULL;
}

static void media_cache_add(struct media *m, const char *name,
			    const struct stat *st, const char *hex)
{
	struct media_hash_entry *h = NULL;

	/* One entry per name: a changed file replaces its old sum. */
	for (int i = 0; i < MEDIA_HASH_CACHE && !h; i++)
		if (!strcmp(m->cache[i].name, name))
			h = &m->cache[i];
	if (!h) {
		h = &m->cache[m->cache_next];
		m->cache_next = (m->cache_next + 1) % MEDIA_HASH_CACHE;
	}
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->size = (uint64_t)st->st_size;
	h->mtime_s = (int64_t)st->st_mtim.tv_sec;
	h->mtime_ns = st->st_mtim.tv_nsec;
	snprintf(h->hex, sizeof(h->hex), "%s", hex);
}

static void media_save(struct media *m)
{
	struct media_saved s = {0};
	char *text;

	if (!m->state_file[0])
		return;
	if (m->cur.present) {
		snprintf(s.image, sizeof(s.image), "%s", m->cur.name);
		s.mode = m->cur.mode;
		s.readonly = m->cur.readonly;
	} else {
		s.readonly = true;
	}
	memcpy(s.hashes, m->cache, sizeof(s.hashes));
	text = media_store_build(&s);
	if (!text) {
		snprintf(m->save_error, sizeof(m->save_error),
			 "%s: out of memory", m->state_file);
		return;
	}
	media_worker_save(m->worker, m->state_file, text);
}

/* ---- the background hash ---- */

static void media_progress(void *data)
{
	struct media *m = data;

	m->progress_timer = 0;
	if (!m->hashing)
		return;
	media_changed(m);
	loop_timer_rearm(m->loop, &m->progress_timer, MEDIA_PROGRESS_MS,
			 media_progress, m);
}

static void media_hash_stop(struct media *m)
{
	if (m->hashing)
		media_worker_cancel(m->worker);
	m->hashing = false;
	if (m->progress_timer)
		loop_timer_cancel(m->loop, m->progress_timer);
	m->progress_timer = 0;
}

/* Find or compute the SHA-256 of the current read-only image. */
static void media_hash_start(struct media *m)
{
	const char *hex;
	int fd;

	media_hash_stop(m);
	m->cur.sha256[0] = '\0';
	m->cur.hash_err = 0;
	m->cur.hash_ms = 0;
	/* A writable disk changes under the server's writes: no sum. */
	if (!m->cur.present || !m->cur.readonly || m->dirfd < 0)
		return;
	hex = media_cache_find(m, m->cur.name, &m->cur.st);
	if (hex) {
		snprintf(m->cur.sha256, sizeof(m->cur.sha256), "%s", hex);
		return;
	}
	fd = media_name_reopen(m->dirfd, m->cur.name, &m->cur.st);
	if (fd < 0) {
		m->cur.hash_err = fd;
		return;
	}
	m->hashing = true;
	media_worker_hash(m->worker, fd, ++m->hash_gen);
	loop_timer_rearm(m->loop, &m->progress_timer, MEDIA_PROGRESS_MS,
			 media_progress, m);
}

static void media_on_worker(void *data, const struct media_worker_result *res)
{
	struct media *m = data;

	if (res->save_done) {
		if (res->save_err)
			snprintf(m->save_error, sizeof(m->save_error), "%s: %s",
				 m->state_file, strerror(-res->save_err));
		else
			m->save_error[0] = '\0';
		media_changed(m);
	}
	if (res->hash_done && m->hashing && res->gen == m->hash_gen) {
		media_hash_stop(m);
		if (!res->err) {
			snprintf(m->cur.sha256, sizeof(m->cur.sha256), "%s",
				 res->hex);
			m->cur.hash_ms = res->usec / 1000;
			media_cache_add(m, m->cur.name, &m->cur.st, res->hex);
			media_save(m);
		} else if (res->err != -ECANCELED) {
			m->cur.hash_err = res->err;
		}
		media_changed(m);
	}
}

/* ---- the images folder ---- */

static void media_dir_close(struct media *m)
{
	if (m->ino_wd >= 0)
		inotify_rm_watch(m->ino_fd, m->ino_wd);
	m->ino_wd = -1;
	if (m->dirfd >= 0)
		close(m->dirfd);
	m->dirfd = -1;
}

static int media_dir_open(struct media *m)
{
	char real[PATH_MAX];
	int r;

	if (m->dirfd >= 0)
		return 0;
	m->dirfd = open(m->dir_cfg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->dirfd < 0) {
		r = -errno;
		snprintf(m->dir_error, sizeof(m->dir_error),
			 "images folder %s: %s", m->dir_cfg, strerror(-r));
		return r;
	}
	/* The kernel reports the resolved path; compare like with like. */
	snprintf(m->dir, sizeof(m->dir), "%s",
		 realpath(m->dir_cfg, real) ? real : m->dir_cfg);
	m->dir_error[0] = '\0';
	if (m->ino_fd >= 0)
		m->ino_wd =
			inotify_add_watch(m->ino_fd, m->dir, MEDIA_DIR_EVENTS);
	return 0;
}

static int media_image_cmp(const void *a, const void *b)
{
	return strcmp(((const struct media_image *)a)->name,
		      ((const struct media_image *)b)->name);
}

/* Has the inserted file gone, or changed? Returns true if state moved. */
static bool media_check_current(struct media *m)
{
	struct stat st;

	if (!m->cur.present || m->dirfd < 0)
		return false;
	if (fstatat(m->dirfd, m->cur.name, &st, AT_SYMLINK_NOFOLLOW) ||
	    !media_same_file(&st, &m->cur.st)) {
		/* The LUN still serves the old inode, which the kernel holds
		 * open; say so rather than pretend. */
		if (m->cur.removed)
			return false;
		m->cur.removed = true;
		return true;
	}
	if (m->cur.removed) {
		m->cur.removed = false;
		return true;
	}
	if (st.st_size == m->cur.st.st_size &&
	    st.st_mtim.tv_sec == m->cur.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == m->cur.st.st_mtim.tv_nsec)
		return false;
	m->cur.st = st;
	if (m->cur.readonly)
		media_hash_start(m);
	return true;
}

static void media_rescan_cb(void *data);

static void media_rescan(struct media *m)
{
	struct media_image *list = NULL;
	bool had_error = m->dir_error[0] != '\0';
	bool moved = false, truncated = false;
	struct stat dst;
	struct statvfs vfs;
	struct dirent *e;
	size_t n = 0;
	DIR *d = NULL;
	int fd;

	/*
	 * A removed folder we hold open gets no IN_DELETE_SELF until it is
	 * closed; its link count says it is gone.
	 */
	if (m->dirfd >= 0 && (fstat(m->dirfd, &dst) || dst.st_nlink == 0))
		media_dir_close(m);
	if (media_dir_open(m)) {
		/* No inotify watch without the folder: look again later. */
		loop_timer_rearm(m->loop, &m->rescan_timer, MEDIA_DIR_RETRY_MS,
				 media_rescan_cb, m);
		goto swap;
	}
	list = calloc(MEDIA_IMAGES_MAX, sizeof(*list));
	fd = openat(m->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!list || fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		free(list);
		return; /* keep the old list; the next event tries again */
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct stat st;

		if (media_name_check(e->d_name, len, NULL) != MEDIA_RULE_OK ||
		    fstatat(m->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == MEDIA_IMAGES_MAX) {
			truncated = true;
			continue;
		}
		memcpy(list[n].name, e->d_name, len + 1);
		list[n].size = (uint64_t)st.st_size;
		n++;
	}
	closedir(d);
	qsort(list, n, sizeof(*list), media_image_cmp);
	if (!fstatvfs(m->dirfd, &vfs))
		m->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
swap:
	if (n != m->n_images || truncated != m->images_truncated ||
	    (n && memcmp(list, m->images, n * sizeof(*list))))
		moved = true;
	free(m->images);
	m->images = list;
	m->n_images = n;
	m->images_truncated = truncated;
	if (media_check_current(m) || had_error != (m->dir_error[0] != '\0'))
		moved = true;
	if (moved)
		media_changed(m);
}

static void media_rescan_cb(void *data)
{
	struct media *m = data;

	m->rescan_timer = 0;
	media_rescan(m);
}

static void media_on_inotify(int fd, short revents, void *data)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	struct media *m = data;
	bool gone = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			/* IN_IGNORED of an older watch must not close the
			 * folder opened since. */
			if (ev->wd == m->ino_wd &&
			    (ev->mask &
			     (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)))
				gone = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (gone) {
		/* Watch the path again when it comes back (next command). */
		media_dir_close(m);
	}
	/* A copy makes a burst of events: one rescan for all of them. */
	if (!m->rescan_timer)
		loop_timer_rearm(m->loop, &m->rescan_timer, MEDIA_RESCAN_MS,
				 media_rescan_cb, m);
}

/* ---- inserting ---- */

static bool media_is_iso(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && !strcasecmp(name + n - 4, ".iso");
}

/* Would the kernel serve all of this file in this mode? */
static int media_check_fit(enum media_mode mode, uint64_t size,
			   const char *name, char *err, size_t errlen)
{
	char shown[300];

	media_name_escape(name, strlen(name), shown, sizeof(shown));
	if (mode == MEDIA_MODE_CDROM &&
	    size / MEDIA_CDROM_BLOCK < MEDIA_CDROM_MIN_BLOCKS) {
		snprintf(err, errlen,
			 "image \"%s\" has %" PRIu64
			 " bytes: a CD-ROM needs at least %llu (300 blocks "
			 "of 2048 bytes); insert it as a disk: "
			 "{\"image\":\"%s\",\"mode\":\"disk\"}",
			 shown, size,
			 MEDIA_CDROM_MIN_BLOCKS * MEDIA_CDROM_BLOCK, shown);
		return -ERANGE;
	}
	if (mode == MEDIA_MODE_CDROM &&
	    size / MEDIA_CDROM_BLOCK > MEDIA_CDROM_MAX_BLOCKS) {
		snprintf(err, errlen,
			 "image \"%s\" has %" PRIu64
			 " bytes, more than CD-ROM emulation serves on Linux "
			 "(%llu bytes: 256*60*75-1 blocks of 2048; the kernel "
			 "would silently cut the rest off); insert it in disk "
			 "mode: {\"image\":\"%s\",\"mode\":\"disk\"}",
			 shown, size,
			 (MEDIA_CDROM_MAX_BLOCKS + 1) * MEDIA_CDROM_BLOCK - 1,
			 shown);
		return -EFBIG;
	}
	if (mode == MEDIA_MODE_DISK && size < MEDIA_DISK_BLOCK) {
		snprintf(err, errlen,
			 "image \"%s\" has %" PRIu64
			 " bytes: a disk needs at least one block of 512",
			 shown, size);
		return -ERANGE;
	}
	return 0;
}

/*
 * Put the checked inode st (name in the folder) into the LUN and make
 * sure the LUN holds that very inode: the name could have been swapped
 * for a symbolic link or another file between the check and the kernel's
 * open. The kernel's "file" shows the path of what it opened.
 */
static int media_lun_put(struct media *m, const char *name,
			 const struct stat *st, enum media_mode mode, bool ro,
			 bool *forced, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct lun_medium lm;
	struct stat now;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", m->dir, name) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "the image's path is too long");
		return -ENAMETOOLONG;
	}
	r = lun_insert(m->lun, path, mode == MEDIA_MODE_CDROM, ro, forced, err,
		       errlen);
	if (r)
		return r;
	r = lun_read(m->lun, &lm, err, errlen);
	if (r)
		return r;
	if (fstatat(m->dirfd, name, &now, AT_SYMLINK_NOFOLLOW) ||
	    !media_same_file(&now, st) || !lm.file[0] ||
	    fstatat(AT_FDCWD, lm.file, &now, AT_SYMLINK_NOFOLLOW) ||
	    !media_same_file(&now, st)) {
		bool f;
		char e2[64];

		lun_eject(m->lun, &f, e2, sizeof(e2));
		snprintf(err, errlen,
			 "the image was replaced while it was being inserted; "
			 "ejected it again, the LUN is empty");
		return -ESTALE;
	}
	return 0;
}

static void media_set_current(struct media *m, const char *name,
			      const struct stat *st, enum media_mode mode)
{
	struct lun_medium lm;
	char e[64];

	memset(&m->cur, 0, sizeof(m->cur));
	m->cur.present = true;
	snprintf(m->cur.name, sizeof(m->cur.name), "%s", name);
	m->cur.mode = mode;
	m->cur.st = *st;
	/* The kernel falls back to read-only when it cannot write. */
	m->cur.readonly = lun_read(m->lun, &lm, e, sizeof(e)) ? true : lm.ro;
	m->foreign[0] = '\0';
	media_hash_start(m);
}

static void media_set_empty(struct media *m)
{
	media_hash_stop(m);
	memset(&m->cur, 0, sizeof(m->cur));
	m->foreign[0] = '\0';
}

/* Does the LUN hold the inode st? */
static bool media_lun_holds(struct media *m, const struct stat *st)
{
	struct lun_medium lm;
	struct stat now;
	char e[64];

	return !lun_read(m->lun, &lm, e, sizeof(e)) && lm.file[0] &&
	       !stat(lm.file, &now) && media_same_file(&now, st);
}

/* After a failed switch: say what the LUN holds now, and if the switch
 * emptied it, give the server its previous medium back if possible. */
static void media_insert_failed(struct media *m,
				const struct media_current *prev, int r,
				char *err, size_t errlen)
{
	size_t l = strlen(err);
	struct stat pst;
	enum media_rule pr;
	bool pf;
	char e2[64];

	if (prev->present && media_lun_holds(m, &prev->st)) {
		/* The eject itself failed: nothing changed. */
		snprintf(err + l, errlen - l, "; the LUN keeps %s", prev->name);
		if (prev->readonly)
			media_hash_start(m);
		return;
	}
	media_set_empty(m);
	if (r != -ESTALE && prev->present &&
	    !media_name_open(m->dirfd, prev->name, strlen(prev->name), &pst,
			     &pr, NULL) &&
	    media_same_file(&pst, &prev->st) &&
	    !media_lun_put(m, prev->name, &pst, prev->mode, prev->readonly, &pf,
			   e2, sizeof(e2))) {
		media_set_current(m, prev->name, &pst, prev->mode);
		snprintf(err + l, errlen - l, "; %s was put back into the LUN",
			 prev->name);
	} else {
		snprintf(err + l, errlen - l, "; the LUN is empty");
	}
	media_save(m);
	media_changed(m);
}

static int media_need_lun(struct media *m, char *err, size_t errlen)
{
	if (m->lun[0])
		return 0;
	snprintf(err, errlen,
		 "no LUN to insert into: set [media] lun to the LUN's folder, "
		 "or let the agent manage the gadget ([gadget] manage = true)");
	return -ENODEV;
}

int media_insert(struct media *m, const struct media_insert_req *rq,
		 struct media_done *done, char *err, size_t errlen)
{
	struct media_current prev = m->cur;
	char name[MEDIA_NAME_MAX + 1];
	enum media_mode mode;
	enum media_rule rule;
	struct stat st;
	bool ro, forced = false;
	size_t at = 0;
	int r;

	memset(done, 0, sizeof(*done));
	r = media_need_lun(m, err, errlen);
	if (r)
		return r;
	r = media_dir_open(m);
	if (r) {
		snprintf(err, errlen, "%s", m->dir_error);
		return r;
	}
	/* Every check first: a refused command leaves the LUN as it was. */
	r = media_name_open(m->dirfd, rq->name, rq->len, &st, &rule, &at);
	if (r) {
		media_rule_format(rule, rq->name, rq->len, at, err, errlen);
		return r;
	}
	memcpy(name, rq->name, rq->len);
	name[rq->len] = '\0';
	mode = rq->mode >= 0	    ? (enum media_mode)rq->mode
	       : media_is_iso(name) ? MEDIA_MODE_CDROM
				    : MEDIA_MODE_DISK;
	if (mode == MEDIA_MODE_CDROM && rq->readonly == 0) {
		snprintf(err, errlen,
			 "a CD-ROM is always read-only; use \"mode\":\"disk\" "
			 "for a writable disk");
		return -EINVAL;
	}
	ro = rq->readonly != 0;
	if (!ro && !m->allow_writable) {
		snprintf(
			err, errlen,
			"writable disks are disabled: the server could change "
			"the image; set [media] allow_writable = true to allow "
			"them");
		return -EPERM;
	}
	r = media_check_fit(mode, (uint64_t)st.st_size, name, err, errlen);
	if (r)
		return r;

	media_hash_stop(m);
	r = media_lun_put(m, name, &st, mode, ro, &forced, err, errlen);
	if (r) {
		media_insert_failed(m, &prev, r, err, errlen);
		return r;
	}
	media_set_current(m, name, &st, mode);
	media_save(m);
	media_changed(m);
	done->forced = forced;
	done->present = true;
	done->mode = mode;
	done->readonly = m->cur.readonly;
	done->size = (uint64_t)st.st_size;
	return 0;
}

int media_eject(struct media *m, struct media_done *done, char *err,
		size_t errlen)
{
	int r;

	memset(done, 0, sizeof(*done));
	r = media_need_lun(m, err, errlen);
	if (r)
		return r;
	r = lun_eject(m->lun, &done->forced, err, errlen);
	if (r)
		return r;
	media_set_empty(m);
	media_save(m);
	media_changed(m);
	return 0;
}

int media_create(struct media *m, const char *name, size_t len, uint64_t bytes,
		 char *err, size_t errlen)
{
	char cname[MEDIA_NAME_MAX + 1];
	enum media_rule rule;
	struct statvfs vfs;
	size_t at = 0;
	uint64_t avail;
	int fd, r;

	r = media_dir_open(m);
	if (r) {
		snprintf(err, errlen, "%s", m->dir_error);
		return r;
	}
	rule = media_name_check(name, len, &at);
	if (rule != MEDIA_RULE_OK) {
		media_rule_format(rule, name, len, at, err, errlen);
		return -EINVAL;
	}
	memcpy(cname, name, len);
	cname[len] = '\0';
	/* O_EXCL | O_NOFOLLOW: never an existing file, never via a link. */
	fd = openat(m->dirfd, cname,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		if (r == -EEXIST)
			snprintf(err, errlen,
				 "\"%s\" exists already in the images folder "
				 "(create never overwrites)",
				 cname);
		else
			snprintf(err, errlen, "creating \"%s\": %s", cname,
				 strerror(-r));
		return r;
	}
	if (fstatvfs(fd, &vfs)) {
		r = -errno;
		snprintf(err, errlen, "free space of the images folder: %s",
			 strerror(-r));
		goto fail;
	}
	/* Sparse now, but the server may fill it: it must fit. */
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (bytes > avail) {
		r = -ENOSPC;
		snprintf(err, errlen,
			 "not enough free space for %" PRIu64 " MiB: %" PRIu64
			 " MiB free in the images folder",
			 bytes >> 20, avail >> 20);
		goto fail;
	}
	if (ftruncate(fd, (off_t)bytes)) {
		r = -errno;
		snprintf(err, errlen, "sizing \"%s\": %s", cname, strerror(-r));
		goto fail;
	}
	close(fd);
	media_rescan(m);
	return 0;
fail:
	close(fd);
	unlinkat(m->dirfd, cname, 0);
	return r;
}

/* ---- start ---- */

static int media_adopt(struct media *m, const struct lun_medium *lm, char *msg,
		       size_t msglen)
{
	size_t dl = strlen(m->dir);
	enum media_rule rule;
	struct stat st, lst;

	if (!lm->file[0])
		return 0;
	if (m->dirfd >= 0 && !strncmp(lm->file, m->dir, dl) &&
	    lm->file[dl] == '/') {
		const char *name = lm->file + dl + 1;

		if (!media_name_open(m->dirfd, name, strlen(name), &st, &rule,
				     NULL) &&
		    !stat(lm->file, &lst) && media_same_file(&st, &lst)) {
			media_set_current(m, name, &st,
					  lm->cdrom ? MEDIA_MODE_CDROM
						    : MEDIA_MODE_DISK);
			media_save(m);
			snprintf(msg, msglen, "the LUN holds %s (%s): kept",
				 name, media_mode_name(m->cur.mode));
			return 0;
		}
	}
	snprintf(m->foreign, sizeof(m->foreign), "%s", lm->file);
	snprintf(msg, msglen,
		 "the LUN holds %.200s, which is not an image of the folder: "
		 "left as it is",
		 lm->file);
	return 0;
}

int media_restore(struct media *m, char *msg, size_t msglen)
{
	const struct media_saved *s = &m->saved;
	struct lun_medium lm;
	enum media_rule rule;
	struct stat st, lst;
	char err[400];
	bool forced;
	size_t at = 0;
	int r;

	msg[0] = '\0';
	if (!m->lun[0])
		return 0;
	r = lun_read(m->lun, &lm, err, sizeof(err));
	if (r) {
		snprintf(msg, msglen, "%s", err);
		return r;
	}
	if (!s->image[0])
		return media_adopt(m, &lm, msg, msglen);
	r = media_dir_open(m);
	if (!r)
		r = media_name_open(m->dirfd, s->image, strlen(s->image), &st,
				    &rule, &at);
	if (r) {
		if (m->dirfd < 0)
			snprintf(err, sizeof(err), "%.380s", m->dir_error);
		else
			media_rule_format(rule, s->image, strlen(s->image), at,
					  err, sizeof(err));
		goto refuse;
	}
	r = media_check_fit(s->mode, (uint64_t)st.st_size, s->image, err,
			    sizeof(err));
	if (r)
		goto refuse;
	if (!s->readonly && !m->allow_writable) {
		snprintf(err, sizeof(err),
			 "it was writable and [media] allow_writable is off");
		r = -EPERM;
		goto refuse;
	}
	/* Already there (the agent restarted, the gadget stayed bound):
	 * touching it would be a media change in the middle of an install. */
	if (lm.file[0] && !stat(lm.file, &lst) && media_same_file(&st, &lst) &&
	    lm.cdrom == (s->mode == MEDIA_MODE_CDROM)) {
		media_set_current(m, s->image, &st, s->mode);
		snprintf(msg, msglen, "%s (%s) is in the LUN already: kept",
			 s->image, media_mode_name(s->mode));
		return 0;
	}
	r = media_lun_put(m, s->image, &st, s->mode, s->readonly, &forced, err,
			  sizeof(err));
	if (r)
		goto refuse;
	media_set_current(m, s->image, &st, s->mode);
	snprintf(msg, msglen, "put %s back into the LUN (%s, %s)", s->image,
		 media_mode_name(s->mode),
		 m->cur.readonly ? "read-only" : "writable");
	return 0;
refuse:
	snprintf(msg, msglen, "the saved image %s was not put back: %s",
		 s->image, err);
	media_adopt(m, &lm, err, sizeof(err));
	return r;
}

/* ---- the state section ---- */

cJSON *media_state_json(void *data)
{
	struct media *m = data;
	cJSON *o = cJSON_CreateObject();
	cJSON *list;

	if (!o)
		return NULL;
	if (m->cur.present) {
		cJSON_AddStringToObject(o, "image", m->cur.name);
		cJSON_AddStringToObject(o, "mode",
					media_mode_name(m->cur.mode));
		cJSON_AddBoolToObject(o, "readonly", m->cur.readonly);
		cJSON_AddNumberToObject(o, "size", (double)m->cur.st.st_size);
		if (m->cur.sha256[0])
			cJSON_AddStringToObject(o, "sha256", m->cur.sha256);
		else
			cJSON_AddNullToObject(o, "sha256");
		if (m->hashing && m->cur.st.st_size > 0)
			cJSON_AddNumberToObject(
				o, "hash_progress",
				(double)(media_worker_hashed(m->worker) * 100 /
					 (uint64_t)m->cur.st.st_size));
		if (m->cur.hash_ms)
			cJSON_AddNumberToObject(o, "hash_ms",
						(double)m->cur.hash_ms);
		if (m->cur.hash_err)
			cJSON_AddStringToObject(o, "hash_error",
						strerror(-m->cur.hash_err));
		if (m->cur.removed)
			cJSON_AddBoolToObject(o, "removed", true);
	} else {
		cJSON_AddNullToObject(o, "image");
	}
	if (m->foreign[0])
		cJSON_AddStringToObject(o, "lun_file", m->foreign);
	if (!m->lun[0])
		cJSON_AddBoolToObject(o, "lun", false);
	list = cJSON_AddArrayToObject(o, "images");
	for (size_t i = 0; list && i < m->n_images; i++) {
		cJSON *img = cJSON_CreateObject();

		cJSON_AddStringToObject(img, "name", m->images[i].name);
		cJSON_AddNumberToObject(img, "size", (double)m->images[i].size);
		cJSON_AddItemToArray(list, img);
	}
	if (m->images_truncated)
		cJSON_AddBoolToObject(o, "images_truncated", true);
	cJSON_AddNumberToObject(o, "free_bytes", (double)m->free_bytes);
	if (m->dir_error[0])
		cJSON_AddStringToObject(o, "error", m->dir_error);
	if (m->save_error[0])
		cJSON_AddStringToObject(o, "state_file_error", m->save_error);
	return o;
}

/* ---- life ---- */

int media_new(struct loop *l, const struct media_cfg *cfg,
	      media_changed_fn changed, void *data, struct media **out,
	      char *err, size_t errlen)
{
	struct media *m = calloc(1, sizeof(*m));
	int r;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->loop = l;
	m->changed = changed;
	m->data = data;
	m->allow_writable = cfg->allow_writable;
	m->dirfd = -1;
	m->ino_wd = -1;
	snprintf(m->dir_cfg, sizeof(m->dir_cfg), "%s", cfg->dir);
	snprintf(m->dir, sizeof(m->dir), "%s", cfg->dir);
	snprintf(m->lun, sizeof(m->lun), "%s", cfg->lun ? cfg->lun : "");
	snprintf(m->state_file, sizeof(m->state_file), "%s",
		 cfg->state_file ? cfg->state_file : "");
	m->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->ino_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "inotify: %s", strerror(-r));
		goto fail;
	}
	r = loop_fd_add(l, m->ino_fd, POLLIN, media_on_inotify, m);
	if (r) {
		snprintf(err, errlen, "loop: %s", strerror(-r));
		goto fail;
	}
	r = media_worker_new(l, media_on_worker, m, &m->worker);
	if (r) {
		snprintf(err, errlen, "media worker thread: %s", strerror(-r));
		goto fail;
	}
	if (m->state_file[0]) {
		r = media_store_read(m->state_file, &m->saved);
		if (r && r != -ENOENT)
			snprintf(m->save_error, sizeof(m->save_error), "%s: %s",
				 m->state_file, strerror(-r));
		memcpy(m->cache, m->saved.hashes, sizeof(m->cache));
	}
	media_rescan(m);
	*out = m;
	return 0;
fail:
	media_free(m);
	return r;
}

void media_free(struct media *m)
{
	if (!m)
		return;
	if (m->rescan_timer)
		loop_timer_cancel(m->loop, m->rescan_timer);
	if (m->progress_timer)
		loop_timer_cancel(m->loop, m->progress_timer);
	/* Joins the thread after a pending state write is done. */
	media_worker_free(m->worker);
	media_dir_close(m);
	if (m->ino_fd >= 0) {
		loop_fd_del(m->loop, m->ino_fd);
		close(m->ino_fd);
	}
	free(m->images);
	free(m);
}
