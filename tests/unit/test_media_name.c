/*
 * Image name rules: a table of hostile names, each refused by the rule
 * it breaks; files in a real temporary folder that are not regular files
 * (a symbolic link out of the folder, a FIFO, a directory, a socket, a
 * device node); and through the media module, a stand-in LUN folder that
 * keeps exactly what it had after every refusal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/core/loop.h"
#include "firmware/media/media.h"
#include "firmware/media/media_name.h"
#include "firmware/media/media_store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct name_case {
	const char *what;
	const char *name;
	size_t len; /* 0: strlen(name) */
	enum media_rule rule;
};

static const struct name_case hostile[] = {
	{"parent folder", "../x", 0, MEDIA_RULE_SLASH},
	{"absolute path", "/etc/passwd", 0, MEDIA_RULE_SLASH},
	{"hidden file", ".hidden", 0, MEDIA_RULE_DOT},
	{"sub folder", "a/b", 0, MEDIA_RULE_SLASH},
	{"dot", ".", 0, MEDIA_RULE_DOT},
	{"dot dot", "..", 0, MEDIA_RULE_DOT},
	{"trailing slash", "x.iso/", 0, MEDIA_RULE_SLASH},
	{"empty", "", 0, MEDIA_RULE_EMPTY},
	{"NUL inside", "a\0b.iso", 7, MEDIA_RULE_NUL},
	{"NUL then path", "x.iso\0/../../etc/passwd", 24, MEDIA_RULE_NUL},
	{"newline", "a\nb.iso", 0, MEDIA_RULE_CONTROL},
	{"carriage return", "a.iso\r", 0, MEDIA_RULE_CONTROL},
	{"tab", "a\tb.iso", 0, MEDIA_RULE_CONTROL},
	{"escape sequence", "\x1b[31mred.iso", 0, MEDIA_RULE_CONTROL},
	{"DEL", "a\x7f.iso", 0, MEDIA_RULE_CONTROL},
	{"C1 NEL", "a\xc2\x85.iso", 0, MEDIA_RULE_CONTROL},
	{"C1 CSI",
	 "\xc2\x9b"
	 "31m.iso",
	 0, MEDIA_RULE_CONTROL},
	{"invalid byte", "\xff.iso", 0, MEDIA_RULE_UTF8},
	{"overlong slash",
	 "\xc0\xaf"
	 "etc",
	 0, MEDIA_RULE_UTF8},
	{"surrogate", "\xed\xa0\x80.iso", 0, MEDIA_RULE_UTF8},
	{"cut sequence", "a.iso\xe2\x82", 0, MEDIA_RULE_UTF8},
	{"right-to-left override",
	 "gpj.\xe2\x80\xae"
	 "exe.iso",
	 0, MEDIA_RULE_INVISIBLE},
	{"zero width space", "a\xe2\x80\x8b.iso", 0, MEDIA_RULE_INVISIBLE},
	{"byte order mark",
	 "\xef\xbb\xbf"
	 "a.iso",
	 0, MEDIA_RULE_INVISIBLE},
	{"leading space", " a.iso", 0, MEDIA_RULE_BLANK},
	{"trailing space", "a.iso ", 0, MEDIA_RULE_BLANK},
	{"no-break space", "a.iso\xc2\xa0", 0, MEDIA_RULE_BLANK},
};

static const char *const good[] = {
	"debian-12.iso",
	"d\xc3\xa9"
	"bian.iso", /* débian.iso */
	"\xe6\x97\xa5\xe6\x9c\xac.img",
	"a..b.iso",
	"-rf",
	"with space.img",
	"eject.img",
};

static size_t case_len(const struct name_case *c)
{
	return c->len ? c->len : strlen(c->name);
}

static void test_hostile_names(void **unused)
{
	for (size_t i = 0; i < N(hostile); i++) {
		size_t at = 99;
		enum media_rule r = media_name_check(
			hostile[i].name, case_len(&hostile[i]), &at);

		if (r != hostile[i].rule)
			fail_msg("%s: rule %s, expected %s", hostile[i].what,
				 media_rule_id(r),
				 media_rule_id(hostile[i].rule));
	}
}

