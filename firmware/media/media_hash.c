/* SHA-256 of the inserted image: the cache, the state file, the worker. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware/media/media_priv.h"

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

void media_save(struct media *m)
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

void media_hash_stop(struct media *m)
{
	if (m->hashing)
		media_worker_cancel(m->worker);
	m->hashing = false;
	if (m->progress_timer)
		loop_timer_cancel(m->loop, m->progress_timer);
	m->progress_timer = 0;
}

/* Find or compute the SHA-256 of the current read-only image. */
void media_hash_start(struct media *m)
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

void media_on_worker(void *data, const struct media_worker_result *res)
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
	if (res->size_done)
		media_create_done(m, res->size_err);
	if (res->job_done)
		media_download_done(m, res->job_done);
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

/* A sum computed elsewhere (a download) for the file name is now. */
void media_hash_known(struct media *m, const char *name, const struct stat *st,
		      const char *hex)
{
	media_cache_add(m, name, st, hex);
}
