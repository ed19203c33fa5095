/*
 * The menu positions that media reads proved, kept in a small file
 * beside [media] state_file ("boot.state": lines "boot-menu 2") and
 * reused by the next cmd/boot on this server. A lost or broken file only
 * costs a new calibration, so it is written without fsync.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/boot/boot_priv.h"

void boot_calib_load(struct boot *b)
{
	char line[128], name[64];
	FILE *f;
	int pos;

	for (int s = 0; s < BOOT_STRATEGY_COUNT; s++)
		b->calib[s] = -1;
	if (!b->calib_path[0])
		return;
	f = fopen(b->calib_path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %d", name, &pos) != 2 || pos < 0 ||
		    pos > 31)
			continue;
		for (int s = 0; s < BOOT_STRATEGY_COUNT; s++)
			if (!strcmp(name, boot_strategy_names[s]))
				b->calib[s] = pos;
	}
	fclose(f);
}

int boot_calib_save(const struct boot *b)
{
	char tmp[sizeof(b->calib_path) + 8];
	FILE *f;
	int r = 0;

	if (!b->calib_path[0])
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", b->calib_path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "# zerobmc: the boot menu positions of the USB drive\n");
	for (int s = 0; s < BOOT_STRATEGY_COUNT; s++)
		if (b->calib[s] >= 0)
			fprintf(f, "%s %d\n", boot_strategy_names[s],
				b->calib[s]);
	if (fclose(f))
		r = -errno;
	if (!r && rename(tmp, b->calib_path))
		r = -errno;
	if (r)
		remove(tmp);
	return r;
}
