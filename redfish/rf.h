/*
 * zerobmc-redfish: one Redfish service for the whole fleet, in front of
 * the agents' MQTT topics. This header holds what the gateway's files
 * share: the configuration, the fleet, the users and sessions, and the
 * commands in flight.
 */
#ifndef ZB_RF_H
#define ZB_RF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "firmware/core/config.h"
#include "firmware/core/loop.h"

#define RF_PATTERNS_MAX 64
#define RF_SYSTEMS_MAX 4096
#define RF_USERS_MAX 256
#define RF_SESSIONS_MAX 1024
#define RF_STR_MAX 256

struct rf_config {
	char listen[64];
	uint16_t port;
	bool tls;
	char cert_file[CONFIG_PATH_MAX];
	char key_file[CONFIG_PATH_MAX];
	char users_file[CONFIG_PATH_MAX];
	char allow[RF_PATTERNS_MAX][TOPICS_ID_MAX + 1];
	int n_allow; /* 0: every system */
	int timeout_s;
	int long_timeout_s; /* boot, macro, media url */
	int accept_s;	    /* boot and macro: 202 after this */
	int session_timeout_s;
	int retry_after_s;
	char state_dir[CONFIG_PATH_MAX]; /* the IPMI hooks' cache */
	int log_level;
	struct config net; /* [mqtt] and [agent] base_topic */
};

/* rf_config.c */
int rf_config_load(struct rf_config *c, const char *path, char *err,
		   size_t errlen);
bool rf_config_allowed(const struct rf_config *c, const char *id);

/* One managed server, as its agent's retained topics describe it. */
struct rf_system {
	char id[TOPICS_ID_MAX + 1];
	bool online;
	cJSON *state; /* the last state document, or NULL */
	/* Boot override: what Redfish clients PATCHed. */
	char boot_enabled[16]; /* Disabled, Once, Continuous */
	char boot_target[16];
	char boot_mode[16]; /* UEFI, Legacy */
	/* The Image of the last InsertMedia, echoed while that image is in. */
	char media_image[1024];
	char media_name[RF_STR_MAX];
	/* IPMI: one command in flight per system, one more waits. */
	bool ipmi_busy;
	char ipmi_next[32];
};

struct rf_user {
	char name[64];
	char hash[RF_STR_MAX];
	char systems[RF_PATTERNS_MAX][TOPICS_ID_MAX + 1];
	int n_systems; /* "*" is one pattern */
};

struct rf_session {
	char id[33];
	char token[33];
	int user;
	uint64_t last_ms;
};

/* rf_users.c */
int rf_users_load(const char *path, struct rf_user *users, int *n, char *err,
		  size_t errlen);
int rf_users_check(const struct rf_user *users, int n, const char *name,
		   const char *password);
bool rf_user_sees(const struct rf_user *u, const char *id);
int rf_random_hex(char *out, size_t bytes);

struct rf_conn;

/* The answer an HTTP request is waiting for: filled, then sent. */
struct rf_reply {
	unsigned int status;
	cJSON *body; /* NULL: no body */
	char location[RF_STR_MAX];
	char token[33];
	char etag[40];
	int retry_after_s;
};

struct rf_gw;

/* Called when the agent's result comes, or the wait ends without one. */
typedef void (*rf_done_cb)(struct rf_gw *g, struct rf_conn *c,
			   const char *system, const char *arg,
			   const cJSON *result);

struct rf_pending {
	struct rf_pending *next;
	char cid[48];
	char system[TOPICS_ID_MAX + 1];
	struct rf_conn *conn;
	rf_done_cb done;
	int timer, accept_timer;
	int timeout_s;
	struct rf_gw *gw;
	char arg[1024]; /* for done: what the request asked */
};

struct rf_gw {
	struct loop *loop;
	struct rf_config cfg;
	struct transport *transport;
	struct mqtt *mqtt;
	bool mqtt_online;
	char reply_topic[CONFIG_STR_MAX + 64];
	char status_filter[CONFIG_STR_MAX + 16];
	char state_filter[CONFIG_STR_MAX + 16];
	uint64_t seq;
	char boot_nonce[17];
	struct rf_pending *pending;
	struct rf_system *systems;
	int n_systems;
	struct rf_user users[RF_USERS_MAX];
	int n_users;
	struct rf_session sessions[RF_SESSIONS_MAX];
	int n_sessions;
	struct rf_http *http;
	int sig_fd;
	int ipmi_fd;
};

