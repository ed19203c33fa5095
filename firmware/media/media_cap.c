/* The virtual media capability: building it, and cmd/media. */
#include "firmware/media/media_cap.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/listeners.h"
#include "firmware/media/media.h"

#define MEDIA_LISTENERS 4

struct media_cap {
	const struct cap *c;
	struct media *m;
	struct listeners l;
	struct cmd_req *dl_req;	    /* the command of the running download */
	struct cmd_req *create_req; /* the create the worker finishes */
	const char *create_name;    /* in create_req's payload */
	uint64_t create_bytes;
};

static void media_cap_changed(void *data)
{
	struct media_cap *mc = data;

	for (int i = 0; i < mc->l.n; i++)
		((media_changed_fn)mc->l.l[i].fn)(mc->l.l[i].data);
	cap_state_dirty(mc->c);
}

static void media_cap_detach(void *self);

static int media_cap_attach(const struct cap *c, void **self, char *msg,
			    size_t msglen)
{
	struct media_cfg cfg = {
		.dir = c->cfg->media.dir,
		.lun = c->cfg->media.lun,
		.state_file = c->cfg->media.state_file,
		.allow_writable = c->cfg->media.allow_writable,
		.url_allow = c->cfg->media.url_allow,
		.url_timeout_s = c->cfg->media.url_timeout_s,
		.url_ca_file = c->cfg->media.url_ca_file,
	};
	struct media_cap *mc = calloc(1, sizeof(*mc));
	int r;

	if (!mc)
		return -ENOMEM;
	mc->c = c;
	r = media_new(c->loop, &cfg, media_cap_changed, mc, &mc->m, msg,
		      msglen);
	if (r)
		goto fail;
	r = state_provider_add(c->state, "media", media_state_json, mc->m);
	if (r) {
		snprintf(msg, msglen, "no room for the media state section");
		goto fail;
	}
	*self = mc;
	/* A medium that cannot be put back is said, not fatal. */
	return media_restore(mc->m, msg, msglen) ? -EIO : 0;
fail:
	media_cap_detach(mc);
	return r;
}

static void media_cap_detach(void *self)
{
	struct media_cap *mc = self;

	if (!mc)
		return;
	media_free(mc->m);
	if (mc->dl_req)
		cmd_req_free(mc->dl_req);
	if (mc->create_req)
		cmd_req_free(mc->create_req);
	free(mc);
}

int media_listen(struct media_cap *mc, media_changed_fn fn, void *data)
{
	return listeners_add(&mc->l, MEDIA_LISTENERS, (listener_fn)fn, data);
}

struct media *media_cap_media(struct media_cap *mc)
{
	return mc ? mc->m : NULL;
}

static const char *const media_fields[] = {"image",  "mode",	"readonly",
					   "create", "size_mb", "url",
					   "sha256", "cancel",	NULL};

static void media_reply(struct media_cap *mc, struct cmd_req *req,
			const char *name, const struct media_done *d)
{
	cJSON *x = cJSON_CreateObject();

	if (d->present) {
		cJSON_AddStringToObject(x, "image", name);
		cJSON_AddStringToObject(x, "mode", media_mode_name(d->mode));
		cJSON_AddBoolToObject(x, "readonly", d->readonly);
		cJSON_AddNumberToObject(x, "size", (double)d->size);
	} else {
		cJSON_AddNullToObject(x, "image");
	}
	if (d->forced)
		cJSON_AddBoolToObject(x, "forced", true);
	cap_reply(mc->c, req, RESULT_OK, NULL, x);
}

static void media_cmd_created(void *data, int err, const char *msg)
{
	struct media_cap *mc = data;
	struct cmd_req *req = mc->create_req;
	cJSON *x;

	mc->create_req = NULL;
	if (!req)
		return;
	if (err) {
		cap_reply(mc->c, req, RESULT_ERROR, msg, NULL);
		return;
	}
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "created", mc->create_name);
	cJSON_AddNumberToObject(x, "size", (double)mc->create_bytes);
	cap_reply(mc->c, req, RESULT_OK, NULL, x);
}