static void test_good_names(void **unused)
{
	for (size_t i = 0; i < N(good); i++) {
		enum media_rule r =
			media_name_check(good[i], strlen(good[i]), NULL);

		if (r != MEDIA_RULE_OK)
			fail_msg("%s: refused by %s", good[i],
				 media_rule_id(r));
	}
}

static void test_length_limit(void **unused)
{
	char name[300];

	memset(name, 'a', sizeof(name));
	assert_int_equal(media_name_check(name, 255, NULL), MEDIA_RULE_OK);
	assert_int_equal(media_name_check(name, 256, NULL), MEDIA_RULE_LENGTH);
	assert_int_equal(media_name_check(name, 300, NULL), MEDIA_RULE_LENGTH);
}

static void test_every_rule_has_id_and_text(void **unused)
{
	for (int r = 0; r < MEDIA_RULE_COUNT; r++) {
		assert_true(strlen(media_rule_id((enum media_rule)r)) > 1);
		assert_true(strlen(media_rule_text((enum media_rule)r)) > 10);
		for (int k = 0; k < r; k++)
			assert_string_not_equal(
				media_rule_id((enum media_rule)r),
				media_rule_id((enum media_rule)k));
	}
}

static void test_message_names_rule_and_escapes(void **unused)
{
	char msg[512];

	media_rule_format(MEDIA_RULE_CONTROL, "a\nb\x1b", 4, 1, msg,
			  sizeof(msg));
	assert_non_null(strstr(msg, "rule control"));
	assert_non_null(strstr(msg, "a\\x0ab\\x1b"));
	assert_null(strchr(msg, '\n'));
	assert_null(strchr(msg, '\x1b'));
	media_rule_format(MEDIA_RULE_UTF8, "\xff\xfe", 2, 0, msg, sizeof(msg));
	assert_non_null(strstr(msg, "\\xff\\xfe"));
}

/* ---- a real folder ---- */

