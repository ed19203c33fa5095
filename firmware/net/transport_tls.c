/*
 * The TLS stream of the transport, with mbedTLS 2.28, over the
 * non-blocking socket the relay owns. Certificates (server verification,
 * optionally a client certificate) or TLS-PSK; TLS 1.2 at least. A
 * failure is an error with a specific message, never a plaintext retry.
 * create and handshake run on a handshake thread (off_loop), recv and
 * send in the loop once the thread handed the stream over.
 */
#include "firmware/net/transport.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "firmware/core/secret.h"
#include "firmware/net/tls_util.h"

#define TLS_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct tls_stream {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca, cert;
	mbedtls_pk_context key;
	int *suites;
	int fd;
	bool psk;
	bool established; /* handshake done: close_notify on destroy */
	/* The name the certificate must carry: a DNS name or an address. */
	char host[CONFIG_STR_MAX];
	unsigned char ip[16];
	size_t ip_len; /* 0: host is a DNS name */
	/* What the broker's certificate says it is for, for messages. */
	char peer_names[160];
	/* A write that wanted the socket must be repeated with this length. */
	size_t write_len;
	/* The chain's top certificate as verified (DER), and whether the
	 * trust store is the remembered anchor alone. */
	unsigned char *top_der;
	size_t top_len;
	int top_depth;
	bool on_anchor;
};

/*
 * The trust store is parsed once: after the first verified handshake
 * only the certificate that anchored the broker's chain is kept (DER),
 * and later handshakes trust it alone, parsed in microseconds instead
 * of the system bundle's tens of milliseconds (seconds on an ARM1176),
 * and without holding the whole bundle. If the broker's chain changes
 * and the anchor fails, it is forgotten and the next attempt reads the
 * store again. One per process, as the agent has one broker link.
 * Handshakes run on their own threads (transport_handshake.c), an
 * abandoned one perhaps beside the next: the anchor has a lock.
 */
static struct {
	pthread_mutex_t lock;
	unsigned char *der;
	size_t len;
} tls_anchor = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Trust the anchor alone, if there is one. */
static int tls_anchor_load(struct tls_stream *s)
{
	int r = -ENOENT;

	pthread_mutex_lock(&tls_anchor.lock);
	if (tls_anchor.der)
		r = mbedtls_x509_crt_parse_der(&s->ca, tls_anchor.der,
					       tls_anchor.len);
	pthread_mutex_unlock(&tls_anchor.lock);
	s->on_anchor = r == 0;
	if (r)
		mbedtls_x509_crt_free(&s->ca);
	return r;
}

/* Keep der (NULL: forget the anchor). */
static void tls_anchor_set(unsigned char *der, size_t len)
{
	pthread_mutex_lock(&tls_anchor.lock);
	free(tls_anchor.der);
	tls_anchor.der = der;
	tls_anchor.len = len;
	pthread_mutex_unlock(&tls_anchor.lock);
}

/* ---- the socket under mbedTLS ---- */

static int tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_stream *s = ctx;
	ssize_t r = send(s->fd, buf, len, MSG_NOSIGNAL);

	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	if (errno == EPIPE || errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_stream *s = ctx;
	ssize_t r = recv(s->fd, buf, len, 0);

	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (errno == ECONNRESET)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- messages ---- */

static void tls_strerror(int ret, char *buf, size_t len)
{
	mbedtls_strerror(ret, buf, len);
}

/*
 * mbedTLS 2.28 has no getter for a received alert; the record it
 * returned MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE for is still in in_msg.
 */
static int tls_last_alert(const struct tls_stream *s)
{
	return s->ssl.in_msg ? s->ssl.in_msg[1] : -1;
}

static void tls_verify_message(struct tls_stream *s, char *err, size_t errlen)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);
	char info[512];
	size_t n;

	if (flags == MBEDTLS_X509_BADCERT_CN_MISMATCH) {
		snprintf(err, errlen,
			 "hostname mismatch: certificate is for %s, not %s",
			 s->peer_names[0] ? s->peer_names : "unknown names",
			 s->host);
		return;
	}
	info[0] = '\0';
	mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
	/* One line per flag: join them into one message. */
	n = strlen(info);
	while (n && info[n - 1] == '\n')
		info[--n] = '\0';
	for (char *p = info; (p = strchr(p, '\n'));)
		*p = ';';
	snprintf(err, errlen, "certificate verify failed: %s",
		 info[0] ? info : "unknown reason");
}

/*
 * How far the handshake got tells a rejected PSK or a missing client
 * certificate from a broker that just hung up: mbedTLS 2.28 keeps its
 * state and whether a certificate was requested in public fields.
 */
