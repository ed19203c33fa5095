/*
 * libFuzzer target: the configuration loader and its checks, reading
 * the input as a file (through a memfd, as config_load takes a path).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "firmware/core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	struct config_error err;
	char path[64], msg[512];
	int fd = memfd_create("fuzz-config", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_defaults(&c);
	if (config_load(&c, path, &err) == 0)
		config_validate(&c, &err);
	config_error_format(&err, msg, sizeof(msg));
	close(fd);
	return 0;
}
