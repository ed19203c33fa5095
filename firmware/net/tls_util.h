/*
 * Helpers of the TLS transport that need no connection: the PSK file,
 * the cipher suite list, certificate names and IP SANs, alert names.
 * They are apart from transport_tls.c so that unit tests reach them.
 */
#ifndef ZB_TLS_UTIL_H
#define ZB_TLS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <mbedtls/x509_crt.h>

/* A PSK shorter than this is refused: it could be guessed offline. */
#define TLS_PSK_MIN 16

enum tls_suite_kind {
	TLS_SUITES_CERT, /* forward-secret suites only: ECDHE and DHE */
	TLS_SUITES_PSK,	 /* ECDHE-PSK, DHE-PSK, then plain PSK */
};

/*
 * Parse a PSK given as hex digits (whitespace around it is allowed).
 * Returns the key length or -EINVAL with a reason in err.
 */
int tls_psk_parse(const char *text, unsigned char *key, size_t keymax,
		  char *err, size_t errlen);

/* Read and parse a PSK file. Returns the key length or a negative errno. */
int tls_psk_load(const char *path, unsigned char *key, size_t keymax, char *err,
		 size_t errlen);

/*
 * A zero-terminated list of mbedTLS cipher suite ids for the kind, in
 * mbedTLS's order of preference. The caller frees it.
 */
int *tls_suites_build(enum tls_suite_kind kind);

/*
 * Parse an IPv4 or IPv6 literal into ip (16 bytes room). Returns 4 or
 * 16, or 0 if s is a DNS name.
 */
size_t tls_ip_parse(const char *s, unsigned char ip[16]);

/* Does the certificate carry this address among its IP SANs? */
bool tls_cert_has_ip(const mbedtls_x509_crt *crt, const unsigned char *ip,
		     size_t len);

/*
 * The names a certificate is for, for messages: DNS and IP SANs, or
 * the subject CN when it has no SAN. "localhost, 127.0.0.1".
 */
void tls_cert_names(const mbedtls_x509_crt *crt, char *out, size_t outlen);

/* "handshake_failure" for 40; "alert 201" for unknown ones. */
const char *tls_alert_name(int alert, char *buf, size_t buflen);

#endif
