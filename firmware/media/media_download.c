/*
 * Downloads, the loop's side: every check before the worker is asked
 * (URL, name, mode, free space), the progress in the state, the cancel,
 * and the insert once the worker has renamed the image into place.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "firmware/media/media_curl.h"

#include "firmware/media/media_priv.h"

static const char media_partial_ext[] = ".partial";

static uint64_t media_download_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void media_download_progress(void *data)
{
	struct media *m = data;

	m->fetch_timer = 0;
	if (!m->fetch)
		return;
	media_changed(m);
	loop_timer_rearm(m->loop, &m->fetch_timer, MEDIA_PROGRESS_MS,
			 media_download_progress, m);
}

static int media_download_name(struct media *m, struct media_fetch *f,
			       const struct media_url_req *rq, char *err,
			       size_t errlen)
{
	enum media_rule rule;
	size_t len, at = 0;

	if (rq->name) {
		len = strlen(rq->name);
		rule = media_name_check(rq->name, len, &at);
		if (rule != MEDIA_RULE_OK) {
			media_rule_format(rule, rq->name, len, at, err, errlen);
			return -EINVAL;
		}
		memcpy(f->name, rq->name, len + 1);
	} else {
		int r = media_url_name(f->url, f->name, sizeof(f->name), err,
				       errlen);

		if (r)
			return r;
		len = strlen(f->name);
		rule = media_name_check(f->name, len, &at);
		if (rule != MEDIA_RULE_OK) {
			media_rule_format(rule, f->name, len, at, err, errlen);
			strncat(err,
				" (the name comes from the URL: give "
				"\"image\")",
				errlen - strlen(err) - 1);
			return -EINVAL;
		}
	}
	if (len + sizeof(media_partial_ext) > sizeof(f->partial)) {
		snprintf(err, errlen,
			 "the image name is too long to add \"%s\" while it "
			 "downloads (at most %zu bytes)",
			 media_partial_ext,
			 sizeof(f->partial) - sizeof(media_partial_ext));
		return -ENAMETOOLONG;
	}
	snprintf(f->partial, sizeof(f->partial), "%s%s", f->name,
		 media_partial_ext);
	if (m->cur.present && !strcmp(m->cur.name, f->name)) {
		snprintf(err, errlen,
			 "%s is the inserted image: eject it first, or give "
			 "another \"image\" name",
			 f->name);
		return -EBUSY;
	}
	return 0;
}

static int media_download_sha(struct media_fetch *f, const char *sha, char *err,
			      size_t errlen)
{
	size_t i;

	if (!sha)
		return 0;
	for (i = 0; i < 64 && sha[i]; i++)
		if (!isxdigit((unsigned char)sha[i]))
			break;
	if (i != 64 || sha[i]) {
		snprintf(err, errlen,
			 "\"sha256\" must be 64 hexadecimal digits");
		return -EINVAL;
	}
	for (i = 0; i < 64; i++)
		f->sha256[i] = (char)tolower((unsigned char)sha[i]);
	f->sha256[64] = '\0';
	return 0;
}

/* The refusals media_insert() would make after the download, made now. */
static int media_download_mode(struct media *m, const struct media_url_req *rq,
			       const char *name, char *err, size_t errlen)
{
	bool cdrom = rq->mode == MEDIA_MODE_CDROM ||
		     (rq->mode < 0 && media_is_iso(name));

	if (!m->lun[0]) {
		snprintf(err, errlen,
			 "no LUN to insert into: set [media] lun to the LUN's "
			 "folder, or let the agent manage the gadget");
		return -ENODEV;
	}
	if (rq->readonly == 0 && cdrom) {
		snprintf(err, errlen,
			 "a CD-ROM is always read-only; use \"mode\":\"disk\" "
			 "for a writable disk");
		return -EINVAL;
	}
	if (rq->readonly == 0 && !m->allow_writable) {
		snprintf(err, errlen,
			 "writable disks are disabled: set [media] "
			 "allow_writable = true to allow them");
		return -EPERM;
	}
	return 0;
}

static int media_download_space(struct media *m, struct media_fetch *f,
				char *err, size_t errlen)
{
	struct statvfs vfs;
	uint64_t avail;

	if (fstatvfs(m->dirfd, &vfs)) {
		snprintf(err, errlen, "free space of the images folder: %s",
			 strerror(errno));
		return -errno;
	}
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail <= MEDIA_FETCH_RESERVE) {
		snprintf(err, errlen,
			 "the images folder is full: %" PRIu64
			 " bytes free, and %llu MiB are kept in reserve",
			 avail, MEDIA_FETCH_RESERVE >> 20);
		return -ENOSPC;
	}
	f->max_bytes = avail - MEDIA_FETCH_RESERVE;
	return 0;
}

static int media_download_check(struct media *m, struct media_fetch *f,
				const struct media_url_req *rq, char *err,
				size_t errlen)
{
	int r;

	if (m->fetch) {
		snprintf(err, errlen,
			 "a download of %.300s is running: cmd/media "
			 "{\"cancel\":true} stops it",
			 m->fetch->url);
		return -EBUSY;
	}
	r = media_url_check(rq->url, m->url_allow, f->url, sizeof(f->url), err,
			    errlen);
	if (!r)
		r = media_download_name(m, f, rq, err, errlen);
	if (!r)
		r = media_download_sha(f, rq->sha256, err, errlen);
	if (!r)
		r = media_download_mode(m, rq, f->name, err, errlen);
	if (r)
		return r;
	r = media_dir_open(m);
	if (r) {
		snprintf(err, errlen, "%s", m->dir_error);
		return r;
	}
	return media_download_space(m, f, err, errlen);
}

