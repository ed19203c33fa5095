/*
 * The download itself, run by the media worker thread: libcurl into
 * "<name>.partial", the SHA-256 computed while the bytes stream in,
 * redirects followed by hand so that each target passes the URL rules
 * again, then fsync and rename. On any error or a cancel the .partial is
 * removed. Only this thread touches the job's "in" fields while it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "firmware/media/media_curl.h"
#include <mbedtls/sha256.h>

#include "firmware/media/media_priv.h"

#define MEDIA_FETCH_REDIRECTS 5

struct media_fetch_run {
	const struct media_curl *cu;
	struct media_fetch *f;
	struct media_worker *w;
	CURL *curl;
	int fd;
	mbedtls_sha256_context sha;
	bool body;    /* this response is the image (200), not a redirect */
	bool checked; /* its Content-Length was checked */
};

static int media_fetch_fail(struct media_fetch *f, int err, const char *fmt,
			    ...) __attribute__((format(printf, 3, 4)));

static int media_fetch_fail(struct media_fetch *f, int err, const char *fmt,
			    ...)
{
	va_list ap;

	if (f->err)
		return f->err; /* the first error is the one to tell */
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	f->err = err;
	return err;
}

static int media_fetch_room(struct media_fetch_run *x, uint64_t need)
{
	struct media_fetch *f = x->f;

	if (need <= f->max_bytes)
		return 0;
	return media_fetch_fail(f, -ENOSPC,
				"the image needs %s%" PRIu64
				" bytes, more than the %" PRIu64
				" bytes free in the images folder (less a "
				"reserve of %llu MiB)",
				x->checked ? "at least " : "", need,
				f->max_bytes, MEDIA_FETCH_RESERVE >> 20);
}

static size_t media_fetch_write(char *data, size_t size, size_t nmemb,
				void *arg)
{
	struct media_fetch_run *x = arg;
	struct media_fetch *f = x->f;
	const struct media_curl *cu = x->cu;
	size_t len = size * nmemb, off = 0;
	long code = 0;

	if (!x->checked) {
		curl_off_t cl = -1;

		cu->easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		x->body = code == 200;
		if (!x->body)
			return len; /* a redirect's text: not the image */
		cu->easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				 &cl);
		if (cl >= 0) {
			atomic_store(&f->total, (uint64_t)cl);
			if (media_fetch_room(x, (uint64_t)cl))
				return 0;
		}
		x->checked = true;
	}
	if (!x->body)
		return len;
	if (media_fetch_room(x, atomic_load(&f->bytes) + len))
		return 0;
	if (mbedtls_sha256_update_ret(&x->sha, (const unsigned char *)data,
				      len)) {
		media_fetch_fail(f, -EIO, "SHA-256 failed");
		return 0;
	}
	while (off < len) {
		ssize_t n = write(x->fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			media_fetch_fail(f, -e, "writing %s: %s", f->partial,
					 strerror(e));
			return 0;
		}
		off += (size_t)n;
	}
	atomic_fetch_add(&f->bytes, len);
	return len;
}

/* Called about once a second even when nothing arrives. */
static int media_fetch_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
				curl_off_t ultotal, curl_off_t ulnow)
{
	struct media_fetch_run *x = arg;

	media_worker_yield(x->w);
	if (!atomic_load(&x->f->cancel) && !media_worker_stopping(x->w))
		return 0;
	media_fetch_fail(x->f, -ECANCELED, "cancelled");
	return 1;
}

static int media_fetch_setup(struct media_fetch_run *x, char *errbuf)
{
	const struct media_curl *cu = x->cu;
	struct media_fetch *f = x->f;
	CURL *c = x->curl;
	long t = f->timeout_s;

	/* Redirects are followed by hand, below, to check each target. */
	if (cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) ||
	    cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    cu->easy_setopt(c, CURLOPT_FAILONERROR, 1L) ||
	    cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t) ||
	    cu->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L) ||
	    cu->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, t) ||
	    cu->easy_setopt(c, CURLOPT_USERAGENT, "zerobmc") ||
	    cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) ||
	    cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, media_fetch_write) ||
	    cu->easy_setopt(c, CURLOPT_WRITEDATA, x) ||
	    cu->easy_setopt(c, CURLOPT_XFERINFOFUNCTION,
			    media_fetch_progress) ||
	    cu->easy_setopt(c, CURLOPT_XFERINFODATA, x) ||
	    cu->easy_setopt(c, CURLOPT_NOPROGRESS, 0L))
		return media_fetch_fail(f, -EINVAL,
					"libcurl refused an option");
	return 0;
}

