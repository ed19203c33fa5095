/* libcurl through dlopen(): see media_curl.h for why. */
#include "firmware/media/media_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const media_curl_libs[] = {"libcurl-gnutls.so.4",
					      "libcurl.so.4", NULL};

static const struct {
	const char *name;
	size_t off;
} media_curl_syms[] = {
#define SYM(f, s)                                                              \
	{                                                                      \
		s, offsetof(struct media_curl, f)                              \
	}
	SYM(global_init, "curl_global_init"),
	SYM(global_cleanup, "curl_global_cleanup"),
	SYM(easy_init, "curl_easy_init"),
	SYM(easy_setopt, "curl_easy_setopt"),
	SYM(easy_perform, "curl_easy_perform"),
	SYM(easy_getinfo, "curl_easy_getinfo"),
	SYM(easy_cleanup, "curl_easy_cleanup"),
	SYM(easy_strerror, "curl_easy_strerror"),
	SYM(url, "curl_url"),
	SYM(url_set, "curl_url_set"),
	SYM(url_get, "curl_url_get"),
	SYM(url_cleanup, "curl_url_cleanup"),
	SYM(url_strerror, "curl_url_strerror"),
	SYM(free, "curl_free"),
#undef SYM
};

static pthread_once_t media_curl_once = PTHREAD_ONCE_INIT;
static struct media_curl media_curl_fns;
static const struct media_curl *media_curl_ok;
static char media_curl_err[256];

static void media_curl_load(void)
{
	void *h = NULL;

	for (int i = 0; !h && media_curl_libs[i]; i++)
		h = dlopen(media_curl_libs[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(media_curl_err, sizeof(media_curl_err),
			 "URL downloads need libcurl (Debian: apt install "
			 "libcurl3-gnutls): %.150s",
			 dlerror());
		return;
	}
	for (size_t i = 0;
	     i < sizeof(media_curl_syms) / sizeof(media_curl_syms[0]); i++) {
		void *f = dlsym(h, media_curl_syms[i].name);

		if (!f) {
			snprintf(media_curl_err, sizeof(media_curl_err),
				 "libcurl lacks %s: too old (7.85 or later "
				 "is needed)",
				 media_curl_syms[i].name);
			dlclose(h);
			return;
		}
		/* POSIX: a data pointer from dlsym() converts to a function. */
		memcpy((char *)&media_curl_fns + media_curl_syms[i].off, &f,
		       sizeof(f));
	}
	media_curl_ok = &media_curl_fns;
}

const struct media_curl *media_curl(char *err, size_t errlen)
{
	pthread_once(&media_curl_once, media_curl_load);
	if (!media_curl_ok)
		snprintf(err, errlen, "%s", media_curl_err);
	return media_curl_ok;
}
