/*
 * The composite gadget in configfs, through libusbgx: one operation
 * (the spec with its defaults, the library state) and gadget_up, down
 * and status. The layout checks are compose_check.c, the composition
 * compose_build.c, paths and binding compose_bind.c.
 */
#include "gadget/compose.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gadget/compose_priv.h"
#include "gadget/udc.h"

int compose_fail(struct compose_op *op, int rc, const char *fmt, ...)
{
	va_list ap;

	if (op->err && op->errlen) {
		va_start(ap, fmt);
		vsnprintf(op->err, op->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static const struct {
	int usbg;
	int err;
} usbg_errnos[] = {
	{USBG_ERROR_NO_MEM, ENOMEM},
	{USBG_ERROR_NO_ACCESS, EACCES},
	{USBG_ERROR_INVALID_PARAM, EINVAL},
	{USBG_ERROR_NOT_FOUND, ENOENT},
	{USBG_ERROR_IO, EIO},
	{USBG_ERROR_EXIST, EEXIST},
	{USBG_ERROR_NO_DEV, ENODEV},
	{USBG_ERROR_BUSY, EBUSY},
	{USBG_ERROR_NOT_SUPPORTED, EOPNOTSUPP},
	{USBG_ERROR_PATH_TOO_LONG, ENAMETOOLONG},
	{USBG_ERROR_INVALID_FORMAT, EINVAL},
	{USBG_ERROR_MISSING_TAG, EINVAL},
	{USBG_ERROR_INVALID_TYPE, EINVAL},
	{USBG_ERROR_INVALID_VALUE, EINVAL},
	{USBG_ERROR_NOT_EMPTY, ENOTEMPTY},
};

static int compose_usbg_errno(int ret)
{
	size_t i;

	for (i = 0; i < sizeof(usbg_errnos) / sizeof(usbg_errnos[0]); i++)
		if (usbg_errnos[i].usbg == ret)
			return -usbg_errnos[i].err;
	return -EIO;
}

/* A libusbgx failure while doing what: permission problems get the fix. */
int compose_usbg_fail(struct compose_op *op, int ret, const char *what)
{
	if (ret == USBG_ERROR_NO_ACCESS)
		return compose_fail(op, -EACCES,
				    "%s: permission denied in %s: run as root",
				    what, op->gadgets_dir);
	return compose_fail(op, compose_usbg_errno(ret), "%s: %s", what,
			    usbg_strerror((usbg_error)ret));
}

static const char *compose_or_default(const char *s, const char *def)
{
	return s && *s ? s : def;
}

static bool compose_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= USBG_MAX_NAME_LENGTH || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") == n;
}

static bool compose_string_valid(const char *s)
{
	size_t n = strlen(s);

	if (n > GADGET_STR_MAX)
		return false;
	while (n-- > 0)
		if (iscntrl((unsigned char)s[n]))
			return false;
	return true;
}

static int compose_op_resolve(struct compose_op *op,
			      const struct gadget_spec *spec)
{
	size_t i;

	op->name = compose_or_default(spec->name, GADGET_DEFAULT_NAME);
	op->udc = compose_or_default(spec->udc, "");
	op->manufacturer = compose_or_default(spec->manufacturer,
					      GADGET_DEFAULT_MANUFACTURER);
	op->product = compose_or_default(spec->product, GADGET_DEFAULT_PRODUCT);
	op->serial = compose_or_default(spec->serial, GADGET_DEFAULT_SERIAL);
	op->configfs =
		compose_or_default(spec->configfs, GADGET_DEFAULT_CONFIGFS);
	op->vid = spec->vendor_id ? spec->vendor_id : GADGET_DEFAULT_VID;
	op->pid = spec->product_id ? spec->product_id : GADGET_DEFAULT_PID;
	op->luns = spec->luns ? spec->luns : 1;

	if (!compose_name_valid(op->name))
		return compose_fail(
			op, -EINVAL,
			"gadget name '%s': use 1 to %d letters, digits, "
			"'.', '_' or '-'",
			op->name, USBG_MAX_NAME_LENGTH - 1);
	if (op->luns < 1 || op->luns > GADGET_LUNS_MAX)
		return compose_fail(op, -EINVAL,
				    "gadget luns %d: allowed 1 to %d", op->luns,
				    GADGET_LUNS_MAX);

	const struct {
		const char *what, *s;
	} strs[] = {
		{"serial", op->serial},
		{"manufacturer", op->manufacturer},
		{"product", op->product},
	};

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!compose_string_valid(strs[i].s))
			return compose_fail(op, -EINVAL,
					    "gadget %s string: at most %d "
					    "characters, no control characters",
					    strs[i].what, GADGET_STR_MAX);
	return 0;
}

/* Check the kernel side, then let libusbgx read configfs and the UDCs. */
static int compose_op_open(struct compose_op *op,
			   const struct gadget_spec *spec, char *err,
			   size_t errlen)
{
	struct stat st;
	int n, ret;

	memset(op, 0, sizeof(*op));
	op->err = err;
	op->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	ret = compose_op_resolve(op, spec);
	if (ret < 0)
		return ret;

	n = snprintf(op->gadgets_dir, sizeof(op->gadgets_dir), "%s/usb_gadget",
		     op->configfs);
	/* Room for "/<name>/functions/mass_storage.media/lun.N" below. */
	if (n < 0 ||
	    (size_t)n + USBG_MAX_NAME_LENGTH + 48 > sizeof(op->gadgets_dir))
		return compose_fail(op, -ENAMETOOLONG,
				    "configfs path too long");
	if (stat(op->gadgets_dir, &st) < 0) {
		if (errno == EACCES)
			return compose_fail(
				op, -EACCES,
				"%s: permission denied: run as root",
				op->gadgets_dir);
		return compose_fail(
			op, -ENODEV,
			"%s missing: configfs not mounted or libcomposite "
			"not loaded: modprobe libcomposite",
			op->gadgets_dir);
	}
	/* libusbgx reads the UDC list from here and fails without it. */
	if (stat(UDC_CLASS_DIR, &st) < 0)
		return compose_no_udc(op);
	ret = usbg_init(op->configfs, &op->s);
	if (ret != USBG_SUCCESS) {
		op->s = NULL;
		return compose_usbg_fail(op, ret,
					 "reading the gadgets in configfs");
	}
	return 0;
}

static void compose_op_close(struct compose_op *op)
{
	if (op->s)
		usbg_cleanup(op->s);
	op->s = NULL;
}

int gadget_up(const struct gadget_spec *spec,
	      int (*before_bind)(const struct gadget_info *info, void *user),
	      void *user, struct gadget_info *out, char *err, size_t errlen)
{
	usbg_udc *cur = NULL, *udc = NULL;
	usbg_gadget *g, *other;
	struct compose_op op;
	bool keep;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = compose_op_open(&op, spec, err, errlen);
	if (ret < 0)
		goto out;

	g = usbg_get_gadget(op.s, op.name);
	if (g) {
		out->existed = true;
		out->matches = compose_layout_matches(&op, g, out->mismatch,
						      sizeof(out->mismatch));
		cur = usbg_get_gadget_udc(g);
	}
	/* Left alone: same layout, bound, and to the UDC asked for. */
	keep = g && out->matches && cur &&
	       (!*op.udc || strcmp(op.udc, usbg_get_udc_name(cur)) == 0);
	if (keep) {
		udc = cur;
	} else {
		/* Find the UDC and check it is free before touching anything.
		 */
		ret = compose_find_udc(&op, &udc);
		if (ret < 0)
			goto out;
		other = usbg_get_udc_gadget(udc);
		if (other && other != g) {
			ret = compose_udc_busy(&op, udc);
			goto out;
		}
	}

	if (g && !out->matches) {
		if (cur) {
			ret = compose_unbind(&op, g);
			if (ret < 0)
				goto out;
		}
		ret = usbg_rm_gadget(g, USBG_RM_RECURSE);
		if (ret != USBG_SUCCESS) {
			ret = compose_usbg_fail(
				&op, ret,
				"removing the old gadget to rebuild "
				"it");
			goto out;
		}
		g = NULL;
	} else if (g && cur && !keep) {
		ret = compose_unbind(&op, g);
		if (ret < 0)
			goto out;
	}
	if (!g) {
		ret = compose_create_gadget(&op, &g);
		if (ret < 0)
			goto out;
	}

	out->was_bound = keep;
	out->bound = keep;
	compose_fill_info(&op, g, udc, out);
	if (before_bind) {
		ret = before_bind(out, user);
		if (ret < 0) {
			ret = compose_fail(&op, ret, "before binding: %s",
					   strerror(-ret));
			goto out;
		}
	}
	if (!keep) {
		ret = usbg_enable_gadget(g, udc);
		if (ret == USBG_ERROR_BUSY) {
			ret = compose_udc_busy(&op, udc);
			goto out;
		}
		if (ret != USBG_SUCCESS) {
			char what[96];

			snprintf(what, sizeof(what), "binding to UDC %s",
				 usbg_get_udc_name(udc));
			ret = compose_usbg_fail(&op, ret, what);
			goto out;
		}
		out->bound = true;
		/* The HID device node exists now: take its real name. */
		compose_hid_dev_path(
			usbg_get_function(g, USBG_F_HID, F_HID_INSTANCE),
			out->hid_dev, sizeof(out->hid_dev));
	}
	ret = 0;
out:
	compose_op_close(&op);
	return ret;
}

/* Open the configfs view and find the spec's gadget, which must exist. */
static int compose_existing(struct compose_op *op,
			    const struct gadget_spec *spec, usbg_gadget **g,
			    char *err, size_t errlen)
{
	int ret = compose_op_open(op, spec, err, errlen);

	if (ret < 0)
		return ret;
	*g = usbg_get_gadget(op->s, op->name);
	if (!*g)
		return compose_fail(op, -ENOENT,
				    "gadget '%s' does not exist in %s",
				    op->name, op->gadgets_dir);
	return 0;
}

int gadget_down(const struct gadget_spec *spec, char *err, size_t errlen)
{
	usbg_gadget *g;
	struct compose_op op;
	int ret;

	ret = compose_existing(&op, spec, &g, err, errlen);
	if (ret < 0)
		goto out;
	if (usbg_get_gadget_udc(g)) {
		ret = compose_unbind(&op, g);
		if (ret < 0)
			goto out;
	}
	ret = usbg_rm_gadget(g, USBG_RM_RECURSE);
	if (ret != USBG_SUCCESS)
		ret = compose_usbg_fail(&op, ret, "removing the gadget");
out:
	compose_op_close(&op);
	return ret;
}

int gadget_status(const struct gadget_spec *spec, struct gadget_info *out,
		  bool *bound, char *err, size_t errlen)
{
	usbg_gadget *g;
	usbg_udc *udc;
	struct compose_op op;
	int ret;

	memset(out, 0, sizeof(*out));
	*bound = false;
	ret = compose_existing(&op, spec, &g, err, errlen);
	if (ret < 0)
		goto out;
	udc = usbg_get_gadget_udc(g);
	out->existed = true;
	out->matches = compose_layout_matches(&op, g, out->mismatch,
					      sizeof(out->mismatch));
	out->bound = *bound = udc != NULL;
	out->was_bound = out->bound;
	compose_fill_info(&op, g, udc, out);
out:
	compose_op_close(&op);
	return ret;
}
