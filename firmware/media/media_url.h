/*
 * The rules a download URL must pass before anything is fetched, checked
 * again on every redirect: printable ASCII without spaces, at most
 * MEDIA_URL_MAX bytes, http or https, no user name or password in it, no
 * encoded dot, slash or backslash (a server would decode them into a path
 * outside the allowed prefix), and, once normalised by libcurl's URL
 * parser (scheme and host in lower case, default port dropped, dot
 * segments removed), starting with one of the prefixes of [media]
 * url_allow, normalised the same way. A prefix matches only at a path
 * boundary: "http://h/images" allows "http://h/images/a.iso", never
 * "http://h/images-other/a.iso".
 */
#ifndef ZB_MEDIA_URL_H
#define ZB_MEDIA_URL_H

#include <stddef.h>

#define MEDIA_URL_MAX 2048 /* bytes */

/*
 * Check url against the space-separated prefixes in allow. Returns 0 with
 * the normalised URL in norm (normlen bytes), or -EINVAL (a bad URL),
 * -EPERM (not allowed; allow empty: downloads are off) with err.
 */
int media_url_check(const char *url, const char *allow, char *norm,
		    size_t normlen, char *err, size_t errlen);

/*
 * The last path segment of a normalised URL, percent-decoded, as the
 * image name (not checked here). -EINVAL with err when there is none.
 */
int media_url_name(const char *norm, char *name, size_t namelen, char *err,
		   size_t errlen);

#endif
