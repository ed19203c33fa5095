/* Placeholder until the TLS backend lands: refuses, never falls back. */
#include "firmware/transport.h"

#include <errno.h>
#include <stdio.h>

static int tls_create(const struct config *c, void **ctx, char *err,
		      size_t errlen)
{
	snprintf(err, errlen, "TLS is not built into this agent yet");
	return -ENOTSUP;
}

const struct transport_stream_ops transport_tls_ops = {
	.name = "tls",
	.create = tls_create,
};
