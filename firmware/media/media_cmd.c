/* The agent's side of virtual media: building it, and cmd/media. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "firmware/agent/agent.h"
#include "firmware/media/media.h"
#include "firmware/host/timeline.h"

static void media_cmd_changed(void *data)
{
	struct agent *a = data;

	timeline_media_changed(a->timeline);
	agent_state_dirty(a);
}

int media_attach(struct agent *a, const char *lun, char *msg, size_t msglen)
{
	struct media_cfg cfg = {
		.dir = a->cfg->media.dir,
		.lun = lun ? lun : "",
		.state_file = a->cfg->media.state_file,
		.allow_writable = a->cfg->media.allow_writable,
	};
	int r;

	msg[0] = '\0';
	if (a->media)
		return 0;
	r = media_new(a->loop, &cfg, media_cmd_changed, a, &a->media, msg,
		      msglen);
	if (r)
		return r;
	r = state_provider_add(&a->state, "media", media_state_json, a->media);
	if (r) {
		snprintf(msg, msglen, "no room for the media state section");
		return r;
	}
	return media_restore(a->media, msg, msglen);
}

static const char *const media_fields[] = {"image",  "mode",	"readonly",
					   "create", "size_mb", NULL};

static void media_reply(struct agent *a, struct cmd_req *req, const char *name,
			const struct media_done *d)
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
	agent_reply(a, req, RESULT_OK, NULL, x);
}

static void media_cmd_create(struct agent *a, struct cmd_req *req,
			     const char *name)
{
	char err[512];
	long mb = 0;
	int r;

	if (cJSON_GetObjectItemCaseSensitive(req->p.json, "image") ||
	    cJSON_GetObjectItemCaseSensitive(req->p.json, "mode") ||
	    cJSON_GetObjectItemCaseSensitive(req->p.json, "readonly")) {
		agent_reply(a, req, RESULT_ERROR,
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
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	r = media_create(a->media, name, strlen(name), (uint64_t)mb << 20, err,
			 sizeof(err));
	if (r) {
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "created", name);
	cJSON_AddNumberToObject(x, "size", (double)((uint64_t)mb << 20));
	agent_reply(a, req, RESULT_OK, NULL, x);
}

void cmd_media(struct agent *a, struct cmd_req *req)
{
	struct media_insert_req rq = {.mode = -1, .readonly = -1};
	struct media_done done;
	const char *image, *create, *mode;
	enum media_mode mv;
	char err[512];
	bool bad, ro;
	int r;

	if (!a->media) {
		agent_reply(a, req, RESULT_ERROR,
			    "virtual media is not available on this agent",
			    NULL);
		return;
	}
	if (payload_check_fields(&req->p, media_fields, err, sizeof(err))) {
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	create = payload_str(&req->p, "create", false, &bad);
	if (bad) {
		agent_reply(
			a, req, RESULT_ERROR,
			"\"create\" must be a string (the new image's name)",
			NULL);
		return;
	}
	if (create) {
		media_cmd_create(a, req, create);
		return;
	}
	image = payload_str(&req->p, "image", true, &bad);
	if (bad || (req->p.json && !image)) {
		agent_reply(a, req, RESULT_ERROR,
			    "\"image\" (an image name, or \"eject\") or "
			    "\"create\" is required",
			    NULL);
		return;
	}
	if (!image || !image[0] || !strcmp(image, "eject")) {
		r = media_eject(a->media, &done, err, sizeof(err));
		if (r)
			agent_reply(a, req, RESULT_ERROR, err, NULL);
		else
			media_reply(a, req, NULL, &done);
		return;
	}
	mode = payload_str(&req->p, "mode", false, &bad);
	if (bad || (mode && media_mode_parse(mode, &mv))) {
		agent_reply(a, req, RESULT_ERROR,
			    "\"mode\" must be \"cdrom\" or \"disk\"", NULL);
		return;
	}
	if (mode)
		rq.mode = (int)mv;
	r = payload_bool(&req->p, "readonly", &ro);
	if (r == -EINVAL) {
		agent_reply(a, req, RESULT_ERROR,
			    "\"readonly\" must be true or false", NULL);
		return;
	}
	if (!r)
		rq.readonly = ro;
	rq.name = image;
	rq.len = strlen(image);
	r = media_insert(a->media, &rq, &done, err, sizeof(err));
	if (r) {
		agent_reply(a, req, RESULT_ERROR, err, NULL);
		return;
	}
	media_reply(a, req, image, &done);
}
