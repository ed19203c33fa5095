/*
 * Virtual media: the module's life (new, free), what it finds in the LUN
 * at start (restore) and its state section; the LUN itself is
 * media_lun.c, the hashes media_hash.c, the images folder media_folder.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "firmware/media/media_priv.h"

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

void media_changed(struct media *m)
{
	if (m->changed)
		m->changed(m->data);
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
	if (m->fetch)
		cJSON_AddItemToObject(o, "download", media_download_json(m));
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
	snprintf(m->url_allow, sizeof(m->url_allow), "%s",
		 cfg->url_allow ? cfg->url_allow : "");
	m->url_timeout_s = cfg->url_timeout_s > 0 ? cfg->url_timeout_s : 30;
	snprintf(m->url_ca_file, sizeof(m->url_ca_file), "%s",
		 cfg->url_ca_file ? cfg->url_ca_file : "");
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
	if (m->fetch)
		atomic_store(&m->fetch->cancel, true);
	/* Joins the thread after a pending state write is done. */
	media_worker_free(m->worker);
	/* A create the worker did not finish. */
	if (m->create.busy && m->dirfd >= 0)
		unlinkat(m->dirfd, m->create.name, 0);
	media_download_free(m);
	media_dir_close(m);
	if (m->ino_fd >= 0) {
		loop_fd_del(m->loop, m->ino_fd);
		close(m->ino_fd);
	}
	free(m->images);
	free(m);
}
