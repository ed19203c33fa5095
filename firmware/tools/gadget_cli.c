/* `zerobmc gadget up|down|status`. */
#include "firmware/tools/gadget_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "firmware/core/privdrop.h"
#include "gadget/lun.h"
#include "gadget/udc.h"

/* What the agent writes in each LUN; absent ones (old kernels) are skipped. */
static const char *const gadget_cli_lun_attrs[] = {"file", "ro", "cdrom",
						   "forced_eject"};

void gadget_cli_spec(const struct config *cfg, struct gadget_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->name = cfg->gadget.name;
	spec->udc = cfg->gadget.udc;
	spec->vendor_id = cfg->gadget.vendor_id;
	spec->product_id = cfg->gadget.product_id;
	spec->serial = cfg->gadget.serial;
	spec->manufacturer = cfg->gadget.manufacturer;
	spec->product = cfg->gadget.product;
	spec->luns = cfg->gadget.luns;
}

static void gadget_cli_print_lun(int i, const char *lun)
{
	char file[GADGET_PATH_MAX], ro[8] = "", cdrom[8] = "";

	if (!lun[0])
		return;
	if (lun_attr_read(lun, "file", file, sizeof(file)) < 0) {
		printf("  media     lun.%d %s: unreadable\n", i, lun);
		return;
	}
	lun_attr_read(lun, "ro", ro, sizeof(ro));
	lun_attr_read(lun, "cdrom", cdrom, sizeof(cdrom));
	if (!file[0])
		printf("  media     lun.%d %s: empty\n", i, lun);
	else
		printf("  media     lun.%d %s: %s (%s, %s)\n", i, lun, file,
		       cdrom[0] == '1' ? "cdrom" : "disk",
		       ro[0] == '1' ? "read-only" : "writable");
}

static void gadget_cli_print_info(const struct gadget_info *info)
{
	enum udc_state st = UDC_STATE_UNKNOWN;
	int fd, i;

	printf("  keyboard  %s\n", info->hid_dev[0] ? info->hid_dev : "-");
	printf("  console   %s\n", info->acm_tty[0] ? info->acm_tty : "-");
	for (i = 0; i < info->nluns; i++)
		gadget_cli_print_lun(i, info->lun[i]);
	if (!info->udc[0]) {
		printf("  udc       none\n");
		return;
	}
	fd = udc_state_open(info->udc_state);
	if (fd >= 0) {
		udc_state_read(fd, &st);
		close(fd);
	}
	printf("  udc       %s, host state %s (%s)\n", info->udc,
	       udc_state_name(st), info->udc_state);
}

static int gadget_cli_chown(const char *path, uid_t uid, gid_t gid, char *err,
			    size_t errlen)
{
	if (!chown(path, uid, gid) || errno == ENOENT)
		return 0;
	snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
	return -errno;
}

int gadget_cli_handover(const struct gadget_info *info, const char *user,
			char *err, size_t errlen)
{
	char path[GADGET_PATH_MAX + 32];
	const char *slash;
	uid_t uid;
	gid_t gid;
	int r;

	r = privdrop_lookup(user, &uid, &gid, err, errlen);
	if (!r && info->hid_dev[0])
		r = gadget_cli_chown(info->hid_dev, uid, gid, err, errlen);
	if (!r && info->acm_tty[0])
		r = gadget_cli_chown(info->acm_tty, uid, gid, err, errlen);
	for (int i = 0; !r && i < info->nluns; i++)
		for (size_t k = 0;
		     !r && k < sizeof(gadget_cli_lun_attrs) /
					   sizeof(gadget_cli_lun_attrs[0]);
		     k++) {
			snprintf(path, sizeof(path), "%s/%s", info->lun[i],
				 gadget_cli_lun_attrs[k]);
			r = gadget_cli_chown(path, uid, gid, err, errlen);
		}
	/* USB remote wakeup: the only sysfs file the agent writes. */
	slash = strrchr(info->udc_state, '/');
	if (!r && slash) {
		snprintf(path, sizeof(path), "%.*s/srp",
			 (int)(slash - info->udc_state), info->udc_state);
		r = gadget_cli_chown(path, uid, gid, err, errlen);
	}
	return r;
}

/*
 * Whom `gadget up` as root hands the gadget to: [agent] user, else the
 * package's zerobmc user when it exists, so that a configuration kept
 * from before the agent had its own user still gives zerobmc.service
 * (User=zerobmc) its devices. NULL: nobody.
 */
static const char *gadget_cli_handover_user(const struct config *cfg)
{
	const char *user = cfg->agent.user[0] ? cfg->agent.user : "zerobmc";

	if (geteuid() != 0 || !strcmp(user, "root"))
		return NULL;
	if (!cfg->agent.user[0] && !getpwnam(user))
		return NULL;
	return user;
}