static void media_cmd_create(struct media_cap *mc, struct cmd_req *req,
			     const char *name)
{
	char err[512];
	long mb = 0;
	int r;

	if (cJSON_GetObjectItemCaseSensitive(req->p.json, "image") ||
	    cJSON_GetObjectItemCaseSensitive(req->p.json, "mode") ||
	    cJSON_GetObjectItemCaseSensitive(req->p.json, "readonly")) {
		cap_reply(mc->c, req, RESULT_ERROR,
			  "\"create\" makes a blank image and inserts "
			  "nothing: give \"image\", \"mode\" and "
			  "\"readonly\" in a second command",
			  NULL);
		return;
	}
	r = payload_int(&req->p, "size_mb", 1, (long)MEDIA_CREATE_MAX_MB, &mb);
	if (r) {
		snprintf(err, sizeof(err),
			 "\"size_mb\" must be a whole number of MiB from 1 to "
			 "%llu",
			 MEDIA_CREATE_MAX_MB);
		cap_reply(mc->c, req, RESULT_ERROR, err, NULL);
		return;
	}
	r = media_create(mc->m, name, strlen(name), (uint64_t)mb << 20,
			 media_cmd_created, mc, err, sizeof(err));
	if (r) {
		cap_reply(mc->c, req, r == -EBUSY ? RESULT_BUSY : RESULT_ERROR,
			  err, NULL);
		return;
	}
	mc->create_req = req; /* answered when the worker grew the file */
	mc->create_name = name;
	mc->create_bytes = (uint64_t)mb << 20;
}

static void media_cmd_downloaded(void *data, int err, const char *msg,
				 const struct media_url_result *res)
{
	struct media_cap *mc = data;
	struct cmd_req *req = mc->dl_req;
	cJSON *x = cJSON_CreateObject();

	mc->dl_req = NULL;
	if (!req) {
		cJSON_Delete(x);
		return;
	}
	cJSON_AddStringToObject(x, "url", res->url);
	cJSON_AddStringToObject(x, "image", res->name);
	cJSON_AddNumberToObject(x, "bytes", (double)res->bytes);
	cJSON_AddNumberToObject(x, "ms", (double)res->ms);
	if (res->sha256[0])
		cJSON_AddStringToObject(x, "sha256", res->sha256);
	if (err == -ECANCELED) {
		cap_reply(mc->c, req, RESULT_CANCELLED, "cancelled", x);
	} else if (err) {
		cap_reply(mc->c, req, RESULT_ERROR, msg, x);
	} else {
		cJSON_AddStringToObject(x, "mode",
					media_mode_name(res->done.mode));
		cJSON_AddBoolToObject(x, "readonly", res->done.readonly);
		cJSON_AddNumberToObject(x, "size", (double)res->done.size);
		if (res->done.forced)
			cJSON_AddBoolToObject(x, "forced", true);
		cap_reply(mc->c, req, RESULT_OK, NULL, x);
	}
}

static void media_cmd_url(struct media_cap *mc, struct cmd_req *req,
			  const char *url, const struct media_insert_req *rq)
{
	struct media_url_req u = {
		.url = url, .mode = rq->mode, .readonly = rq->readonly};
	char err[700];
	bool bad;
	int r;

	u.name = payload_str(&req->p, "image", false, &bad);
	if (bad) {
		cap_reply(mc->c, req, RESULT_ERROR,
			  "\"image\" must be a string (the name to save as)",
			  NULL);
		return;
	}
	u.sha256 = payload_str(&req->p, "sha256", false, &bad);
	if (bad) {
		cap_reply(mc->c, req, RESULT_ERROR,
			  "\"sha256\" must be a string of 64 hex digits", NULL);
		return;
	}
	r = media_download_start(mc->m, &u, media_cmd_downloaded, mc, err,
				 sizeof(err));
	if (r) {
		cap_reply(mc->c, req, r == -EBUSY ? RESULT_BUSY : RESULT_ERROR,
			  err, NULL);
		return;
	}
	mc->dl_req = req; /* answered when inserted, or on error */
}

/* {"cancel": true}: the download's own command answers "cancelled". */
static void media_cmd_cancel(struct media_cap *mc, struct cmd_req *req)
{
	const char *url = media_download_url(mc->m);
	bool cancel = false;
	cJSON *x;

	if (payload_bool(&req->p, "cancel", &cancel) || !cancel) {
		cap_reply(mc->c, req, RESULT_ERROR, "\"cancel\" must be true",
			  NULL);
		return;
	}
	if (!url) {
		cap_reply(mc->c, req, RESULT_ERROR, "no download is running",
			  NULL);
		return;
	}
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "cancelled", url);
	media_download_cancel(mc->m);
	cap_reply(mc->c, req, RESULT_OK, NULL, x);
}

