/* `zerobmc gadget up|down|status`. */
#include "firmware/tools/gadget_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gadget/lun.h"
#include "gadget/udc.h"

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

static void print_lun(int i, const char *lun)
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

static void print_info(const struct gadget_info *info)
{
	enum udc_state st = UDC_STATE_UNKNOWN;
	int fd, i;

	printf("  keyboard  %s\n", info->hid_dev[0] ? info->hid_dev : "-");
	printf("  console   %s\n", info->acm_tty[0] ? info->acm_tty : "-");
	for (i = 0; i < info->nluns; i++)
		print_lun(i, info->lun[i]);
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

static int cli_up(const struct gadget_spec *spec)
{
	struct gadget_info info;
	char err[512];
	int ret;

	ret = gadget_up(spec, NULL, NULL, &info, err, sizeof(err));
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
	print_info(&info);
	return 0;
}

static int cli_down(const struct gadget_spec *spec)
{
	char err[512];
	int ret;

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

static int cli_status(const struct gadget_spec *spec)
{
	struct gadget_info info;
	char err[512];
	bool bound;
	int ret;

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
	print_info(&info);
	return bound && info.matches ? 0 : 1;
}

static const struct {
	const char *name;
	int (*fn)(const struct gadget_spec *spec);
} gadget_cli_actions[] = {
	{"up", cli_up},
	{"down", cli_down},
	{"status", cli_status},
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
			return gadget_cli_actions[i].fn(&spec);
	fprintf(stderr,
		"usage: zerobmc [-c FILE] gadget up|down|status\n"
		"  up      build the USB gadget as configured (or reuse "
		"it) and bind it\n"
		"  down    unbind and remove it\n"
		"  status  show it; exit 0 when bound as configured\n");
	return 1;
}
