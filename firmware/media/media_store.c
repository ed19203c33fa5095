#include "firmware/media/media_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool media_store_name_ok(const char *s, size_t len)
{
	return len <= MEDIA_NAME_MAX &&
	       media_name_check(s, len, NULL) == MEDIA_RULE_OK;
}

char *media_store_build(const struct media_saved *s)
{
	size_t cap = 512 + MEDIA_HASH_CACHE * (MEDIA_NAME_MAX + 128);
	char *out = malloc(cap);
	size_t o = 0;

	if (!out)
		return NULL;
	o += (size_t)snprintf(out + o, cap - o,
			      "# zerobmc virtual media: the inserted image "
			      "(put back at start) and known SHA-256 sums.\n"
			      "# Written by the agent; edit only while it is "
			      "stopped.\n"
			      "image=%s\nmode=%s\nreadonly=%d\n",
			      s->image, media_mode_name(s->mode),
			      s->readonly ? 1 : 0);
	for (int i = 0; i < MEDIA_HASH_CACHE; i++) {
		const struct media_hash_entry *h = &s->hashes[i];

		if (!h->name[0] || strlen(h->hex) != 64)
			continue;
		o += (size_t)snprintf(
			out + o, cap - o,
			"sha256=%s %" PRIu64 " %" PRId64 " %ld %s\n", h->hex,
			h->size, h->mtime_s, h->mtime_ns, h->name);
	}
	return out;
}

static bool media_store_hex(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void media_store_hash_line(const char *v, size_t len,
				  struct media_saved *s, int *n)
{
	struct media_hash_entry h = {0};
	char line[MEDIA_NAME_MAX + 160];
	char *p, *end;

	if (*n >= MEDIA_HASH_CACHE || len >= sizeof(line) || len < 66)
		return;
	memcpy(line, v, len);
	line[len] = '\0';
	if (!media_store_hex(line) || line[64] != ' ')
		return;
	memcpy(h.hex, line, 64);
	p = line + 65;
	errno = 0;
	h.size = strtoull(p, &end, 10);
	if (errno || end == p || *end != ' ')
		return;
	p = end + 1;
	h.mtime_s = strtoll(p, &end, 10);
	if (errno || end == p || *end != ' ')
		return;
	p = end + 1;
	h.mtime_ns = strtol(p, &end, 10);
	if (errno || end == p || *end != ' ' || h.mtime_ns < 0 ||
	    h.mtime_ns > 999999999)
		return;
	p = end + 1;
	if (!media_store_name_ok(p, strlen(p)))
		return;
	snprintf(h.name, sizeof(h.name), "%s", p);
	s->hashes[(*n)++] = h;
}

void media_store_parse(const char *text, size_t len, struct media_saved *s)
{
	size_t pos = 0;
	int nh = 0;

	memset(s, 0, sizeof(*s));
	s->readonly = true;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		const char *eq = memchr(line, '=', ll);

		pos += ll + 1;
		if (!eq || line[0] == '#')
			continue;
		const char *v = eq + 1;
		size_t kl = (size_t)(eq - line), vl = ll - kl - 1;

		if (kl == 5 && !memcmp(line, "image", 5)) {
			if (vl == 0 || media_store_name_ok(v, vl)) {
				memcpy(s->image, v, vl);
				s->image[vl] = '\0';
			}
		} else if (kl == 4 && !memcmp(line, "mode", 4)) {
			char mode[16];

			if (vl < sizeof(mode)) {
				memcpy(mode, v, vl);
				mode[vl] = '\0';
				media_mode_parse(mode, &s->mode);
			}
		} else if (kl == 8 && !memcmp(line, "readonly", 8)) {
			s->readonly = !(vl == 1 && v[0] == '0');
		} else if (kl == 6 && !memcmp(line, "sha256", 6)) {
			media_store_hash_line(v, vl, s, &nh);
		}
	}
}

int media_store_read(const char *path, struct media_saved *s)
{
	char *buf = malloc(MEDIA_STORE_MAX + 1);
	size_t got = 0;
	int fd, r = 0;

	memset(s, 0, sizeof(*s));
	s->readonly = true;
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, MEDIA_STORE_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > MEDIA_STORE_MAX) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (!r)
		media_store_parse(buf, got, s);
out:
	free(buf);
	return r;
}
