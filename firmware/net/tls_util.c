#include "firmware/net/tls_util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl_ciphersuites.h>

#include "firmware/core/addr.h"
#include "firmware/core/secret.h"

/* A PSK file holds at most the hex of a 32-byte key plus some blanks. */
#define TLS_PSK_FILE_MAX 512

int tls_psk_parse(const char *text, unsigned char *key, size_t keymax,
		  char *err, size_t errlen)
{
	const char *end;
	size_t digits, n;

	while (isspace((unsigned char)*text))
		text++;
	end = text + strlen(text);
	while (end > text && isspace((unsigned char)end[-1]))
		end--;
	digits = (size_t)(end - text);
	if (!digits) {
		snprintf(err, errlen, "empty: it must hold the key in hex");
		return -EINVAL;
	}
	for (const char *p = text; p < end; p++) {
		if (addr_hex_digit(*p) < 0) {
			snprintf(
				err, errlen,
				"'%c' at offset %zu is not a hex digit "
				"(the file holds only the key, e.g. the part "
				"after the colon of a mosquitto psk_file line)",
				isprint((unsigned char)*p) ? *p : '?',
				(size_t)(p - text));
			return -EINVAL;
		}
	}
	if (digits % 2) {
		snprintf(err, errlen,
			 "odd number of hex digits (%zu): a key is whole "
			 "bytes",
			 digits);
		return -EINVAL;
	}
	n = digits / 2;
	if (n < TLS_PSK_MIN || n > keymax) {
		snprintf(err, errlen,
			 "key of %zu bytes: it must be %d to %zu bytes "
			 "(%d to %zu hex digits)",
			 n, TLS_PSK_MIN, keymax, TLS_PSK_MIN * 2, keymax * 2);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		key[i] = (unsigned char)(addr_hex_digit(text[2 * i]) << 4 |
					 addr_hex_digit(text[2 * i + 1]));
	return (int)n;
}

int tls_psk_load(const char *path, unsigned char *key, size_t keymax, char *err,
		 size_t errlen)
{
	char buf[TLS_PSK_FILE_MAX + 1];
	char why[200];
	ssize_t n;
	int fd, r;

	fd = secret_open("psk_file", path, err, errlen);
	if (fd < 0)
		return fd;
	n = read(fd, buf, sizeof(buf));
	r = -errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "psk_file %s: %s", path, strerror(-r));
		return r;
	}
	if ((size_t)n > TLS_PSK_FILE_MAX) {
		snprintf(err, errlen, "psk_file %s: longer than %d bytes", path,
			 TLS_PSK_FILE_MAX);
		return -EINVAL;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n)) {
		snprintf(err, errlen, "psk_file %s: binary content", path);
		return -EINVAL;
	}
	r = tls_psk_parse(buf, key, keymax, why, sizeof(why));
	explicit_bzero(buf, sizeof(buf));
	if (r < 0)
		snprintf(err, errlen, "psk_file %s: %s", path, why);
	return r;
}

/* Key exchanges each list accepts, in the order they are offered. */
static const mbedtls_key_exchange_type_t tls_kx_cert[] = {
	MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA,
	MBEDTLS_KEY_EXCHANGE_ECDHE_RSA,
	MBEDTLS_KEY_EXCHANGE_DHE_RSA,
};

static const mbedtls_key_exchange_type_t tls_kx_psk[] = {
	MBEDTLS_KEY_EXCHANGE_ECDHE_PSK,
	MBEDTLS_KEY_EXCHANGE_DHE_PSK,
	MBEDTLS_KEY_EXCHANGE_PSK,
};

int *tls_suites_build(enum tls_suite_kind kind)
{
	const mbedtls_key_exchange_type_t *kx =
		kind == TLS_SUITES_PSK ? tls_kx_psk : tls_kx_cert;
	size_t nkx = kind == TLS_SUITES_PSK
			     ? sizeof(tls_kx_psk) / sizeof(tls_kx_psk[0])
			     : sizeof(tls_kx_cert) / sizeof(tls_kx_cert[0]);
	const int *all = mbedtls_ssl_list_ciphersuites();
	size_t total = 0, n = 0;
	int *out;

	while (all[total])
		total++;
	out = calloc(total + 1, sizeof(*out));
	if (!out)
		return NULL;
	/*
	 * mbedTLS lists its suites strongest first; keep that order within
	 * each key exchange and put the exchanges in the order above.
	 */
	for (size_t k = 0; k < nkx; k++) {
		for (size_t i = 0; i < total; i++) {
			const mbedtls_ssl_ciphersuite_t *cs =
				mbedtls_ssl_ciphersuite_from_id(all[i]);

			if (!cs || cs->key_exchange != kx[k] ||
			    (cs->flags & MBEDTLS_CIPHERSUITE_WEAK))
				continue;
			out[n++] = all[i];
		}
	}
	out[n] = 0;
	return out;
}