static bool tls_psk_was_sent(const struct tls_stream *s)
{
	return s->psk && s->ssl.state > MBEDTLS_SSL_CLIENT_KEY_EXCHANGE;
}

static bool tls_cert_was_missing(const struct tls_stream *s)
{
	return !s->psk && s->ssl.client_auth && !s->cert.raw.p;
}

static void tls_handshake_message(struct tls_stream *s, int ret, char *err,
				  size_t errlen)
{
	char why[160], abuf[16];
	const char *alert = NULL;

	switch (ret) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		tls_verify_message(s, err, errlen);
		return;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		alert = tls_alert_name(tls_last_alert(s), abuf, sizeof(abuf));
		snprintf(why, sizeof(why), "TLS alert %s", alert);
		break;
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
	case MBEDTLS_ERR_NET_CONN_RESET:
		snprintf(why, sizeof(why), "it closed the connection");
		break;
	default:
		tls_strerror(ret, why, sizeof(why));
		snprintf(err, errlen, "TLS handshake failed: %s", why);
		return;
	}
	if (s->psk && (alert || tls_psk_was_sent(s)))
		snprintf(err, errlen,
			 "PSK rejected by the broker (%s): check psk_identity "
			 "and the key",
			 why);
	else if (tls_cert_was_missing(s))
		snprintf(err, errlen,
			 "the broker requires a client certificate (%s): set "
			 "cert_file and key_file",
			 why);
	else if (alert)
		snprintf(err, errlen,
			 "the broker refused the TLS handshake (%s)", why);
	else
		snprintf(err, errlen,
			 "the broker closed the connection during the TLS "
			 "handshake");
}

/* ---- verification ---- */

/*
 * Called for every certificate of the chain after mbedTLS checked it.
 * The leaf's names are kept for messages; an address host is matched
 * against the IP SANs here, since mbedTLS 2.28 only matches DNS names.
 */
static int tls_verify_cb(void *data, mbedtls_x509_crt *crt, int depth,
			 uint32_t *flags)
{
	struct tls_stream *s = data;

	/* The top of the verified chain is the anchor that trusted it. */
	if (depth >= s->top_depth && crt->raw.len) {
		unsigned char *der = malloc(crt->raw.len);

		if (der) {
			memcpy(der, crt->raw.p, crt->raw.len);
			free(s->top_der);
			s->top_der = der;
			s->top_len = crt->raw.len;
			s->top_depth = depth;
		}
	}
	if (depth != 0)
		return 0;
	tls_cert_names(crt, s->peer_names, sizeof(s->peer_names));
	if (s->ip_len && !tls_cert_has_ip(crt, s->ip, s->ip_len))
		*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	return 0;
}

/* ---- setup ---- */

static int tls_load_certs(struct tls_stream *s, const struct config *c,
			  char *err, size_t errlen)
{
	const char *ca = c->mqtt.ca_file[0] ? c->mqtt.ca_file : TLS_SYSTEM_CA;
	char why[160];
	int r = tls_anchor_load(s);

	if (r)
		r = mbedtls_x509_crt_parse_file(&s->ca, ca);
	/* A bundle may hold certificates mbedTLS cannot read: skip them. */
	if (r < 0 || !s->ca.raw.p) {
		tls_strerror(r, why, sizeof(why));
		snprintf(err, errlen, "%s %s: %s",
			 c->mqtt.ca_file[0] ? "ca_file" : "system CA store", ca,
			 r < 0 ? why : "no certificate in it");
		return -EINVAL;
	}
	mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
	mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_verify(&s->conf, tls_verify_cb, s);
	if (!c->mqtt.cert_file[0])
		return 0;
	r = mbedtls_x509_crt_parse_file(&s->cert, c->mqtt.cert_file);
	if (r) {
		tls_strerror(r, why, sizeof(why));
		snprintf(err, errlen, "cert_file %s: %s", c->mqtt.cert_file,
			 r < 0 ? why : "a certificate in it is unreadable");
		return -EINVAL;
	}
	r = secret_open("key_file", c->mqtt.key_file, err, errlen);
	if (r < 0)
		return r;
	close(r);
	r = mbedtls_pk_parse_keyfile(&s->key, c->mqtt.key_file, NULL);
	if (r == MBEDTLS_ERR_PK_PASSWORD_REQUIRED ||
	    r == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
		snprintf(err, errlen,
			 "key_file %s is encrypted: the agent needs an "
			 "unencrypted key (openssl pkey -in KEY -out "
			 "PLAIN_KEY), readable by it alone",
			 c->mqtt.key_file);
		return -EINVAL;
	}
	if (r) {
		tls_strerror(r, why, sizeof(why));
		snprintf(err, errlen, "key_file %s: %s", c->mqtt.key_file, why);
		return -EINVAL;
	}
	if (mbedtls_pk_check_pair(&s->cert.pk, &s->key)) {
		snprintf(err, errlen,
			 "key_file %s does not belong to cert_file %s",
			 c->mqtt.key_file, c->mqtt.cert_file);
		return -EINVAL;
	}
	r = mbedtls_ssl_conf_own_cert(&s->conf, &s->cert, &s->key);
	if (r) {
		tls_strerror(r, why, sizeof(why));
		snprintf(err, errlen, "client certificate: %s", why);
		return -EINVAL;
	}
	return 0;
}

