/*
 * The phase clock of the long boot jobs (cmd/reinstall, cmd/uefi): how
 * long each phase took, and the result fields that report it.
 */
#ifndef ZB_BOOT_PHASES_H
#define ZB_BOOT_PHASES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define BOOT_PHASES_MAX 8

struct boot_phases {
	const char *const *names; /* one per phase, in order */
	int count;
	int cur;
	uint64_t start_ms, since_ms;
	uint64_t took[BOOT_PHASES_MAX];
};

/* Starts the clock in phase 0. count is at most BOOT_PHASES_MAX. */
void boot_phases_start(struct boot_phases *p, const char *const *names,
		       int count);
/* Leaves the current phase (its time is added up) for phase ph. */
void boot_phases_enter(struct boot_phases *p, int ph);
const char *boot_phases_name(const struct boot_phases *p);
/*
 * Closes the current phase and adds to the result x: "phase" (where it
 * stopped, when it failed), "phases" (ms of each phase reached), "boot"
 * (*boot, moved in when not NULL) and "ms" (the whole job).
 */
void boot_phases_report(struct boot_phases *p, bool failed, cJSON **boot,
			cJSON *x);

#endif
