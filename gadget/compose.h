/*
 * The composite USB gadget, built in configfs with libusbgx: a boot
 * keyboard (HID, interface 0 so firmware finds it), mass storage with
 * removable LUNs for boot images, and a CDC-ACM serial port for the
 * server's console. One configuration with remote wakeup.
 *
 * gadget_up() is idempotent: a gadget with the same layout is reused and,
 * if already bound, left bound (restarting the agent must not unplug the
 * keyboard from the server); a different layout is unbound, removed and
 * rebuilt. The UDC is written last, after the caller's before_bind hook.
 *
 * All functions return 0 or a negative errno and, on error, put a message
 * naming the cause (and the fix, where there is one) into err.
 */
#ifndef ZB_COMPOSE_H
#define ZB_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GADGET_LUNS_MAX 8
#define GADGET_PATH_MAX 256
#define GADGET_STR_MAX 126 /* a USB string descriptor's characters */

#define GADGET_DEFAULT_NAME "zerobmc"
#define GADGET_DEFAULT_VID 0x1d6b /* Linux Foundation */
#define GADGET_DEFAULT_PID 0x0104 /* Multifunction Composite Gadget */
#define GADGET_DEFAULT_MANUFACTURER "zerobmc"
#define GADGET_DEFAULT_PRODUCT "zerobmc keyboard, storage and console"
#define GADGET_DEFAULT_SERIAL "zerobmc"
#define GADGET_DEFAULT_CONFIGFS "/sys/kernel/config"

/* What to build. Zero or NULL (or "") fields take the defaults. */
struct gadget_spec {
	const char *name;    /* configfs gadget folder, "zerobmc" */
	const char *udc;     /* "": the first entry of /sys/class/udc */
	uint16_t vendor_id;  /* 0x1d6b */
	uint16_t product_id; /* 0x0104 */
	const char *serial;  /* "": /etc/machine-id's first 16 digits */
	const char *manufacturer;
	const char *product;
	int luns;	      /* 1 .. GADGET_LUNS_MAX, 0: 1 */
	const char *configfs; /* "/sys/kernel/config" */
};

/* Where the gadget's parts are, for the modules that use them. */
struct gadget_info {
	char name[64];
	/* The UDC it is bound to, or (before binding) about to be bound to. */
	char udc[64];
	/*
	 * /dev/hidgN, N from the HID function's dev attribute: the sysfs
	 * device name once bound, the kernel's "hidg<minor>" naming before.
	 */
	char hid_dev[64];
	char acm_tty[64]; /* /dev/ttyGS<port_num> */
	int nluns;
	/* configfs .../functions/mass_storage.media/lun.<i> */
	char lun[GADGET_LUNS_MAX][GADGET_PATH_MAX];
	char udc_state[GADGET_PATH_MAX]; /* /sys/class/udc/<udc>/state */
	bool existed;	    /* the gadget folder was there already */
	bool matches;	    /* its layout is the one the spec asks for */
	char mismatch[128]; /* when !matches: the first difference found */
	bool bound;	    /* bound to a UDC */
	bool was_bound;	    /* gadget_up: already bound, left as it was */
};

/*
 * Build (or reuse) the gadget and bind it. before_bind (may be NULL) runs
 * after composition and before the UDC is written, also when the gadget
 * was already bound (info->was_bound), so the media module can put the
 * image back into the LUN before the host sees the drive; a negative
 * return aborts with that error and leaves the gadget unbound. *out is
 * filled in either way as far as the gadget got.
 */
int gadget_up(const struct gadget_spec *spec,
	      int (*before_bind)(const struct gadget_info *info, void *user),
	      void *user, struct gadget_info *out, char *err, size_t errlen);

/*
 * Unbind and remove the gadget. -ENOENT when it does not exist (a missing
 * configfs or UDC class is -ENODEV, so the two cannot be confused).
 */
int gadget_down(const struct gadget_spec *spec, char *err, size_t errlen);

/*
 * Describe the existing gadget: paths, whether it is bound (and to which
 * UDC), whether its layout matches spec. -ENOENT when it does not exist.
 */
int gadget_status(const struct gadget_spec *spec, struct gadget_info *out,
		  bool *bound, char *err, size_t errlen);

#endif
