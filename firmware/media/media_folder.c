/* The images folder: opening it, inotify, the listing and creating images. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "firmware/core/inotify_drain.h"
#include "firmware/media/media_priv.h"

/* ---- the images folder ---- */

void media_dir_close(struct media *m)
{
	if (m->ino_wd >= 0)
		inotify_rm_watch(m->ino_fd, m->ino_wd);
	m->ino_wd = -1;
	if (m->dirfd >= 0)
		close(m->dirfd);
	m->dirfd = -1;
}

int media_dir_open(struct media *m)
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

static void media_rescan_cb(void *data);

void media_rescan(struct media *m)
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

		/* A download in progress is not an image yet. */
		if (media_name_check(e->d_name, len, NULL) != MEDIA_RULE_OK ||
		    (len > 8 && !strcmp(e->d_name + len - 8, ".partial")) ||
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

struct media_ino_scan {
	int wd;
	bool gone;
};

static void media_on_event(void *data, const struct inotify_event *ev)
{
	struct media_ino_scan *scan = data;

	/* IN_IGNORED of an older watch must not close the folder opened
	 * since. */
	if (ev->wd == scan->wd &&
	    (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)))
		scan->gone = true;
}

void media_on_inotify(int fd, short revents, void *data)
{
	struct media *m = data;
	struct media_ino_scan scan = {.wd = m->ino_wd, .gone = false};
	bool gone;

	inotify_drain(fd, media_on_event, &scan);
	gone = scan.gone;
	if (gone) {
		/* Watch the path again when it comes back (next command). */
		media_dir_close(m);
	}
	/* A copy makes a burst of events: one rescan for all of them. */
	if (!m->rescan_timer)
		loop_timer_rearm(m->loop, &m->rescan_timer, MEDIA_RESCAN_MS,
				 media_rescan_cb, m);
}

int media_create(struct media *m, const char *name, size_t len, uint64_t bytes,
		 media_create_done_fn done, void *data, char *err,
		 size_t errlen)
{
	char cname[MEDIA_NAME_MAX + 1];
	enum media_rule rule;
	struct statvfs vfs;
	size_t at = 0;
	uint64_t avail;
	int fd, r;

	if (m->create.busy) {
		snprintf(err, errlen, "the creation of \"%s\" is running",
			 m->create.name);
		return -EBUSY;
	}
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
	/* The worker takes the descriptor over. */
	r = media_worker_size(m->worker, fd, bytes);
	if (r) {
		snprintf(err, errlen, "sizing \"%s\": %s", cname, strerror(-r));
		goto fail;
	}
	m->create.busy = true;
	memcpy(m->create.name, cname, len + 1);
	m->create.done = done;
	m->create.data = data;
	return 0;
fail:
	close(fd);
	unlinkat(m->dirfd, cname, 0);
	return r;
}

void media_create_done(struct media *m, int err)
{
	media_create_done_fn done = m->create.done;
	char msg[MEDIA_NAME_MAX + 128] = "";

	if (!m->create.busy)
		return;
	m->create.busy = false;
	m->create.done = NULL;
	/* Forgotten (the agent stops): not kept half made. */
	if (!err && !done)
		err = -ECANCELED;
	if (err) {
		snprintf(msg, sizeof(msg), "sizing \"%s\": %s", m->create.name,
			 strerror(-err));
		if (m->dirfd >= 0)
			unlinkat(m->dirfd, m->create.name, 0);
	}
	media_rescan(m);
	if (done)
		done(m->create.data, err, msg);
}

void media_create_forget(struct media *m)
{
	m->create.done = NULL;
}
