/*
 * What `zerobmc send`, `list` and `watch` share: the options every one
 * takes, a broker session on a loop of its own (the configuration's
 * broker settings, TLS included, or only -b URI), a deadline and the exit
 * statuses scripts rely on.
 */
#ifndef ZB_FLEET_CLIENT_H
#define ZB_FLEET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "firmware/core/config.h"
#include "firmware/core/loop.h"
#include "firmware/net/mqtt.h"
#include "firmware/net/transport.h"

enum fleet_exit {
	FLEET_OK = 0,
	FLEET_ERROR = 1,   /* an error or busy result, or a failure here */
	FLEET_OFFLINE = 2, /* the agent is offline or unknown */
	FLEET_TIMEOUT = 3, /* no answer before the deadline */
	FLEET_USAGE = 64,  /* bad command line (EX_USAGE) */
};

struct fleet_opts {
	const char *config_path;   /* -c: NULL for the default, if present */
	const char *broker;	   /* -b: overrides [mqtt] uri */
	const char *user;	   /* -u: overrides [mqtt] username */
	const char *password_file; /* -P: overrides [mqtt] password_file */
	unsigned int timeout_ms;   /* -t, 0 for none */
	const char *group;	   /* send --group */
	bool json;		   /* --json */
	bool watch;		   /* list --watch */
};

struct fleet;

struct fleet_ops {
	/* Connected and subscribed (again, after a reconnect). */
	void (*online)(struct fleet *f);
	/* A message on a subscribed topic; it stays the caller's. */
	void (*message)(struct fleet *f, const struct mqtt_msg *m);
	/* The deadline passed (-t); fleet_finish() is up to the tool. */
	void (*deadline)(struct fleet *f);
};

struct fleet {
	const char *tool;
	struct config cfg;
	struct fleet_opts opts;
	struct loop *loop;
	struct transport *transport;
	struct mqtt *mqtt;
	const struct fleet_ops *ops;
	void *data;
	/* The tool's own topic: its will, and the probe (fleet_probe()). */
	char probe_topic[TOPICS_MAX + 64];
	int exit_code;
	bool was_online, finishing;
	int deadline_timer, sig_fd;
};

/*
 * The common options (-c, -b, -t, --json, and each tool's own: --group,
 * --watch); returns the index of the first operand, or -FLEET_USAGE after
 * printing why, or -1 for -h (the caller prints its help).
 */
int fleet_parse_opts(const char *tool, int argc, char **argv,
		     struct fleet_opts *o);
/* Configuration, loop, transport and session; err says what failed. */
int fleet_open(struct fleet *f, const char *tool, const struct fleet_opts *o,
	       const struct fleet_ops *ops, void *data, char *err,
	       size_t errlen);
int fleet_subscribe(struct fleet *f, const char *filter);
/*
 * Publish a probe to the tool's own topic. The broker handles a client's
 * packets in order, so when the probe comes back, everything retained on
 * the topics subscribed before it has arrived.
 */
void fleet_probe(struct fleet *f);
bool fleet_is_probe(const struct fleet *f, const struct mqtt_msg *m);
/* Runs until fleet_finish(); returns the exit status. */
int fleet_run(struct fleet *f);
/* Ends the run with this exit status (the first call wins). */
void fleet_finish(struct fleet *f, int code);
void fleet_close(struct fleet *f);
/* The topic of agent id's name ("status", "state", "result", ...). */
void fleet_topic(const struct fleet *f, char *buf, size_t len, const char *id,
		 const char *name);
/* The agent id in <base>/<id>/<name>, or false if the topic is not one. */
bool fleet_topic_id(const struct fleet *f, const char *topic, char *id,
		    size_t idlen, const char **name);
/* One option line for the tools' help texts. */
extern const char fleet_common_help[];

#endif
