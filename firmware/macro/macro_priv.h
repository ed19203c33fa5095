/* Inside the macro capability: shared by macro.c, macro_env.c and
 * macro_folder.c. */
#ifndef ZB_MACRO_PRIV_H
#define ZB_MACRO_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/macro/macro.h"
#include "firmware/macro/macro_parse.h"
#include "firmware/macro/macro_run.h"
#include "firmware/macro/macro_store.h"

/* What key, type and reboot answer while a macro owns the keyboard. */
#define MACRO_BUSY "a macro is running (cmd/macro cancel stops it)"
/* A queued macro waits behind a key or type job: look again this often. */
#define MACRO_KB_RETRY_MS 100
#define MACRO_DIR_RETRY_MAX_MS 60000
/* The running macro's line and step are republished at most this often. */
#define MACRO_STATE_MS 250

struct macro_job {
	struct cmd_req *req;
	char name[MACRO_NAME_MAX + 1];
	struct macro_script s;
};

struct macros {
	const struct cap *c;
	struct loop *loop;
	/* The capabilities a macro drives (NULL: not there). */
	struct keyboard_cap *kb;
	struct hostwatch *host;
	struct media_cap *media;
	struct power_cap *power;
	struct timeline *timeline;
	bool console;
	const char *dir;
	int ino; /* inotify on the folder; -1 while it is missing */
	int dir_timer;
	uint32_t dir_retry_ms; /* grows while the folder stays away */
	char dir_error[CONFIG_PATH_MAX + 64];
	char names[MACRO_LIST_MAX][MACRO_NAME_MAX + 1];
	size_t n_names;

	struct macro_env env;
	struct macro_run run;
	int run_timer;
	int progress_timer;
	struct macro_job *cur;
	uint64_t cur_start_ms;
	struct macro_job *queue[MACRO_QUEUE_MAX];
	size_t nq;
	int next_timer;

	struct {
		bool set;
		char name[MACRO_NAME_MAX + 1];
		enum macro_status st;
		uint32_t line;
		char msg[MACRO_ERROR_MAX + 64];
	} last;
};

void macros_job_free(struct macro_job *job);
/* Answer a job that never ran and free it. */
void macros_job_refuse(struct macros *m, struct macro_job *job,
		       enum result_status st, uint32_t line, const char *msg);

/* The runner's world (macro_env.c). */
void macros_start(struct macros *m, struct macro_job *job);
/* Start the next queued macro when the keyboard is free. */
void macros_next_cb(void *data);
void macros_on_timeline(void *data);

/* The folder (macro_folder.c): watched with inotify, looked for again
 * while it is missing. */
void macros_watch(struct macros *m);
void macros_unwatch(struct macros *m);

#endif
