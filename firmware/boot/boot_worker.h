/*
 * The boot capability's helper thread: it runs the programs that build
 * and read cmd/uefi's FAT image (mkfs.vfat, mmd, mcopy), which take
 * their time on a Pi's SD card, away from the loop. One job at a time;
 * the end is told through an eventfd in the loop.
 */
#ifndef ZB_BOOT_WORKER_H
#define ZB_BOOT_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/core/loop.h"

#define BOOT_WORK_ARGS 12
#define BOOT_WORK_STEPS 8
/* What a program may print back (mcopy of the script's output). */
#define BOOT_WORK_OUT_MAX (64u * 1024)
/* A program that runs longer is killed. */
#define BOOT_WORK_PROGRAM_MS 60000u

/* A program and its arguments; argv[0] is looked up in the sbin and bin
 * folders, never in $PATH. */
struct boot_work_step {
	const char *argv[BOOT_WORK_ARGS + 1];
};

struct boot_work;

typedef void (*boot_worker_cb)(void *data, struct boot_work *w);

struct boot_work {
	/* In: the end's callback in the loop (NULL: the worker's own). */
	boot_worker_cb done;
	/* In: programs run in order until one fails; a step's strings
	 * belong to the caller and must outlive the job. */
	struct boot_work_step steps[BOOT_WORK_STEPS];
	size_t n_steps;
	uint64_t gen; /* the caller's id of the job */
	/* Out: 0 or the failure (-ENOENT: a program exited non-zero). */
	int err;
	char msg[256];	/* the failing step and what it printed */
	char *out;	/* the last step's output (malloc'd), NUL-terminated */
	size_t out_len; /* without the NUL; at most BOOT_WORK_OUT_MAX */
	int truncated;
	uint64_t ms;
};

struct boot_worker;

int boot_worker_new(struct loop *l, boot_worker_cb cb, void *data,
		    struct boot_worker **out);
/* Waits for a running job (its programs are killed at their deadline). */
void boot_worker_free(struct boot_worker *w);
/* Start w; -EBUSY while a job runs. cb gets w back in the loop. */
int boot_worker_submit(struct boot_worker *w, struct boot_work *work);
int boot_worker_busy(const struct boot_worker *w);

#endif
