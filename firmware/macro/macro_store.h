/*
 * Where macros come from: name.txt files in the [macros] folder, and the
 * built-in ones (data in macro_builtin.c). A file overrides a built-in
 * of the same name. Names are [A-Za-z0-9_-]{1,64}, so a name can never
 * leave the folder; files are opened with O_NOFOLLOW and must be regular
 * files of at most MACRO_FILE_MAX bytes.
 */
#ifndef ZB_MACRO_STORE_H
#define ZB_MACRO_STORE_H

#include <stdbool.h>
#include <stddef.h>

#define MACRO_NAME_MAX 64
#define MACRO_LIST_MAX 128 /* names listed in the state */

struct macro_builtin {
	const char *name;
	const char *summary;
	const char *script;
};

bool macro_name_valid(const char *name, size_t len);

/*
 * Read dir/name.txt into a malloc'd buffer (*text, *len; NUL-terminated
 * for convenience). Returns 0, -ENOENT when there is no such file (the
 * caller then looks at the built-ins), or another negative errno with
 * err filled in (symbolic link, not a regular file, too large, ...).
 */
int macro_store_read(const char *dir, const char *name, char **text,
		     size_t *len, char *err, size_t errlen);

/*
 * The names of the folder's macros (valid names, regular files; no
 * symbolic links), sorted, at most max. Returns 0 or a negative errno
 * (the folder cannot be read).
 */
int macro_store_list(const char *dir, char (*names)[MACRO_NAME_MAX + 1],
		     size_t max, size_t *n);

/* The built-in macros, NULL-terminated by name. */
const struct macro_builtin *macro_builtins(void);
const struct macro_builtin *macro_builtin_find(const char *name);
/*
 * The i-th macro as cmd/macro finds them: the folder's files (n of them),
 * then the built-ins no file overrides. NULL past the end.
 */
const char *macro_available_at(const char (*files)[MACRO_NAME_MAX + 1],
			       size_t n, size_t i);

#endif
