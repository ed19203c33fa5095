/*
 * The host capability: the server's USB state, from the UDC's state file
 * (or a stand-in named by [gadget] udc_state), as state.usb.
 */
#include "firmware/host/host_cap.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "firmware/host/hostwatch.h"

static cJSON *host_state_json(void *data)
{
	struct hostwatch *w = data;
	cJSON *usb = cJSON_CreateObject();
	uint64_t ago = loop_now_ms() - hostwatch_since_ms(w);

	cJSON_AddStringToObject(usb, "state",
				udc_state_name(hostwatch_state(w)));
	cJSON_AddNumberToObject(usb, "since",
				(double)(time(NULL) - (time_t)(ago / 1000)));
	return usb;
}

static void host_on_change(void *data, enum udc_state old, enum udc_state now)
{
	const struct cap *c = data;

	cap_state_dirty(c);
}

static int host_attach(const struct cap *c, void **self, char *msg, size_t len)
{
	char path[CONFIG_PATH_MAX];
	struct hostwatch *w;
	int r;

	if (c->cfg->gadget.udc_state[0])
		snprintf(path, sizeof(path), "%s", c->cfg->gadget.udc_state);
	else if (!c->cfg->gadget.udc[0] ||
		 udc_state_path(path, sizeof(path), c->cfg->gadget.udc))
		return 0; /* nothing to watch: state says unknown */
	r = hostwatch_new(c->loop, path, &w);
	if (r) {
		snprintf(msg, len, "host USB state %s: %s", path, strerror(-r));
		return r;
	}
	r = state_provider_add(c->state, "usb", host_state_json, w);
	if (!r)
		r = hostwatch_listen(w, host_on_change, (void *)c);
	if (r) {
		hostwatch_free(w);
		return r;
	}
	*self = w;
	return 0;
}

static void host_detach(void *self)
{
	hostwatch_free(self);
}

const struct cap_def host_cap = {
	.name = "host",
	.attach = host_attach,
	.detach = host_detach,
	.handle_offset = offsetof(struct cap_handles, host),
};
