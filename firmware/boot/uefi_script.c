#include "firmware/boot/uefi_script.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A line of the shell's control flow: redirecting it would break it. */
static bool uefi_control_line(const char *line, size_t len)
{
	static const char *const words[] = {
		"if",	"else",	 "endif", "for",       "endfor", "goto",
		"exit", "shift", "@echo", "echo -off", NULL};

	if (!len || line[0] == '#' || line[0] == ':')
		return true;
	for (const char *const *w = words; *w; w++) {
		size_t n = strlen(*w);

		if (len >= n && !strncasecmp(line, *w, n) &&
		    (len == n || line[n] == ' ' || line[n] == '\t'))
			return true;
	}
	return false;
}

/* Check the script; the first problem goes to msg. */
int uefi_script_check(const char *s, char *msg, size_t len)
{
	size_t n = strlen(s), line = 1, col = 0;

	if (!n) {
		snprintf(msg, len, "\"script\" is empty");
		return -EINVAL;
	}
	if (n > UEFI_SCRIPT_MAX) {
		snprintf(msg, len,
			 "script too long: %zu bytes, the limit is %u", n,
			 UEFI_SCRIPT_MAX);
		return -E2BIG;
	}
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n') {
			line++;
			col = 0;
			continue;
		}
		if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\r')) {
			snprintf(msg, len,
				 "script line %zu: byte 0x%02x: a UEFI shell "
				 "script here is printable ASCII",
				 line, c);
			return -EINVAL;
		}
		if (++col > UEFI_LINE_MAX) {
			snprintf(msg, len,
				 "script line %zu is longer than %d characters",
				 line, UEFI_LINE_MAX);
			return -EINVAL;
		}
	}
	for (const char *p = s; *p;) {
		size_t l = strcspn(p, "\r\n");

		while (l && (*p == ' ' || *p == '\t')) {
			p++;
			l--;
		}
		if (l >= 5 && !strncasecmp(p, "reset", 5) &&
		    (l == 5 || p[5] == ' ' || p[5] == '\t')) {
			snprintf(msg, len,
				 "the script must not reset the server: the "
				 "agent lets it reset once the output is read");
			return -EINVAL;
		}
		if (l >= 3 && !strncasecmp(p, ":zb", 3)) {
			snprintf(msg, len,
				 "labels starting with zb are the "
				 "agent's own");
			return -EINVAL;
		}
		p += l;
		p += strspn(p, "\r\n");
	}
	return 0;
}

/*
 * startup.nsh: find this medium by the job's file, run the script's
 * lines with their output appended (ASCII) to zerobmc\out.txt, write the
 * marker, give the agent time to read and eject, then reset.
 */
char *uefi_startup(const char *id_name, const char *script)
{
	size_t lines = 1, cap, off = 0;
	char *t;

	for (const char *p = script; *p; p++)
		lines += *p == '\n' || *p == '\r';
	/* Each line gains a redirection and a CR; the frame is fixed. */
	cap = strlen(script) + lines * 48 + 1024;
	t = malloc(cap);
	if (!t)
		return NULL;
#define UEFI_ADD(...)                                                          \
	off += (size_t)snprintf(off < cap ? t + off : NULL,                    \
				off < cap ? cap - off : 0, __VA_ARGS__)
	UEFI_ADD("@echo -off\r\n"
		 "# Written by zerobmc for cmd/uefi.\r\n"
		 "set -v zbfs none\r\n"
		 "for %%i in 0 1 2 3 4 5 6 7 8 9 a b c d e f\r\n"
		 "  if exist fs%%i:\\zerobmc\\%s then\r\n"
		 "    set -v zbfs fs%%i:\r\n"
		 "  endif\r\n"
		 "endfor\r\n"
		 "if %%zbfs%% == none then\r\n"
		 "  echo zerobmc: this medium was not found\r\n"
		 "  goto zbend\r\n"
		 "endif\r\n"
		 "%%zbfs%%\r\n"
		 "cd \\zerobmc\r\n",
		 id_name);
	for (const char *p = script; *p;) {
		size_t l = strcspn(p, "\r\n");

		while (l && (*p == ' ' || *p == '\t')) {
			p++;
			l--;
		}
		if (uefi_control_line(p, l) || memchr(p, '>', l))
			UEFI_ADD("%.*s\r\n", (int)l, p);
		else
			UEFI_ADD("%.*s >>a %%zbfs%%\\zerobmc\\out.txt\r\n",
				 (int)l, p);
		p += l;
		p += strspn(p, "\r\n");
	}
	UEFI_ADD("echo done >a %%zbfs%%\\zerobmc\\done.txt\r\n"
		 "stall %u\r\n"
		 "reset\r\n"
		 ":zbend\r\n",
		 UEFI_RESET_STALL_US);
#undef UEFI_ADD
	if (off >= cap) {
		free(t);
		return NULL;
	}
	return t;
}

/* What the shell wrote, as text a JSON consumer takes: ASCII, LF. */
char *uefi_output_clean(const char *s, size_t len)
{
	char *t = malloc(len + 1);
	size_t o = 0;

	if (!t)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r')
			continue;
		t[o++] = (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
				 ? (char)c
				 : '?';
	}
	t[o] = '\0';
	return t;
}