int media_download_start(struct media *m, const struct media_url_req *rq,
			 media_url_done_fn done, void *data, char *err,
			 size_t errlen)
{
	struct media_fetch *f;
	int r;

	const struct media_curl *cu = media_curl(err, errlen);

	if (!cu)
		return -ENOSYS;
	if (!m->curl_ready) {
		if (cu->global_init(CURL_GLOBAL_DEFAULT)) {
			snprintf(err, errlen, "libcurl does not start");
			return -EIO;
		}
		m->curl_ready = true;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->dirfd = -1;
	r = media_download_check(m, f, rq, err, errlen);
	if (r)
		goto fail;
	f->dirfd = fcntl(m->dirfd, F_DUPFD_CLOEXEC, 0);
	if (f->dirfd < 0) {
		r = -errno;
		snprintf(err, errlen, "images folder: %s", strerror(-r));
		goto fail;
	}
	snprintf(f->allow, sizeof(f->allow), "%s", m->url_allow);
	f->timeout_s = m->url_timeout_s;
	f->rq.mode = rq->mode;
	f->rq.readonly = rq->readonly;
	f->done = done;
	f->done_data = data;
	f->t0_us = media_download_now_ms();
	/* The worker does one thing at a time: a hash of the inserted image
	 * (minutes on a Pi) would hold the download back. It starts again
	 * if the download does not end in an insert. */
	media_hash_stop(m);
	r = media_worker_run(m->worker, media_fetch_job, f);
	if (r) {
		snprintf(err, errlen, "the media worker is busy");
		goto fail;
	}
	m->fetch = f;
	loop_timer_rearm(m->loop, &m->fetch_timer, MEDIA_PROGRESS_MS,
			 media_download_progress, m);
	media_changed(m);
	return 0;
fail:
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f);
	return r;
}

int media_download_cancel(struct media *m)
{
	if (!m->fetch)
		return -ENOENT;
	atomic_store(&m->fetch->cancel, true);
	return 0;
}

void media_download_forget(struct media *m)
{
	if (m->fetch)
		m->fetch->done = NULL;
}

const char *media_download_url(struct media *m)
{
	return m->fetch ? m->fetch->url : NULL;
}

/* The worker ended the job: insert what came, or say why not. */
void media_download_done(struct media *m, void *job)
{
	struct media_fetch *f = m->fetch;
	struct media_url_result res = {0};
	char msg[sizeof(f->msg) + 64];
	struct stat st;
	int err;

	if (!f || job != f)
		return;
	m->fetch = NULL;
	if (m->fetch_timer)
		loop_timer_cancel(m->loop, m->fetch_timer);
	m->fetch_timer = 0;
	close(f->dirfd);
	err = f->err;
	snprintf(msg, sizeof(msg), "%s", f->msg);
	res.url = f->url;
	res.name = f->name;
	res.sha256 = err ? "" : f->hex;
	res.bytes = atomic_load(&f->bytes);
	res.ms = media_download_now_ms() - f->t0_us;
	if (!err) {
		char e[sizeof(f->msg)];

		/* The sum is known: the insert need not read it all again. */
		if (!media_dir_open(m) &&
		    !fstatat(m->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW))
			media_hash_known(m, f->name, &st, f->hex);
		f->rq.name = f->name;
		f->rq.len = strlen(f->name);
		err = media_insert(m, &f->rq, &res.done, e, sizeof(e));
		if (err)
			snprintf(msg, sizeof(msg),
				 "downloaded to %s but not inserted: %s",
				 f->name, e);
	}
	if (err && m->cur.present && !m->cur.sha256[0] && !m->hashing)
		media_hash_start(m);
	media_changed(m);
	if (f->done)
		f->done(f->done_data, err, msg, &res);
	free(f);
}

/* After the worker was joined: the job has ended or never ran. */
void media_download_free(struct media *m)
{
	if (m->fetch_timer)
		loop_timer_cancel(m->loop, m->fetch_timer);
	m->fetch_timer = 0;
	if (m->fetch) {
		close(m->fetch->dirfd);
		free(m->fetch);
		m->fetch = NULL;
	}
	if (m->curl_ready)
		media_curl(NULL, 0)->global_cleanup();
	m->curl_ready = false;
}

cJSON *media_download_json(struct media *m)
{
	struct media_fetch *f = m->fetch;
	cJSON *o = cJSON_CreateObject();
	uint64_t total;

	if (!o)
		return NULL;
	total = atomic_load(&f->total);
	cJSON_AddStringToObject(o, "url", f->url);
	cJSON_AddStringToObject(o, "image", f->name);
	cJSON_AddNumberToObject(o, "bytes", (double)atomic_load(&f->bytes));
	if (total)
		cJSON_AddNumberToObject(o, "total", (double)total);
	else
		cJSON_AddNullToObject(o, "total");
	return o;
}