static int tls_load_psk(struct tls_stream *s, const struct config *c, char *err,
			size_t errlen)
{
	unsigned char key[MBEDTLS_PSK_MAX_LEN];
	char why[160];
	int n, r;

	n = tls_psk_load(c->mqtt.psk_file, key, sizeof(key), err, errlen);
	if (n < 0)
		return n;
	r = mbedtls_ssl_conf_psk(&s->conf, key, (size_t)n,
				 (const unsigned char *)c->mqtt.psk_identity,
				 strlen(c->mqtt.psk_identity));
	mbedtls_platform_zeroize(key, sizeof(key));
	if (r) {
		tls_strerror(r, why, sizeof(why));
		snprintf(err, errlen, "PSK: %s", why);
		return -EINVAL;
	}
	s->psk = true;
	return 0;
}

static void tls_destroy(void *ctx)
{
	struct tls_stream *s = ctx;

	if (!s)
		return;
	/* One try, on the still open socket: a full buffer just skips it. */
	if (s->established && s->fd >= 0)
		mbedtls_ssl_close_notify(&s->ssl);
	mbedtls_ssl_free(&s->ssl);
	mbedtls_ssl_config_free(&s->conf);
	mbedtls_x509_crt_free(&s->ca);
	mbedtls_x509_crt_free(&s->cert);
	mbedtls_pk_free(&s->key);
	mbedtls_ctr_drbg_free(&s->drbg);
	mbedtls_entropy_free(&s->entropy);
	free(s->top_der);
	free(s->suites);
	free(s);
}

static int tls_create(const struct config *c, void **out, char *err,
		      size_t errlen)
{
	static const unsigned char pers[] = "zerobmc transport";
	struct tls_stream *s = calloc(1, sizeof(*s));
	const char *name;
	char why[160];
	int r;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	mbedtls_ssl_init(&s->ssl);
	mbedtls_ssl_config_init(&s->conf);
	mbedtls_entropy_init(&s->entropy);
	mbedtls_ctr_drbg_init(&s->drbg);
	mbedtls_x509_crt_init(&s->ca);
	mbedtls_x509_crt_init(&s->cert);
	mbedtls_pk_init(&s->key);

	r = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
				  pers, sizeof(pers) - 1);
	if (r)
		goto mbed_fail;
	r = mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT);
	if (r)
		goto mbed_fail;
	mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
	mbedtls_ssl_conf_min_version(&s->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_renegotiation(&s->conf,
				       MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_dhm_min_bitlen(&s->conf, 2048);

	if (c->mqtt.psk_file[0])
		r = tls_load_psk(s, c, err, errlen);
	else
		r = tls_load_certs(s, c, err, errlen);
	if (r)
		goto fail;
	s->suites = tls_suites_build(s->psk ? TLS_SUITES_PSK : TLS_SUITES_CERT);
	if (!s->suites) {
		r = -ENOMEM;
		goto fail;
	}
	if (!s->suites[0]) {
		snprintf(err, errlen, "this mbedTLS offers no usable %s suite",
			 s->psk ? "PSK" : "forward-secret");
		r = -ENOTSUP;
		goto fail;
	}
	mbedtls_ssl_conf_ciphersuites(&s->conf, s->suites);

	r = mbedtls_ssl_setup(&s->ssl, &s->conf);
	if (r)
		goto mbed_fail;
	name = c->mqtt.tls_server_name[0] ? c->mqtt.tls_server_name
					  : c->mqtt.host;
	snprintf(s->host, sizeof(s->host), "%s", name);
	s->ip_len = tls_ip_parse(name, s->ip);
	/*
	 * A DNS name goes to mbedTLS, which sends it as SNI and checks it
	 * against the certificate; an address is never sent as SNI and is
	 * checked in tls_verify_cb.
	 */
	if (!s->ip_len) {
		r = mbedtls_ssl_set_hostname(&s->ssl, name);
		if (r)
			goto mbed_fail;
	}
	mbedtls_ssl_set_bio(&s->ssl, s, tls_bio_send, tls_bio_recv, NULL);
	*out = s;
	return 0;
mbed_fail:
	tls_strerror(r, why, sizeof(why));
	snprintf(err, errlen, "TLS setup: %s", why);
	r = -EINVAL;
fail:
	tls_destroy(s);
	*out = NULL;
	return r;
}

/* ---- the stream ---- */

static int tls_want(int ret, short *want)
{
	if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
		*want = POLLIN;
		return 1;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
		*want = POLLOUT;
		return 1;
	}
	return 0;
}

