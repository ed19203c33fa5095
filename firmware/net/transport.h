/*
 * The transport owns the real connection to the broker. Paho connects to
 * a local endpoint on 127.0.0.1 that accepts only the agent's own
 * sockets; the transport then opens the broker connection (plain TCP, or
 * TLS through a stream backend) and relays bytes both ways inside the
 * loop. Owning the socket means owning its options (TCP_NODELAY,
 * keepalive) and its error messages.
 */
#ifndef ZB_TRANSPORT_H
#define ZB_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "firmware/core/config.h"
#include "firmware/core/loop.h"

struct transport;

/*
 * A byte stream over a connected, non-blocking socket: plain TCP or TLS.
 * Every call returns a count, 0 for done (handshake), or a negative
 * errno; -EAGAIN sets *want to POLLIN or POLLOUT. Errors leave a reason
 * in err (e.g. "certificate verify failed: ...").
 */
struct transport_stream_ops {
	const char *name;
	/* create and handshake take long: run them on a thread
	 * (transport_handshake.c), not in the loop. */
	bool off_loop;
	int (*create)(const struct config *c, void **ctx, char *err,
		      size_t errlen);
	int (*handshake)(void *ctx, int fd, short *want, char *err,
			 size_t errlen);
	ssize_t (*recv)(void *ctx, int fd, void *buf, size_t n, short *want,
			char *err, size_t errlen);
	ssize_t (*send)(void *ctx, int fd, const void *buf, size_t n,
			short *want, char *err, size_t errlen);
	/* Bytes already decrypted and waiting inside the backend. */
	size_t (*pending)(void *ctx);
	void (*destroy)(void *ctx);
};

extern const struct transport_stream_ops transport_plain_ops;
/* Provided by transport_tls.c. */
extern const struct transport_stream_ops transport_tls_ops;

enum transport_event {
	TRANSPORT_UP,	  /* broker connected (and TLS handshake done) */
	TRANSPORT_FAILED, /* could not connect; detail says why */
	TRANSPORT_CLOSED, /* an established relay ended; detail says why */
	TRANSPORT_REFUSED_PEER, /* a stranger knocked on the local endpoint */
};

typedef void (*transport_event_cb)(void *data, enum transport_event ev,
				   const char *detail);

int transport_new(struct loop *l, const struct config *c, transport_event_cb cb,
		  void *data, struct transport **out, char *err, size_t errlen);
void transport_free(struct transport *t);
/* The URI Paho connects to: "tcp://127.0.0.1:<port>". */
const char *transport_local_uri(const struct transport *t);
/* The last failure, "" if none: for logs and state. */
const char *transport_last_error(const struct transport *t);
/* The broker (one of [mqtt] uri) of the current or next session. */
void transport_broker(const struct transport *t, const char **host,
		      unsigned int *port);

#endif