int gadget_cli_before_drop(struct config *cfg, char *err, size_t errlen)
{
	struct gadget_spec spec;
	struct gadget_info info;
	int r;

	if (!cfg->gadget.manage)
		return 0;
	gadget_cli_spec(cfg, &spec);
	r = gadget_up(&spec, NULL, NULL, &info, err, errlen);
	if (!r)
		r = gadget_cli_handover(&info, cfg->agent.user, err, errlen);
	if (r)
		return r;
	/* The agent keeps what is built and never needs configfs again. */
	cfg->gadget.manage = false;
	snprintf(cfg->keyboard.device, sizeof(cfg->keyboard.device), "%s",
		 info.hid_dev);
	snprintf(cfg->console.device, sizeof(cfg->console.device), "%s",
		 info.acm_tty);
	snprintf(cfg->gadget.udc, sizeof(cfg->gadget.udc), "%s", info.udc);
	snprintf(cfg->gadget.udc_state, sizeof(cfg->gadget.udc_state), "%s",
		 info.udc_state);
	if (!cfg->media.lun[0] && info.nluns > 0)
		snprintf(cfg->media.lun, sizeof(cfg->media.lun), "%s",
			 info.lun[0]);
	return 0;
}

static int gadget_cli_up(const struct gadget_spec *spec,
			 const struct config *cfg)
{
	const char *user;
	struct gadget_info info;
	char err[512];
	int ret;

	ret = gadget_up(spec, NULL, NULL, &info, err, sizeof(err));
	user = gadget_cli_handover_user(cfg);
	if (!ret && user) {
		ret = gadget_cli_handover(&info, user, err, sizeof(err));
		if (!ret)
			printf("devices and LUN attributes handed to user "
			       "%s\n",
			       user);
	}
	if (ret < 0) {
		fprintf(stderr, "zerobmc: gadget up: %s\n", err);
		return 1;
	}
	if (!info.existed)
		printf("gadget %s: created, bound to %s\n", info.name,
		       info.udc);
	else if (!info.matches)
		printf("gadget %s: rebuilt (%s), bound to %s\n", info.name,
		       info.mismatch, info.udc);
	else if (info.was_bound)
		printf("gadget %s: already bound to %s with this layout, "
		       "left as it was\n",
		       info.name, info.udc);
	else
		printf("gadget %s: reused, bound to %s\n", info.name, info.udc);
	gadget_cli_print_info(&info);
	return 0;
}

static int gadget_cli_down(const struct gadget_spec *spec,
			   const struct config *cfg)
{
	char err[512];
	int ret;

	(void)cfg;
	ret = gadget_down(spec, err, sizeof(err));
	if (ret == -ENOENT) {
		printf("%s: nothing to remove\n", err);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "zerobmc: gadget down: %s\n", err);
		return 1;
	}
	printf("gadget %s: unbound and removed\n",
	       spec->name && *spec->name ? spec->name : GADGET_DEFAULT_NAME);
	return 0;
}

static int gadget_cli_status(const struct gadget_spec *spec,
			     const struct config *cfg)
{
	struct gadget_info info;
	char err[512];
	bool bound;
	int ret;

	(void)cfg;
	ret = gadget_status(spec, &info, &bound, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "zerobmc: gadget status: %s\n", err);
		return 1;
	}
	if (bound)
		printf("gadget %s: bound to %s\n", info.name, info.udc);
	else
		printf("gadget %s: not bound to a UDC\n", info.name);
	if (info.matches)
		printf("  layout    matches the configuration\n");
	else
		printf("  layout    differs from the configuration (%s): "
		       "`zerobmc gadget up` rebuilds it\n",
		       info.mismatch);
	gadget_cli_print_info(&info);
	return bound && info.matches ? 0 : 1;
}

static const struct {
	const char *name;
	int (*fn)(const struct gadget_spec *spec, const struct config *cfg);
} gadget_cli_actions[] = {
	{"up", gadget_cli_up},
	{"down", gadget_cli_down},
	{"status", gadget_cli_status},
};

int gadget_cli_main(int argc, char **argv, const struct config *cfg)
{
	struct gadget_spec spec;
	size_t i;

	gadget_cli_spec(cfg, &spec);
	for (i = 0; argc == 2 && i < sizeof(gadget_cli_actions) /
						 sizeof(gadget_cli_actions[0]);
	     i++)
		if (strcmp(argv[1], gadget_cli_actions[i].name) == 0)
			return gadget_cli_actions[i].fn(&spec, cfg);
	fprintf(stderr,
		"usage: zerobmc [-c FILE] gadget up|down|status\n"
		"  up      build the USB gadget as configured (or reuse "
		"it), bind it\n"
		"          and, as root, hand its devices to [agent] user\n"
		"  down    unbind and remove it\n"
		"  status  show it; exit 0 when bound as configured\n");
	return 1;
}
