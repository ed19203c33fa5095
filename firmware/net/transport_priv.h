/*
 * What the transport's files share: the session's state and the steps
 * that one file starts and another finishes. Only transport*.c include
 * this.
 */
#ifndef ZB_TRANSPORT_PRIV_H
#define ZB_TRANSPORT_PRIV_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/net/transport.h"

#define TRANSPORT_BUF (16 * 1024)

struct transport_buf {
	char data[TRANSPORT_BUF];
	size_t head, len; /* unsent bytes are data[head .. head+len) */
};

enum transport_phase {
	PH_IDLE,
	PH_RESOLVING,
	PH_CONNECTING,
	PH_HANDSHAKE,
	PH_RELAY,
};

struct transport {
	struct loop *loop;
	const struct config *cfg;
	const struct transport_stream_ops *ops;
	transport_event_cb cb;
	void *cb_data;
	int listen_fd;
	char local_uri[64];
	char last_error[256];

	enum transport_phase phase;
	int local_fd; /* Paho's connection, accepted */
	int up_fd;    /* the broker */
	void *stream;
	short up_want; /* what the stream waits for, during handshake */
	struct transport_buf to_broker, to_local;
	uint64_t last_rx_ms; /* when the broker last sent anything */
	int watchdog;	     /* timer: the broker's silence */
	int resolve_pipe[2];
	struct addrinfo *addrs, *next_addr;
	int broker;	    /* index in cfg->mqtt.brokers of this session */
	bool broker_failed; /* so the next session tries the next one */
	/* The handshake thread and its jobs (transport_handshake.c), for
	 * a stream with off_loop. */
	struct transport_hs *hs;
};

/* transport.c: the session's lifetime. */
void transport_set_error(struct transport *t, const char *fmt,
			 const char *detail);
void transport_close_session(struct transport *t);
void transport_fail(struct transport *t, enum transport_event ev);

/* transport_relay.c: bytes both ways once the broker is there. */
void transport_update_events(struct transport *t);
size_t transport_buf_space(struct transport_buf *b, char **where);
void transport_relay_start(struct transport *t);
void transport_relay(struct transport *t);

/* transport_connect.c: resolve, connect, handshake. */
int transport_start_upstream(struct transport *t);
/* The handshake ended (0 or a negative errno, err says why or what was
 * negotiated); t->stream and t->up_fd are the session's again. */
void transport_handshake_done(struct transport *t, int r, const char *err);

/*
 * transport_handshake.c: a stream's create and handshake on a thread of
 * their own, for the streams with ops->off_loop. new starts the thread,
 * start hands t->up_fd to it, cancel abandons the session's job, free
 * joins the thread.
 */
int transport_hs_new(struct transport *t);
int transport_hs_start(struct transport *t);
void transport_hs_cancel(struct transport *t);
void transport_hs_free(struct transport *t);

/* transport_local.c: the endpoint Paho connects to. */
int transport_local_open(struct transport *t, char *err, size_t errlen);
const char *transport_pending_why(const struct transport *t);

#endif