static int media_fetch_error(struct media_fetch_run *x, CURLcode rc,
			     const char *errbuf)
{
	const struct media_curl *cu = x->cu;
	struct media_fetch *f = x->f;
	const char *why = errbuf[0] ? errbuf : cu->easy_strerror(rc);

	if (rc == CURLE_OPERATION_TIMEDOUT)
		return media_fetch_fail(f, -ETIMEDOUT,
					"the server stalled: %s (no data for "
					"%ld s)",
					why, f->timeout_s);
	return media_fetch_fail(f, -EIO, "download failed: %s", why);
}

/* One request after another until a 200 or an error. */
static int media_fetch_get(struct media_fetch_run *x, char *errbuf)
{
	const struct media_curl *cu = x->cu;
	struct media_fetch *f = x->f;
	char next[MEDIA_URL_MAX + 64], e[400];
	const char *url = f->url;

	for (int hop = 0;; hop++) {
		char *loc = NULL;
		long code = 0;
		CURLcode rc;

		errbuf[0] = '\0';
		x->checked = false;
		x->body = false;
		if (cu->easy_setopt(x->curl, CURLOPT_URL, url))
			return media_fetch_fail(f, -EINVAL,
						"libcurl refused the URL");
		rc = cu->easy_perform(x->curl);
		if (f->err)
			return f->err;
		if (rc)
			return media_fetch_error(x, rc, errbuf);
		cu->easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200)
			return 0;
		if (code / 100 != 3 ||
		    cu->easy_getinfo(x->curl, CURLINFO_REDIRECT_URL, &loc) ||
		    !loc)
			return media_fetch_fail(f, -EIO,
						"the server answered HTTP %ld, "
						"not the image",
						code);
		if (hop == MEDIA_FETCH_REDIRECTS)
			return media_fetch_fail(f, -ELOOP,
						"more than %d redirects",
						MEDIA_FETCH_REDIRECTS);
		if (media_url_check(loc, f->allow, next, sizeof(next), e,
				    sizeof(e)))
			return media_fetch_fail(f, -EPERM,
						"redirected to a refused URL: "
						"%s",
						e);
		url = next;
	}
}

static int media_fetch_finish(struct media_fetch_run *x)
{
	struct media_fetch *f = x->f;
	unsigned char sum[32];

	if (mbedtls_sha256_finish_ret(&x->sha, sum))
		return media_fetch_fail(f, -EIO, "SHA-256 failed");
	for (int i = 0; i < 32; i++)
		snprintf(f->hex + 2 * i, 3, "%02x", sum[i]);
	if (f->sha256[0] && strcasecmp(f->sha256, f->hex))
		return media_fetch_fail(f, -EBADMSG,
					"SHA-256 mismatch: the download is %s, "
					"\"sha256\" says %s; nothing was kept",
					f->hex, f->sha256);
	if (fsync(x->fd))
		return media_fetch_fail(f, -errno, "writing %s: %s", f->partial,
					strerror(errno));
	if (renameat(f->dirfd, f->partial, f->dirfd, f->name))
		return media_fetch_fail(f, -errno, "renaming %s to %s: %s",
					f->partial, f->name, strerror(errno));
	/* The rename is durable once the folder is. */
	fsync(f->dirfd);
	return 0;
}

void media_fetch_job(struct media_worker *w, void *arg)
{
	struct media_fetch_run x = {.f = arg, .w = w, .fd = -1};
	struct media_fetch *f = x.f;
	char errbuf[CURL_ERROR_SIZE];
	/* Loaded by the loop before the job was queued. */
	const struct media_curl *cu = media_curl(f->msg, sizeof(f->msg));

	if (!cu) {
		f->err = -ENOSYS;
		return;
	}
	x.cu = cu;

	mbedtls_sha256_init(&x.sha);
	if (mbedtls_sha256_starts_ret(&x.sha, 0)) {
		media_fetch_fail(f, -EIO, "SHA-256 failed");
		goto out;
	}
	x.fd = openat(f->dirfd, f->partial,
		      O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		      0644);
	if (x.fd < 0) {
		media_fetch_fail(f, -errno, "creating %s: %s", f->partial,
				 strerror(errno));
		goto out;
	}
	x.curl = cu->easy_init();
	if (!x.curl) {
		media_fetch_fail(f, -ENOMEM, "libcurl: out of memory");
		goto out;
	}
	errbuf[0] = '\0';
	if (!media_fetch_setup(&x, errbuf) && !media_fetch_get(&x, errbuf))
		media_fetch_finish(&x);
out:
	if (x.curl)
		cu->easy_cleanup(x.curl);
	if (x.fd >= 0)
		close(x.fd);
	if (f->err && x.fd >= 0)
		unlinkat(f->dirfd, f->partial, 0);
	mbedtls_sha256_free(&x.sha);
}
