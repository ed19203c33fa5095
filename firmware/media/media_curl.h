/*
 * libcurl, loaded with dlopen() on the first URL command rather than
 * linked: libcurl-gnutls and what it pulls in (GnuTLS, Kerberos, LDAP,
 * ...) would more than double the agent's resident memory at start
 * (measured: 4.6 MiB without, 10 MiB linked), for a feature that is off
 * by default. The headers give the types; the functions come from
 * libcurl-gnutls.so.4 (Debian's libcurl3-gnutls) or libcurl.so.4.
 */
#ifndef ZB_MEDIA_CURL_H
#define ZB_MEDIA_CURL_H

#include <stddef.h>

#include <curl/curl.h>

struct media_curl {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part,
			     unsigned int flags);
	CURLUcode (*url_get)(CURLU *u, CURLUPart what, char **part,
			     unsigned int flags);
	void (*url_cleanup)(CURLU *u);
	const char *(*url_strerror)(CURLUcode rc);
	void (*free)(void *p);
};

/*
 * The functions (loaded once, safe from any thread), or NULL with err
 * saying that libcurl is missing. Never unloaded.
 */
const struct media_curl *media_curl(char *err, size_t errlen);

#endif