size_t tls_ip_parse(const char *s, unsigned char ip[16])
{
	if (inet_pton(AF_INET, s, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, ip) == 1)
		return 16;
	return 0;
}

#define TLS_SAN_DNS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME)
#define TLS_SAN_IP (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS)

/*
 * mbedTLS 2.28 keeps every SAN entry of the certificate as a raw,
 * tagged buffer in subject_alt_names, but only matches dNSName entries
 * against a host name: IP addresses are compared here.
 */
bool tls_cert_has_ip(const mbedtls_x509_crt *crt, const unsigned char *ip,
		     size_t len)
{
	for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s;
	     s = s->next) {
		if (s->buf.p && s->buf.tag == TLS_SAN_IP && s->buf.len == len &&
		    !memcmp(s->buf.p, ip, len))
			return true;
	}
	return false;
}

/* Append a name, printable ASCII only, "..." when out is full. */
static void tls_names_add(char *out, size_t outlen, const unsigned char *p,
			  size_t n)
{
	size_t at = strlen(out);

	if (at && at + 2 < outlen) {
		memcpy(out + at, ", ", 2);
		at += 2;
	}
	for (size_t i = 0; i < n && at + 1 < outlen; i++)
		out[at++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[at] = '\0';
	if (at + 1 >= outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}

void tls_cert_names(const mbedtls_x509_crt *crt, char *out, size_t outlen)
{
	bool any = false;

	if (!outlen)
		return;
	out[0] = '\0';
	for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s;
	     s = s->next) {
		char ipbuf[INET6_ADDRSTRLEN];

		if (!s->buf.p)
			continue;
		if (s->buf.tag == TLS_SAN_DNS) {
			tls_names_add(out, outlen, s->buf.p, s->buf.len);
			any = true;
		} else if (s->buf.tag == TLS_SAN_IP &&
			   (s->buf.len == 4 || s->buf.len == 16) &&
			   inet_ntop(s->buf.len == 4 ? AF_INET : AF_INET6,
				     s->buf.p, ipbuf, sizeof(ipbuf))) {
			tls_names_add(out, outlen, (unsigned char *)ipbuf,
				      strlen(ipbuf));
			any = true;
		}
	}
	if (any)
		return;
	for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next) {
		if (n->oid.p && !MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid)) {
			tls_names_add(out, outlen, n->val.p, n->val.len);
			any = true;
		}
	}
	if (!any)
		snprintf(out, outlen, "no name");
}

static const struct {
	int code;
	const char *name;
} tls_alerts[] = {
	{0, "close_notify"},
	{10, "unexpected_message"},
	{20, "bad_record_mac"},
	{22, "record_overflow"},
	{40, "handshake_failure"},
	{42, "bad_certificate"},
	{43, "unsupported_certificate"},
	{44, "certificate_revoked"},
	{45, "certificate_expired"},
	{46, "certificate_unknown"},
	{47, "illegal_parameter"},
	{48, "unknown_ca"},
	{49, "access_denied"},
	{50, "decode_error"},
	{51, "decrypt_error"},
	{70, "protocol_version"},
	{71, "insufficient_security"},
	{80, "internal_error"},
	{86, "inappropriate_fallback"},
	{90, "user_canceled"},
	{100, "no_renegotiation"},
	{109, "missing_extension"},
	{110, "unsupported_extension"},
	{112, "unrecognized_name"},
	{115, "unknown_psk_identity"},
	{116, "certificate_required"},
	{120, "no_application_protocol"},
};

const char *tls_alert_name(int alert, char *buf, size_t buflen)
{
	for (size_t i = 0; i < sizeof(tls_alerts) / sizeof(tls_alerts[0]); i++)
		if (tls_alerts[i].code == alert)
			return tls_alerts[i].name;
	snprintf(buf, buflen, "alert %d", alert);
	return buf;
}
