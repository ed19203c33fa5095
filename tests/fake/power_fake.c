/*
 * The fake GPIO backend: no hardware, every request and set recorded
 * with a timestamp, so tests can check press timing and that no line is
 * ever driven active before an action. See power.h for the file form.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/core/inotify_drain.h"
#include "tests/fake/power_fake.h"

struct power_fake {
	struct power_fake_rec recs[POWER_FAKE_RECS];
	size_t n;
	int line[POWER_LINE_COUNT];
	bool val[POWER_LINE_COUNT];
	int fail_next;
	int out_fd; /* the record file, or -1 */
	int ev_fd;  /* eventfd (memory) or inotify (file), or -1 */
	char led_path[PATH_MAX];
};

static const char *const fake_line_names[POWER_LINE_COUNT] = {"power", "reset",
							      "led"};

static void fake_record(struct power_fake *f, enum power_line line, bool active,
			bool request)
{
	struct power_fake_rec *r;
	char buf[96];
	int len;

	if (f->n == POWER_FAKE_RECS)
		return;
	r = &f->recs[f->n++];
	r->t_us = loop_now_us();
	r->line = line;
	r->active = active;
	r->request = request;
	if (f->out_fd < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%llu %s %s %d\n",
		       (unsigned long long)r->t_us, fake_line_names[line],
		       request ? "req" : "set", active ? 1 : 0);
	/* A short write to a regular file only loses a test record. */
	if (write(f->out_fd, buf, (size_t)len) < 0)
		return;
}

static int fake_request(const struct power_gpio_cfg *cfg, void **ctx, char *err,
			size_t errlen)
{
	struct power_fake *f = calloc(1, sizeof(*f));
	struct stat st;
	int r;

	if (!f)
		return -ENOMEM;
	f->out_fd = -1;
	f->ev_fd = -1;
	memcpy(f->line, cfg->line, sizeof(f->line));
	if (cfg->chip && cfg->chip[0] && !stat(cfg->chip, &st) &&
	    S_ISREG(st.st_mode)) {
		f->out_fd = open(cfg->chip, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (f->out_fd < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", cfg->chip,
				 strerror(-r));
			goto fail;
		}
		snprintf(f->led_path, sizeof(f->led_path), "%s.led", cfg->chip);
	}
	for (int i = 0; i < POWER_LINE_LED; i++)
		if (f->line[i] >= 0)
			fake_record(f, (enum power_line)i, false, true);
	if (f->line[POWER_LINE_LED] >= 0) {
		if (f->out_fd >= 0) {
			char dir[PATH_MAX];
			char *slash;

			snprintf(dir, sizeof(dir), "%s", cfg->chip);
			slash = strrchr(dir, '/');
			if (slash)
				*(slash == dir ? slash + 1 : slash) = '\0';
			f->ev_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			if (f->ev_fd >= 0 &&
			    inotify_add_watch(f->ev_fd, dir,
					      IN_CLOSE_WRITE | IN_MODIFY |
						      IN_MOVED_TO | IN_CREATE) <
				    0) {
				close(f->ev_fd);
				f->ev_fd = -1;
			}
		} else {
			f->ev_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		}
		if (f->ev_fd < 0) {
			r = -errno;
			snprintf(err, errlen, "fake LED events: %s",
				 strerror(-r));
			goto fail;
		}
	}
	*ctx = f;
	return 0;
fail:
	if (f->out_fd >= 0)
		close(f->out_fd);
	free(f);
	return r;
}

static int fake_set(void *ctx, enum power_line line, bool active)
{
	struct power_fake *f = ctx;
	int e = f->fail_next;

	if (e) {
		f->fail_next = 0;
		return -e;
	}
	if (line >= POWER_LINE_LED || f->line[line] < 0)
		return -EINVAL;
	f->val[line] = active;
	fake_record(f, line, active, false);
	return 0;
}

static int fake_get(void *ctx, enum power_line line, bool *active)
{
	struct power_fake *f = ctx;

	if ((unsigned)line >= POWER_LINE_COUNT || f->line[line] < 0)
		return -EINVAL;
	if (line == POWER_LINE_LED && f->led_path[0]) {
		char c = 0;
		int fd = open(f->led_path, O_RDONLY | O_CLOEXEC);

		*active = false;
		if (fd < 0)
			return 0;
		if (read(fd, &c, 1) == 1)
			*active = c == '1';
		close(fd);
		return 0;
	}
	*active = f->val[line];
	return 0;
}

static int fake_event_fd(void *ctx)
{
	return ((struct power_fake *)ctx)->ev_fd;
}

static void fake_event_drain(void *ctx)
{
	struct power_fake *f = ctx;
	if (f->ev_fd >= 0)
		inotify_drain(f->ev_fd, NULL, NULL);
}

static void fake_release(void *ctx)
{
	struct power_fake *f = ctx;

	if (f->out_fd >= 0)
		close(f->out_fd);
	if (f->ev_fd >= 0)
		close(f->ev_fd);
	free(f);
}

const struct power_gpio_ops power_fake_ops = {
	.name = "fake",
	.request = fake_request,
	.set = fake_set,
	.get = fake_get,
	.event_fd = fake_event_fd,
	.event_drain = fake_event_drain,
	.release = fake_release,
};

const struct power_fake_rec *power_fake_records(void *ctx, size_t *n)
{
	struct power_fake *f = ctx;

	*n = f->n;
	return f->recs;
}

void power_fake_set_led(void *ctx, bool lit)
{
	struct power_fake *f = ctx;
	uint64_t one = 1;

	f->val[POWER_LINE_LED] = lit;
	if (f->ev_fd >= 0 && !f->led_path[0] &&
	    write(f->ev_fd, &one, sizeof(one)) < 0)
		return;
}

void power_fake_fail_next(void *ctx, int err)
{
	((struct power_fake *)ctx)->fail_next = err;
}
