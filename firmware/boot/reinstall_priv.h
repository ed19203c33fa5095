/*
 * Inside cmd/reinstall: its job, shared by the state machine
 * (reinstall.c) and the command's checks (reinstall_parse.c).
 */
#ifndef ZB_REINSTALL_PRIV_H
#define ZB_REINSTALL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/boot/boot_priv.h"
#include "firmware/boot/boot_task.h"

#define REINSTALL_MARKER_MAX 128

enum reinstall_phase {
	RI_BOOT,    /* boot once from the installer */
	RI_INSTALL, /* the installer runs: wait for its done signal */
	RI_REBOOT,  /* ejected: reboot into the installed OS */
	RI_OS,	    /* wait for the installed OS's signal */
	RI_PHASES
};

struct reinstall_job {
	struct boot_task t;
	uint64_t deadline_ms;
	uint32_t boot_timeout_ms, install_timeout_ms, os_timeout_ms;
	char image[BOOT_IMAGE_MAX];
	int mode;
	/* The waits, as one-line scripts ("" for the marker's poll). */
	char done_wait[400], os_wait[400];
	char marker[REINSTALL_MARKER_MAX + 4]; /* "::/" + path; "" none */
	char img_path[CONFIG_PATH_MAX + BOOT_IMAGE_MAX];
	char reboot_note[160];
	bool os_usb;  /* the OS's signal is the phase "os" */
	bool left_os; /* the phase left "os" since the reboot */
	int os_timer;
};

/*
 * Fill j from the command: the image, the timeouts, the done and OS
 * signals (from [reinstall] when the command gives none), checked.
 * 0, or an error with msg saying what is wrong.
 */
int reinstall_parse(struct boot *b, struct cmd_req *req,
		    struct reinstall_job *j, char *msg, size_t len);

#endif
