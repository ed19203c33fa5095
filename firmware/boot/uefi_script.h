/*
 * cmd/uefi's texts: the checks of a user's UEFI shell script, the
 * startup.nsh that runs it with its output on the medium, and the
 * output made fit for a JSON result.
 */
#ifndef ZB_UEFI_SCRIPT_H
#define ZB_UEFI_SCRIPT_H

#include <stddef.h>

#define UEFI_SCRIPT_MAX (16u * 1024)
#define UEFI_LINE_MAX 256
/* startup.nsh waits this long after the marker before it resets: time
 * for the agent to see the marker, read the output and eject. */
#define UEFI_RESET_STALL_US 10000000u

/* 0, or the first problem (line and why) in msg. */
int uefi_script_check(const char *script, char *msg, size_t len);
/*
 * startup.nsh (CRLF lines, malloc'd; NULL: out of memory): find the
 * medium holding \zerobmc\id_name (a name unique to the job), run the
 * script's lines
 * with their output appended as ASCII to zerobmc\out.txt, write
 * zerobmc\done.txt, stall, reset.
 */
char *uefi_startup(const char *id_name, const char *script);
/* ASCII with LF lines; other bytes become '?' (malloc'd). */
char *uefi_output_clean(const char *s, size_t len);

#endif
