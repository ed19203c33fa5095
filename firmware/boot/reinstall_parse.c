/* cmd/reinstall's payload, checked: nothing runs before all of it is. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware/boot/reinstall_priv.h"
#include "firmware/keyboard/keyboard_cap.h"
#include "firmware/media/media.h"

static const char *const reinstall_fields[] = {"media",
					       "mode",
					       "done_console",
					       "done_marker",
					       "os_console",
					       "os_usb",
					       "timeout_s",
					       "install_timeout_s",
					       "os_timeout_s",
					       "cancel",
					       NULL};

/* A regex from the payload as a one-line WAIT_CONSOLE, checked by the
 * macro parser (its limits: size, back-references, intervals). */
static int reinstall_wait_line(struct boot *b, const char *field,
			       const char *re, uint32_t ms, char *out,
			       size_t outlen, char *msg, size_t len)
{
	struct macro_script s;
	struct macro_error err;

	if (strpbrk(re, "\r\n") || !re[0]) {
		snprintf(msg, len, "\"%s\": one line of regex, not empty",
			 field);
		return -EINVAL;
	}
	if (!b->console) {
		snprintf(msg, len,
			 "\"%s\" needs the serial console ([console] "
			 "device)",
			 field);
		return -ENOTSUP;
	}
	if ((size_t)snprintf(out, outlen, "WAIT_CONSOLE /%s/ %ums\n", re, ms) >=
	    outlen) {
		snprintf(msg, len, "\"%s\" is too long", field);
		return -E2BIG;
	}
	if (macro_parse(out, strlen(out), keyboard_cap_layout(b->kb), &s,
			&err)) {
		char e[MACRO_ERROR_MAX + 32];

		macro_error_format(&err, e, sizeof(e));
		/* The message of the parser names its line: ours is 1. */
		snprintf(msg, len, "\"%s\": %s", field,
			 strncmp(e, "line 1: ", 8) ? e : e + 8);
		return -EINVAL;
	}
	macro_script_free(&s);
	return 0;
}

/* A marker path: plain folders and names, checked as the medium's FAT
 * would take them, with no way out of it. */
static int reinstall_marker(const char *m, char *out, size_t outlen, char *msg,
			    size_t len)
{
	size_t n = strlen(m);

	while (*m == '/')
		m++, n--;
	if (!n || n > REINSTALL_MARKER_MAX || strstr(m, "..") ||
	    strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-/") != n) {
		snprintf(msg, len,
			 "\"done_marker\": a path on the medium of at most "
			 "%d characters A-Z a-z 0-9 . _ - /, without ..",
			 REINSTALL_MARKER_MAX);
		return -EINVAL;
	}
	snprintf(out, outlen, "::/%s", m);
	return 0;
}

int reinstall_parse(struct boot *b, struct cmd_req *req,
		    struct reinstall_job *j, char *msg, size_t len)
{
	const struct config *cfg = b->c->cfg;
	const char *image, *mode, *done_re, *marker, *os_re;
	bool bad[5], os_usb = false;
	long t_boot = cfg->boot.timeout_s, t_inst = 3600, t_os = 600;
	int r;

	if (payload_check_fields(&req->p, reinstall_fields, msg, len))
		return -EINVAL;
	image = payload_str(&req->p, "media", true, &bad[0]);
	mode = payload_str(&req->p, "mode", false, &bad[1]);
	done_re = payload_str(&req->p, "done_console", false, &bad[2]);
	marker = payload_str(&req->p, "done_marker", false, &bad[3]);
	os_re = payload_str(&req->p, "os_console", false, &bad[4]);
	if (bad[0] || bad[1] || bad[2] || bad[3] || bad[4]) {
		snprintf(msg, len,
			 "\"media\", \"mode\", \"done_console\", "
			 "\"done_marker\" and \"os_console\" must be "
			 "strings");
		return -EINVAL;
	}
	r = payload_bool(&req->p, "os_usb", &os_usb);
	/* Signals the command leaves out come from [reinstall]. */
	if (!done_re && !marker) {
		done_re = cfg->reinstall.done_console[0]
				  ? cfg->reinstall.done_console
				  : NULL;
		marker = cfg->reinstall.done_marker[0]
				 ? cfg->reinstall.done_marker
				 : NULL;
	}
	if (!os_re && r == -ENOENT) {
		os_re = cfg->reinstall.os_console[0] ? cfg->reinstall.os_console
						     : NULL;
		os_usb = cfg->reinstall.os_usb;
	}
	if (r == -EINVAL ||
	    payload_int(&req->p, "timeout_s", 1, 3600, &t_boot) == -EINVAL ||
	    payload_int(&req->p, "install_timeout_s", 1, 3600, &t_inst) ==
		    -EINVAL ||
	    payload_int(&req->p, "os_timeout_s", 1, 3600, &t_os) == -EINVAL) {
		snprintf(msg, len,
			 "\"os_usb\" must be true or false, the "
			 "timeouts whole seconds from 1 to 3600");
		return -EINVAL;
	}
	j->boot_timeout_ms = (uint32_t)t_boot * 1000;
	j->install_timeout_ms = (uint32_t)t_inst * 1000;
	j->os_timeout_ms = (uint32_t)t_os * 1000;
	j->mode = -1;
	if (mode) {
		enum media_mode m;

		if (media_mode_parse(mode, &m)) {
			snprintf(msg, len,
				 "\"mode\" must be \"cdrom\" or \"disk\"");
			return -EINVAL;
		}
		j->mode = (int)m;
	}
	if (image && strlen(image) >= sizeof(j->image)) {
		snprintf(msg, len, "image name too long");
		return -EINVAL;
	}
	snprintf(j->image, sizeof(j->image), "%s", image ? image : "");
	if (!done_re == !marker) {
		snprintf(msg, len,
			 "give the installer's done signal: "
			 "\"done_console\" (a regex) or "
			 "\"done_marker\" (a file it writes on the "
			 "medium)");
		return -EINVAL;
	}
	if (!os_re == !os_usb) {
		snprintf(msg, len,
			 "give the installed OS's signal: "
			 "\"os_console\" (a regex) or \"os_usb\":true "
			 "(its USB driver re-enumerating the gadget)");
		return -EINVAL;
	}
	if (done_re)
		r = reinstall_wait_line(b, "done_console", done_re,
					j->install_timeout_ms, j->done_wait,
					sizeof(j->done_wait), msg, len);
	else
		r = reinstall_marker(marker, j->marker, sizeof(j->marker), msg,
				     len);
	if (r)
		return r;
	if (marker && !cfg->media.allow_writable) {
		snprintf(msg, len,
			 "the installer writes its marker on the "
			 "medium: set [media] allow_writable = true");
		return -EPERM;
	}
	if (os_re)
		return reinstall_wait_line(b, "os_console", os_re,
					   j->os_timeout_ms, j->os_wait,
					   sizeof(j->os_wait), msg, len);
	j->os_usb = true;
	return 0;
}
