/*
 * The LUN: writing its attributes on insert and eject, and the re-check
 * of the inserted inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "firmware/media/media_priv.h"

/* ---- inserting ---- */

/* Has the inserted file gone, or changed? Returns true if state moved. */
bool media_check_current(struct media *m)
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

bool media_is_iso(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && !strcasecmp(name + n - 4, ".iso");
}

/* Would the kernel serve all of this file in this mode? */
int media_check_fit(enum media_mode mode, uint64_t size, const char *name,
		    char *err, size_t errlen)
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
int media_lun_put(struct media *m, const char *name, const struct stat *st,
		  enum media_mode mode, bool ro, bool *forced, char *err,
		  size_t errlen)
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

void media_set_current(struct media *m, const char *name, const struct stat *st,
		       enum media_mode mode)
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