static void media_cap_stop(void *self)
{
	struct media_cap *mc = self;
	struct cmd_req *req = mc->create_req;

	if (req) {
		mc->create_req = NULL;
		media_create_forget(mc->m);
		cap_reply(mc->c, req, RESULT_CANCELLED,
			  "cancelled: the agent stops", NULL);
	}
	req = mc->dl_req;
	if (!req)
		return;
	mc->dl_req = NULL;
	media_download_forget(mc->m);
	media_download_cancel(mc->m);
	cap_reply(mc->c, req, RESULT_CANCELLED, "cancelled: the agent stops",
		  NULL);
}

/* Mode and read-only flag, shared by the insert and the download. */
static int media_cmd_mode(struct media_cap *mc, struct cmd_req *req,
			  struct media_insert_req *rq)
{
	const char *mode;
	enum media_mode mv;
	bool bad, ro;
	int r;

	mode = payload_str(&req->p, "mode", false, &bad);
	if (bad || (mode && media_mode_parse(mode, &mv))) {
		cap_reply(mc->c, req, RESULT_ERROR,
			  "\"mode\" must be \"cdrom\" or \"disk\"", NULL);
		return -EINVAL;
	}
	if (mode)
		rq->mode = (int)mv;
	r = payload_bool(&req->p, "readonly", &ro);
	if (r == -EINVAL) {
		cap_reply(mc->c, req, RESULT_ERROR,
			  "\"readonly\" must be true or false", NULL);
		return -EINVAL;
	}
	if (!r)
		rq->readonly = ro;
	return 0;
}

static void media_cmd(void *self, struct cmd_req *req)
{
	struct media_cap *mc = self;
	struct media_insert_req rq = {.mode = -1, .readonly = -1};
	struct media_done done;
	const char *image, *create, *url;
	char err[512];
	bool bad;
	int r;

	if (payload_check_fields(&req->p, media_fields, err, sizeof(err))) {
		cap_reply(mc->c, req, RESULT_ERROR, err, NULL);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(req->p.json, "cancel")) {
		media_cmd_cancel(mc, req);
		return;
	}
	url = payload_str(&req->p, "url", false, &bad);
	if (bad) {
		cap_reply(mc->c, req, RESULT_ERROR,
			  "\"url\" must be a string (an http or https URL)",
			  NULL);
		return;
	}
	if (url) {
		if (!media_cmd_mode(mc, req, &rq))
			media_cmd_url(mc, req, url, &rq);
		return;
	}
	create = payload_str(&req->p, "create", false, &bad);
	if (bad) {
		cap_reply(mc->c, req, RESULT_ERROR,
			  "\"create\" must be a string (the new image's name)",
			  NULL);
		return;
	}
	if (create) {
		media_cmd_create(mc, req, create);
		return;
	}
	image = payload_str(&req->p, "image", true, &bad);
	if (bad || (req->p.json && !image)) {
		cap_reply(mc->c, req, RESULT_ERROR,
			  "\"image\" (an image name, or \"eject\"), \"url\" "
			  "or \"create\" is required",
			  NULL);
		return;
	}
	if (!image || !image[0] || !strcmp(image, "eject")) {
		/* An eject also stops a download that would insert later. */
		media_download_cancel(mc->m);
		r = media_eject(mc->m, &done, err, sizeof(err));
		if (r)
			cap_reply(mc->c, req, RESULT_ERROR, err, NULL);
		else
			media_reply(mc, req, NULL, &done);
		return;
	}
	if (media_download_url(mc->m)) {
		snprintf(err, sizeof(err),
			 "a download of %.300s runs and inserts its image "
			 "when done: cmd/media {\"cancel\":true} stops it",
			 media_download_url(mc->m));
		cap_reply(mc->c, req, RESULT_BUSY, err, NULL);
		return;
	}
	if (media_cmd_mode(mc, req, &rq))
		return;
	rq.name = image;
	rq.len = strlen(image);
	r = media_insert(mc->m, &rq, &done, err, sizeof(err));
	if (r) {
		cap_reply(mc->c, req, RESULT_ERROR, err, NULL);
		return;
	}
	media_reply(mc, req, image, &done);
}

static const struct cap_command media_cap_commands[] = {
	{"media", media_cmd, "insert or eject virtual media"},
	{NULL, NULL, NULL},
};

const struct cap_def media_cap = {
	.name = "media",
	.attach = media_cap_attach,
	.stop = media_cap_stop,
	.detach = media_cap_detach,
	.commands = media_cap_commands,
	.absent = "virtual media is not available on this agent",
	.handle_offset = offsetof(struct cap_handles, media),
};