/* rf_fleet.c: the model the retained topics feed. */
struct rf_system *rf_fleet_find(struct rf_gw *g, const char *id);
void rf_fleet_message(struct rf_gw *g, const char *topic, const char *payload,
		      size_t len);
const char *rf_fleet_power(const struct rf_system *s);
void rf_fleet_cache(struct rf_gw *g, const struct rf_system *s);

/* rf_cmd.c: commands to agents, with MQTT 5 request/response. */
int rf_cmd_send(struct rf_gw *g, struct rf_conn *c, const char *system,
		const char *cmd, cJSON *payload, rf_done_cb done,
		const char *arg);
/* The HTTP reply for a command that is still running: 202 Accepted. */
void rf_cmd_accepted(struct rf_reply *r);
void rf_cmd_result(struct rf_gw *g, const void *corr, size_t corr_len,
		   const char *payload);
void rf_cmd_cancel_all(struct rf_gw *g);
/* Maps a result (NULL: timed out) to HTTP: true if it was "ok". */
bool rf_cmd_reply(struct rf_gw *g, struct rf_reply *r, const cJSON *result,
		  const char *system);

/* rf_http.c: libmicrohttpd, driven from the loop. */
int rf_http_start(struct rf_gw *g, char *err, size_t errlen);
void rf_http_stop(struct rf_gw *g);
struct rf_reply *rf_conn_reply(struct rf_conn *c);
void rf_etag_of(const cJSON *doc, char out[40]);
/* The async answer is ready: send it. */
void rf_conn_finish(struct rf_gw *g, struct rf_conn *c);

/* rf_errors.c */
void rf_error(struct rf_reply *r, unsigned int status, const char *msgid,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A parsed request, for the resource handlers. */
struct rf_request {
	const char *method;
	const char *path;
	cJSON *body; /* parsed JSON body, or NULL */
	int user;    /* index into users, -1: anonymous */
	struct rf_conn *conn;
	const char *if_match;
};

/* rf_tree.c: the resources. Returns true if the reply is filled now,
 * false if it comes later (a command in flight). */
bool rf_tree_handle(struct rf_gw *g, struct rf_request *q, struct rf_reply *r);
cJSON *rf_tree_system(struct rf_gw *g, struct rf_system *s);

/* rf_session.c */
bool rf_session_handle(struct rf_gw *g, struct rf_request *q,
		       struct rf_reply *r);
int rf_session_lookup(struct rf_gw *g, const char *token);

/* rf_actions.c */
bool rf_actions_reset(struct rf_gw *g, struct rf_request *q, struct rf_reply *r,
		      struct rf_system *s);
/* The same for a Reset from elsewhere (IPMI: conn is NULL). */
bool rf_actions_reset_type(struct rf_gw *g, struct rf_conn *conn,
			   struct rf_reply *r, struct rf_system *s,
			   const char *type);
bool rf_actions_patch_system(struct rf_gw *g, struct rf_request *q,
			     struct rf_reply *r, struct rf_system *s);
bool rf_actions_insert(struct rf_gw *g, struct rf_request *q,
		       struct rf_reply *r, struct rf_system *s);
bool rf_actions_eject(struct rf_gw *g, struct rf_request *q, struct rf_reply *r,
		      struct rf_system *s);
cJSON *rf_actions_reset_allowed(const struct rf_system *s);

/* rf_ipmi.c: the ipmi_sim chassis_control hook and its socket. */
int rf_ipmi_hook_main(int argc, char **argv, const char *conf_path);
int rf_ipmi_start(struct rf_gw *g, char *err, size_t errlen);
void rf_ipmi_stop(struct rf_gw *g);
/* An IPMI-started command ended; r says how. */
void rf_ipmi_done(struct rf_gw *g, struct rf_system *s,
		  const struct rf_reply *r);

#endif
