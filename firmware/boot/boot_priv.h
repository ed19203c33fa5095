/*
 * Inside the boot capability: the job of one cmd/boot and the plan of
 * attempts it works through (boot_once.c), the macro runner's world
 * (boot_env.c) and the remembered menu positions (boot_calib.c).
 */
#ifndef ZB_BOOT_PRIV_H
#define ZB_BOOT_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/agent/cap.h"
#include "firmware/boot/boot.h"
#include "firmware/boot/boot_worker.h"
#include "firmware/boot/boot_profiles.h"
#include "firmware/macro/macro_parse.h"
#include "firmware/macro/macro_run.h"

#define BOOT_ATTEMPTS_MAX 16
#define BOOT_OUTCOME_MAX 240
#define BOOT_IMAGE_MAX 256
#define BOOT_SCRIPT_MAX 1024

enum boot_strategy {
	BOOT_MEDIA_FIRST,
	BOOT_MENU,
	BOOT_SETUP_MANAGER,
	BOOT_SETUP, /* target "setup": into setup, no proof to wait for */
	BOOT_STRATEGY_COUNT
};

enum boot_target {
	BOOT_TARGET_MEDIA,
	BOOT_TARGET_SETUP,
};

enum boot_reboot {
	BOOT_REBOOT_HARD,
	BOOT_REBOOT_SOFT,
	BOOT_REBOOT_SYSRQ,
};

struct boot_attempt {
	enum boot_strategy strategy;
	int position; /* DOWN presses to the USB entry; -1: none */
	enum boot_reboot reboot;
	char outcome[BOOT_OUTCOME_MAX];
	uint64_t ms;
	bool proof;	/* the proof was waited for */
	uint64_t reads; /* media reads seen while waiting */
};

struct boot;

/* The end of a boot job: extra (consumed) is the boot's result fields. */
typedef void (*boot_done_fn)(struct boot *b, struct cmd_req *req,
			     enum result_status st, const char *error,
			     cJSON *extra);

struct boot_job {
	struct cmd_req *req;
	boot_done_fn on_done;
	enum boot_target target;
	char image[BOOT_IMAGE_MAX]; /* inserted by this job; "": none */
	uint32_t timeout_ms;	    /* of each wait of an attempt */
	struct boot_attempt plan[BOOT_ATTEMPTS_MAX];
	size_t n_plan;
	size_t cur; /* the attempt running or next */
	enum boot_reboot reboot;
	struct macro_script s;
	uint32_t wait_usb_line; /* in the attempt's script */
	uint64_t start_ms, attempt_ms;
	bool running; /* the runner runs an attempt */
	bool proving; /* its keys are done: the proof is awaited */
	uint64_t reads_base;
	int proof_timer;
	bool cancelling;
	bool stopping; /* the agent stops */
};

struct boot {
	const struct cap *c;
	struct loop *loop;
	struct keyboard_cap *kb;
	struct hostwatch *host;
	struct media_cap *media;
	struct power_cap *power;
	struct timeline *timeline;
	const struct boot_profile *profile;
	uint32_t key_window_ms, settle_ms;
	unsigned int positions; /* tried by each menu strategy */
	uint64_t proof_reads;	/* media reads that prove a boot */
	char calib_path[CONFIG_PATH_MAX + 16]; /* "": not kept */
	int calib[BOOT_STRATEGY_COUNT];	       /* -1: not calibrated */

	struct macro_env env;
	struct macro_run run;
	int run_timer;
	int next_timer;
	struct boot_job *job;
	struct uefi_job *uefi;		 /* cmd/uefi running (uefi.c) */
	struct reinstall_job *reinstall; /* cmd/reinstall (reinstall.c) */
	struct console *console;
	struct boot_worker *worker;
};

extern const char *const boot_strategy_names[BOOT_STRATEGY_COUNT];

/* boot_env.c: the runner's world, wired to the capabilities. */
void boot_env_init(struct boot *b);
/*
 * Parse text into s and start it on the capability's runner (a reinstall's
 * or a UEFI script's waits and reboots). 0, or msg says why not.
 */
int boot_run_text(struct boot *b, struct macro_script *s, const char *text,
		  char *msg, size_t len);
/* The reboot line for this server: the reset pin when wired. */
const char *boot_reboot_line(const struct boot *b);

/* boot_once.c */
int boot_once_plan(struct boot *b, struct boot_job *job);
void boot_once_start(struct boot *b);
/* The media reads went up: an awaited proof may have come. */
void boot_once_poke(struct boot *b);
/* Cancel the job: it is answered cancelled (with why) soon. */
void boot_once_cancel(struct boot *b, bool stopping);
/* The runner's end of an attempt (env.done). */
void boot_once_done(void *data, enum macro_status st, uint32_t line,
		    const char *msg);
/* boot_cap.c: end and free the job, then tell its on_done. */
void boot_finish(struct boot *b, enum result_status st, const char *error,
		 int strategy_ok);
/* Start job (planned here); the caller has claimed the keyboard. */
void boot_start_job(struct boot *b, struct boot_job *job);
/* Why a boot or a UEFI script cannot start now, or NULL. */
const char *boot_busy(struct boot *b);

/* reinstall.c: cmd/reinstall. */
void reinstall_cmd(void *self, struct cmd_req *req);
void reinstall_cancel(struct boot *b, bool stopping);
cJSON *reinstall_state_json(void *data);
/* The runner's end of one of its waits (env.done while no boot runs). */
void reinstall_run_done(struct boot *b, enum macro_status st, uint32_t line,
			const char *msg);
/* The timeline moved: the installed OS's USB signal may have come. */
void reinstall_on_timeline(struct boot *b);

/* uefi.c: cmd/uefi. */
void uefi_cmd(void *self, struct cmd_req *req);
void uefi_cancel(struct boot *b, bool stopping);
cJSON *uefi_state_json(void *data);
/* The worker's end of a job (boot_worker_cb). */
void uefi_work_done(void *data, struct boot_work *w);
/* The runner's end of the reset wait (env.done). */
void uefi_run_done(struct boot *b, enum macro_status st, const char *msg);

/* boot_calib.c */
void boot_calib_load(struct boot *b);
int boot_calib_save(const struct boot *b);

#endif