static int tls_handshake(void *ctx, int fd, short *want, char *err,
			 size_t errlen)
{
	struct tls_stream *s = ctx;
	int r;

	s->fd = fd;
	r = mbedtls_ssl_handshake(&s->ssl);
	if (tls_want(r, want))
		return -EAGAIN;
	if (r) {
		tls_handshake_message(s, r, err, errlen);
		/* Read the whole store again next time. */
		if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && s->on_anchor)
			tls_anchor_set(NULL, 0);
		return r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ? -EPERM
								: -EPROTO;
	}
	s->established = true;
	if (!s->on_anchor && s->top_der && !s->psk) {
		tls_anchor_set(s->top_der, s->top_len);
		s->top_der = NULL;
	}
	/* For the log: what was negotiated. */
	snprintf(err, errlen, "%s, %s", mbedtls_ssl_get_version(&s->ssl),
		 mbedtls_ssl_get_ciphersuite(&s->ssl));
	/*
	 * With renegotiation off the trust store is not needed again, and
	 * the system bundle is the largest thing this module holds.
	 */
	if (s->ca.raw.p) {
		mbedtls_ssl_conf_ca_chain(&s->conf, NULL, NULL);
		mbedtls_x509_crt_free(&s->ca);
		malloc_trim(0);
	}
	return 0;
}

static ssize_t tls_recv(void *ctx, int fd, void *buf, size_t n, short *want,
			char *err, size_t errlen)
{
	struct tls_stream *s = ctx;
	char why[160], abuf[16];
	int r;

	s->fd = fd;
	r = mbedtls_ssl_read(&s->ssl, buf, n);
	if (r > 0)
		return r;
	if (tls_want(r, want))
		return -EAGAIN;
	switch (r) {
	case 0:
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
		return 0;
	case MBEDTLS_ERR_NET_CONN_RESET:
		snprintf(err, errlen, "connection reset by the broker");
		return -ECONNRESET;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		snprintf(err, errlen, "the broker ended TLS with alert %s",
			 tls_alert_name(tls_last_alert(s), abuf, sizeof(abuf)));
		return -EPROTO;
	default:
		tls_strerror(r, why, sizeof(why));
		snprintf(err, errlen, "TLS receive: %s", why);
		return -EIO;
	}
}

static ssize_t tls_send(void *ctx, int fd, const void *buf, size_t n,
			short *want, char *err, size_t errlen)
{
	struct tls_stream *s = ctx;
	char why[160];
	int r;

	s->fd = fd;
	/*
	 * After WANT_WRITE mbedTLS flushes the record it already built and
	 * reports the length it is given: give the same length again. The
	 * relay keeps those bytes at the head of its buffer.
	 */
	if (s->write_len) {
		if (n < s->write_len) {
			snprintf(err, errlen, "TLS send: relay lost bytes");
			return -EIO;
		}
		n = s->write_len;
	}
	r = mbedtls_ssl_write(&s->ssl, buf, n);
	if (r >= 0) {
		s->write_len = 0;
		return r;
	}
	if (tls_want(r, want)) {
		s->write_len = n;
		return -EAGAIN;
	}
	if (r == MBEDTLS_ERR_NET_CONN_RESET) {
		snprintf(err, errlen, "connection reset by the broker");
		return -ECONNRESET;
	}
	tls_strerror(r, why, sizeof(why));
	snprintf(err, errlen, "TLS send: %s", why);
	return -EIO;
}

static size_t tls_pending(void *ctx)
{
	struct tls_stream *s = ctx;

	return s ? mbedtls_ssl_get_bytes_avail(&s->ssl) : 0;
}

const struct transport_stream_ops transport_tls_ops = {
	.name = "tls",
	.off_loop = true,
	.create = tls_create,
	.handshake = tls_handshake,
	.recv = tls_recv,
	.send = tls_send,
	.pending = tls_pending,
	.destroy = tls_destroy,
};
