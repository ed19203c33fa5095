/*
 * One mass-storage LUN through its attribute files: the configfs folder
 * .../functions/mass_storage.<i>/lun.<n> on a Pi, or a plain folder with
 * the same file names in tests. The kernel (f_mass_storage) accepts a new
 * ro or cdrom value only while no file is attached, so a switch is: eject
 * (forced when the host has locked the medium), cdrom, ro, then file.
 *
 * Functions return 0 or a negative errno; where an err buffer is given it
 * names the attribute and the step that failed. Nothing here logs.
 */
#ifndef ZB_LUN_H
#define ZB_LUN_H

#include <stdbool.h>
#include <stddef.h>

#define LUN_FILE_MAX 4096

/* What the LUN holds now, as its attribute files say. */
struct lun_medium {
	char file[LUN_FILE_MAX]; /* "" when no medium is attached */
	bool ro;
	bool cdrom;
	bool removable; /* false when the file is absent (stand-ins) */
	bool nofua;	/* false when the file is absent */
};

/*
 * Read one attribute into buf (NUL-terminated, the trailing newline
 * removed). -ENAMETOOLONG when the path does not fit, -EOVERFLOW when the
 * value does not fit buf.
 */
int lun_attr_read(const char *lun, const char *attr, char *buf, size_t len);
/* Write value followed by a newline, in one write() as sysfs wants. */
int lun_attr_write(const char *lun, const char *attr, const char *value);

/* file, ro and cdrom must exist; removable and nofua may be absent. */
int lun_read(const char *lun, struct lun_medium *m, char *err, size_t errlen);

/*
 * Detach the medium. When the host holds it locked (PREVENT MEDIUM
 * REMOVAL: the write of "file" fails with EBUSY) forced_eject is used and
 * *forced is set. Ejecting an empty LUN succeeds.
 */
int lun_eject(const char *lun, bool *forced, char *err, size_t errlen);

/*
 * Eject, set cdrom and ro (a CD-ROM is always read-only: ro is forced),
 * then attach path. On failure the LUN is left empty.
 */
int lun_insert(const char *lun, const char *path, bool cdrom, bool ro,
	       bool *forced, char *err, size_t errlen);

#endif
