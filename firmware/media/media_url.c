/* Download URLs: their rules, the allow-list and the image name. */
#include "firmware/media/media_url.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "firmware/media/media_curl.h"

/* Encoded forms a server decodes into path separators or dot segments. */
static const char *const media_url_encoded[] = {"%2e", "%2f", "%5c", NULL};

static int media_url_bytes(const char *url, char *err, size_t errlen)
{
	size_t len = strlen(url);

	if (!len) {
		snprintf(err, errlen, "the URL is empty");
		return -EINVAL;
	}
	if (len > MEDIA_URL_MAX) {
		snprintf(err, errlen, "the URL is %zu bytes long, more than %d",
			 len, MEDIA_URL_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c >= 0x7f || c == '\\') {
			snprintf(err, errlen,
				 "the URL has byte 0x%02x at offset %zu: a URL "
				 "is printable ASCII without spaces, control "
				 "characters or backslashes (percent-encode "
				 "the rest)",
				 c, i);
			return -EINVAL;
		}
	}
	for (int i = 0; media_url_encoded[i]; i++)
		if (strcasestr(url, media_url_encoded[i])) {
			snprintf(err, errlen,
				 "the URL holds \"%s\": encoded dots, slashes "
				 "and backslashes are refused, since a server "
				 "decodes them into another path",
				 media_url_encoded[i]);
			return -EINVAL;
		}
	return 0;
}

/* Is the part absent? Anything else than "no such part" counts as present. */
static bool media_url_absent(const struct media_curl *cu, CURLU *u,
			     CURLUPart what)
{
	char *s = NULL;
	CURLUcode rc = cu->url_get(u, what, &s, 0);

	cu->free(s);
	return rc != CURLUE_OK;
}

static int media_url_normalise(const char *url, char *norm, size_t normlen,
			       char *err, size_t errlen)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *out = NULL;
	const struct media_curl *cu;
	CURLUcode rc;
	int r;

	r = media_url_bytes(url, err, errlen);
	if (r)
		return r;
	cu = media_curl(err, errlen);
	if (!cu)
		return -ENOSYS;
	r = -EINVAL;
	u = cu->url();
	if (!u) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	rc = cu->url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (rc) {
		snprintf(err, errlen, "the URL does not parse: %s",
			 cu->url_strerror(rc));
		goto out;
	}
	if (cu->url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		snprintf(err, errlen,
			 "the URL's scheme is %.32s: only http and https "
			 "are fetched",
			 scheme ? scheme : "missing");
		goto out;
	}
	if (!media_url_absent(cu, u, CURLUPART_USER) ||
	    !media_url_absent(cu, u, CURLUPART_PASSWORD) ||
	    !media_url_absent(cu, u, CURLUPART_OPTIONS)) {
		snprintf(err, errlen,
			 "the URL carries a user name or password: "
			 "credentials in URLs are refused");
		goto out;
	}
	if (cu->url_get(u, CURLUPART_HOST, &host, 0) || !host[0]) {
		snprintf(err, errlen, "the URL has no host");
		goto out;
	}
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (cu->url_set(u, CURLUPART_HOST, host, 0) ||
	    cu->url_set(u, CURLUPART_FRAGMENT, NULL, 0) ||
	    cu->url_get(u, CURLUPART_URL, &out, CURLU_NO_DEFAULT_PORT)) {
		snprintf(err, errlen, "the URL cannot be normalised");
		goto out;
	}
	if (strlen(out) >= normlen) {
		snprintf(err, errlen, "the URL is too long once normalised");
		goto out;
	}
	memcpy(norm, out, strlen(out) + 1);
	r = 0;
out:
	cu->free(out);
	cu->free(host);
	cu->free(scheme);
	cu->url_cleanup(u);
	return r;
}

static bool media_url_prefix(const char *norm, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (!pl || strncmp(norm, prefix, pl))
		return false;
	return prefix[pl - 1] == '/' || norm[pl] == '\0' || norm[pl] == '/' ||
	       norm[pl] == '?';
}

static bool media_url_allowed(const char *norm, const char *allow)
{
	char tok[MEDIA_URL_MAX + 1], pn[MEDIA_URL_MAX + 64], e[160];
	const char *p = allow;

	while (*p) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (!n)
			break;
		if (n <= MEDIA_URL_MAX) {
			memcpy(tok, p, n);
			tok[n] = '\0';
			/* An entry that does not parse allows nothing. */
			if (!media_url_normalise(tok, pn, sizeof(pn), e,
						 sizeof(e)) &&
			    media_url_prefix(norm, pn))
				return true;
		}
		p += n;
	}
	return false;
}

int media_url_check(const char *url, const char *allow, char *norm,
		    size_t normlen, char *err, size_t errlen)
{
	int r;

	if (!allow || !allow[strspn(allow, " \t")]) {
		snprintf(err, errlen,
			 "downloads are off: list the allowed URL prefixes in "
			 "[media] url_allow");
		return -EPERM;
	}
	r = media_url_normalise(url, norm, normlen, err, errlen);
	if (r)
		return r;
	if (!media_url_allowed(norm, allow)) {
		snprintf(err, errlen,
			 "%.300s is outside the allowed prefixes ([media] "
			 "url_allow)",
			 norm);
		return -EPERM;
	}
	return 0;
}

int media_url_name(const char *norm, char *name, size_t namelen, char *err,
		   size_t errlen)
{
	const struct media_curl *cu = media_curl(err, errlen);
	CURLU *u;
	char *path = NULL;
	const char *last;
	int r = -EINVAL;

	if (!cu)
		return -ENOSYS;
	u = cu->url();
	if (!u || cu->url_set(u, CURLUPART_URL, norm, 0) ||
	    cu->url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE)) {
		snprintf(err, errlen,
			 "the URL's path does not decode to a file name: give "
			 "\"image\"");
		goto out;
	}
	last = strrchr(path, '/');
	last = last ? last + 1 : path;
	if (!last[0] || strlen(last) >= namelen) {
		snprintf(err, errlen,
			 "the URL's path ends without a usable file name: "
			 "give \"image\"");
		goto out;
	}
	memcpy(name, last, strlen(last) + 1);
	r = 0;
out:
	cu->free(path);
	cu->url_cleanup(u);
	return r;
}
