/*
 * LD_PRELOAD for the fault tests: a file system without sparse files.
 * There, growing a file with ftruncate writes the zeros, and takes time
 * in proportion. ftruncate sleeps ZB_SLOW_TRUNCATE_MS_PER_MIB for each
 * MiB a file grows whose path holds ZB_SLOW_TRUNCATE_PATH, then does
 * the real call. Never in the daemon.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef int (*slow_truncate_fn)(int fd, off_t len);

static int slow_truncate_matches(int fd)
{
	const char *want = getenv("ZB_SLOW_TRUNCATE_PATH");
	char link[64], path[4096];
	ssize_t n;

	if (!want || !want[0])
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return strstr(path, want) != NULL;
}

static void slow_truncate_wait(int fd, off_t len)
{
	const char *per = getenv("ZB_SLOW_TRUNCATE_MS_PER_MIB");
	struct stat st;
	long long ms;
	struct timespec ts;

	if (!per || fstat(fd, &st) || len <= st.st_size ||
	    !slow_truncate_matches(fd))
		return;
	ms = atoll(per) * (long long)((len - st.st_size) >> 20);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts))
		;
}

/* With 64-bit off_t on a 32-bit system the program calls ftruncate64,
 * and this definition is that symbol too. */
int ftruncate(int fd, off_t len)
{
	static slow_truncate_fn real;

	if (!real)
		real = (slow_truncate_fn)dlsym(RTLD_NEXT,
					       sizeof(off_t) == sizeof(long)
						       ? "ftruncate"
						       : "ftruncate64");
	slow_truncate_wait(fd, len);
	return real(fd, len);
}
