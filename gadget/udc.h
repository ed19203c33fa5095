/*
 * The USB device controller's view of the host: the UDC "state" file in
 * sysfs (/sys/class/udc/<udc>/state). The kernel calls sysfs_notify() on
 * every change, so the file is watched with poll() for POLLPRI|POLLERR,
 * never polled on a timer. Treat the value as a hint about the host
 * (powered and enumerated, asleep, off), not as a fact.
 */
#ifndef ZB_UDC_H
#define ZB_UDC_H

#include <stddef.h>

/* The kernel's enum usb_device_state, in its order. */
enum udc_state {
	UDC_STATE_NOT_ATTACHED,
	UDC_STATE_ATTACHED,
	UDC_STATE_POWERED,
	UDC_STATE_RECONNECTING,
	UDC_STATE_UNAUTHENTICATED,
	UDC_STATE_DEFAULT,
	UDC_STATE_ADDRESSED,
	UDC_STATE_CONFIGURED,
	UDC_STATE_SUSPENDED,
	UDC_STATE_UNKNOWN,
	UDC_STATE_COUNT
};

#define UDC_CLASS_DIR "/sys/class/udc"

/*
 * The kernel's usb_state_string() text ("not attached", "configured",
 * ...); "unknown" for UDC_STATE_UNKNOWN and out-of-range values.
 */
const char *udc_state_name(enum udc_state st);

/*
 * Parse the state file's text: len bytes of s, trailing white space
 * (the newline) ignored, case-insensitive. Returns 0, or -EINVAL with
 * *st set to UDC_STATE_UNKNOWN.
 */
int udc_state_parse(const char *s, size_t len, enum udc_state *st);

/*
 * Open the state file for poll(): O_RDONLY|O_NONBLOCK|O_CLOEXEC. Read it
 * once with udc_state_read() before the first poll(), which arms the
 * notification. Returns the fd or a negative errno.
 */
int udc_state_open(const char *path);

/*
 * Read the current state from the start of the file (lseek to 0, then
 * read), which also re-arms the POLLPRI notification. Text the parser
 * does not know gives UDC_STATE_UNKNOWN and 0. Returns 0 or -errno.
 */
int udc_state_read(int fd, enum udc_state *st);

/* "/sys/class/udc/<udc>/state" into buf. Returns 0 or -ENAMETOOLONG. */
int udc_state_path(char *buf, size_t len, const char *udc);

/*
 * The first UDC name in class_dir (normally UDC_CLASS_DIR) in sorted
 * order. Returns 0, -ENOENT when the folder is missing or empty, or
 * -ENAMETOOLONG.
 */
int udc_first(const char *class_dir, char *name, size_t len);

#endif