struct folder {
	char root[64];
	char images[PATH_MAX];
	char lun[PATH_MAX];
	char outside[PATH_MAX];
	int dirfd;
	bool have_device;
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char p[PATH_MAX * 2];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void sized_file(const char *dir, const char *name, off_t size)
{
	char p[PATH_MAX * 2];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static int folder_setup(void **state)
{
	struct folder *f = calloc(1, sizeof(*f));
	char p[PATH_MAX * 2];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s;

	snprintf(f->root, sizeof(f->root), "/tmp/zb-media-name-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->images, sizeof(f->images), "%s/images", f->root);
	snprintf(f->lun, sizeof(f->lun), "%s/lun", f->root);
	snprintf(f->outside, sizeof(f->outside), "%s/secret.iso", f->root);
	assert_int_equal(mkdir(f->images, 0755), 0);
	assert_int_equal(mkdir(f->lun, 0755), 0);
	sized_file(f->root, "secret.iso", 1 << 20);
	sized_file(f->images, "ok.iso", 1 << 20);
	sized_file(f->images, "ok.img", 1 << 20);
	sized_file(f->images, ".hidden", 1 << 20);
	snprintf(p, sizeof(p), "%s/link.iso", f->images);
	assert_int_equal(symlink(f->outside, p), 0);
	snprintf(p, sizeof(p), "%s/up.iso", f->images);
	assert_int_equal(symlink("../secret.iso", p), 0);
	snprintf(p, sizeof(p), "%s/inside.iso", f->images);
	assert_int_equal(symlink("ok.iso", p), 0);
	snprintf(p, sizeof(p), "%s/fifo.iso", f->images);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/dir.iso", f->images);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.80s/sock.iso", f->images);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	/* A device node needs CAP_MKNOD; the test says when it is skipped. */
	snprintf(p, sizeof(p), "%s/null.iso", f->images);
	f->have_device = mknod(p, S_IFCHR | 0600, makedev(1, 3)) == 0;
	f->dirfd = open(f->images, O_RDONLY | O_DIRECTORY);
	assert_true(f->dirfd >= 0);
	*state = f;
	return 0;
}

static int folder_teardown(void **state)
{
	struct folder *f = *state;
	char cmd[PATH_MAX + 16];

	close(f->dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->root);
	free(f);
	return 0;
}

static const struct {
	const char *name;
	enum media_rule rule;
	int err;
} file_cases[] = {
	{"link.iso", MEDIA_RULE_SYMLINK, -ELOOP},
	{"up.iso", MEDIA_RULE_SYMLINK, -ELOOP},
	{"inside.iso", MEDIA_RULE_SYMLINK, -ELOOP},
	{"fifo.iso", MEDIA_RULE_FIFO, -EINVAL},
	{"dir.iso", MEDIA_RULE_DIRECTORY, -EISDIR},
	{"sock.iso", MEDIA_RULE_SOCKET, -EINVAL},
	{"null.iso", MEDIA_RULE_DEVICE, -ENODEV},
	{"nope.iso", MEDIA_RULE_MISSING, -ENOENT},
	{"../secret.iso", MEDIA_RULE_SLASH, -EINVAL},
	{".hidden", MEDIA_RULE_DOT, -EINVAL},
};

static void test_file_rules(void **state)
{
	struct folder *f = *state;
	struct stat st;
	enum media_rule rule;

	for (size_t i = 0; i < N(file_cases); i++) {
		int r;

		if (file_cases[i].rule == MEDIA_RULE_DEVICE &&
		    !f->have_device) {
			fprintf(stderr, "no CAP_MKNOD: device case skipped\n");
			continue;
		}
		r = media_name_open(f->dirfd, file_cases[i].name,
				    strlen(file_cases[i].name), &st, &rule,
				    NULL);
		if (r != file_cases[i].err || rule != file_cases[i].rule)
			fail_msg("%s: %d rule %s, expected %d rule %s",
				 file_cases[i].name, r, media_rule_id(rule),
				 file_cases[i].err,
				 media_rule_id(file_cases[i].rule));
	}
	assert_int_equal(
		media_name_open(f->dirfd, "ok.iso", 6, &st, &rule, NULL), 0);
	assert_int_equal(rule, MEDIA_RULE_OK);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 1 << 20);
}

static void test_reopen_notices_a_swap(void **state)
{
	struct folder *f = *state;
	char a[PATH_MAX * 2], b[PATH_MAX * 2];
	struct stat st;
	enum media_rule rule;
	int fd;

	sized_file(f->images, "swap.iso", 4096);
	sized_file(f->images, "other.iso", 4096);
	assert_int_equal(
		media_name_open(f->dirfd, "swap.iso", 8, &st, &rule, NULL), 0);
	fd = media_name_reopen(f->dirfd, "swap.iso", &st);
	assert_true(fd >= 0);
	close(fd);
	snprintf(a, sizeof(a), "%s/other.iso", f->images);
	snprintf(b, sizeof(b), "%s/swap.iso", f->images);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(media_name_reopen(f->dirfd, "swap.iso", &st), -ESTALE);
	unlink(b);
	assert_int_equal(symlink("ok.iso", b), 0);
	assert_int_equal(media_name_reopen(f->dirfd, "swap.iso", &st), -ELOOP);
	unlink(b);
}

/* The LUN's files, all of them, as one string. */
static void lun_snapshot(const struct folder *f, char *buf, size_t len)
{
	static const char *const attrs[] = {"file", "ro", "cdrom",
					    "forced_eject"};
	size_t o = 0;

	for (size_t i = 0; i < N(attrs); i++) {
		char v[PATH_MAX * 2];

		read_file(f->lun, attrs[i], v, sizeof(v));
		o += (size_t)snprintf(buf + o, len - o, "%s=[%s] ", attrs[i],
				      v);
	}
}

static void test_lun_untouched_by_refusals(void **state)
{
	struct folder *f = *state;
	struct media_cfg cfg = {.dir = f->images, .lun = f->lun};
	struct loop *l = loop_new();
	struct media *m = NULL;
	char before[PATH_MAX * 8], after[PATH_MAX * 8];
	char err[512], want[64], held[PATH_MAX * 2];
	struct media_done done;

	assert_non_null(l);
	snprintf(held, sizeof(held), "%s/ok.iso\n", f->images);
	write_file(f->lun, "file", held);
	write_file(f->lun, "ro", "1\n");
	write_file(f->lun, "cdrom", "1\n");
	write_file(f->lun, "forced_eject", "");
	assert_int_equal(media_new(l, &cfg, NULL, NULL, &m, err, sizeof(err)),
			 0);
	lun_snapshot(f, before, sizeof(before));
	for (size_t i = 0; i < N(hostile) + N(file_cases); i++) {
		bool is_name = i < N(hostile);
		const char *name = is_name ? hostile[i].name
					   : file_cases[i - N(hostile)].name;
		size_t len = is_name ? case_len(&hostile[i]) : strlen(name);
		enum media_rule rule =
			is_name ? hostile[i].rule
				: file_cases[i - N(hostile)].rule;
		struct media_insert_req rq = {name, len, -1, -1};

		if (rule == MEDIA_RULE_DEVICE && !f->have_device)
			continue;
		err[0] = '\0';
		assert_true(media_insert(m, &rq, &done, err, sizeof(err)) < 0);
		snprintf(want, sizeof(want), "rule %s", media_rule_id(rule));
		if (!strstr(err, want))
			fail_msg("case %zu: \"%s\" does not name %s", i, err,
				 want);
		lun_snapshot(f, after, sizeof(after));
		assert_string_equal(before, after);
	}
	media_free(m);
	loop_free(l);
}

static void test_store_round_trip(void **unused)
{
	struct media_saved s = {0}, back;
	char *text;

	snprintf(s.image, sizeof(s.image),
		 "d\xc3\xa9"
		 "bian 12.iso");
	s.mode = MEDIA_MODE_CDROM;
	s.readonly = true;
	snprintf(s.hashes[0].name, sizeof(s.hashes[0].name), "a=b.img");
	s.hashes[0].size = 5000000000ull;
	s.hashes[0].mtime_s = 1700000000;
	s.hashes[0].mtime_ns = 123456789;
	memset(s.hashes[0].hex, 'a', 64);
	text = media_store_build(&s);
	assert_non_null(text);
	media_store_parse(text, strlen(text), &back);
	free(text);
	assert_string_equal(back.image, s.image);
	assert_int_equal(back.mode, MEDIA_MODE_CDROM);
	assert_true(back.readonly);
	assert_string_equal(back.hashes[0].name, "a=b.img");
	assert_true(back.hashes[0].size == 5000000000ull);
	assert_int_equal(back.hashes[0].mtime_ns, 123456789);
	assert_string_equal(back.hashes[0].hex, s.hashes[0].hex);
}

static void test_store_drops_hostile_names(void **unused)
{
	static const char text[] = "image=../../etc/shadow\n"
				   "mode=disk\n"
				   "readonly=0\n"
				   "sha256=zz 1 2 3 x.iso\n";
	struct media_saved s;

	media_store_parse(text, sizeof(text) - 1, &s);
	assert_string_equal(s.image, "");
	assert_int_equal(s.mode, MEDIA_MODE_DISK);
	assert_false(s.readonly);
	assert_string_equal(s.hashes[0].name, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_good_names),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_every_rule_has_id_and_text),
		cmocka_unit_test(test_message_names_rule_and_escapes),
		cmocka_unit_test_setup_teardown(test_file_rules, folder_setup,
						folder_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_notices_a_swap,
						folder_setup, folder_teardown),
		cmocka_unit_test_setup_teardown(test_lun_untouched_by_refusals,
						folder_setup, folder_teardown),
		cmocka_unit_test(test_store_round_trip),
		cmocka_unit_test(test_store_drops_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
