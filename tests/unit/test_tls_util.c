#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include "firmware/net/tls_util.h"

static void test_psk_parse_ok(void **state)
{
	unsigned char key[32];
	char err[200];
	int n = tls_psk_parse("  00112233445566778899AABBCCDDEEff\n", key,
			      sizeof(key), err, sizeof(err));

	assert_int_equal(n, 16);
	assert_int_equal(key[0], 0x00);
	assert_int_equal(key[10], 0xaa);
	assert_int_equal(key[15], 0xff);
}

static void test_psk_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{"", "empty"},
		{" \n", "empty"},
		{"agent:00112233445566778899aabbccddeeff", "not a hex digit"},
		{"00112233445566778899aabbccddeef", "odd number"},
		{"0011223344556677", "key of 8 bytes"},
		{"00112233445566778899aabbccddeeff00112233445566778899aabbccdde"
		 "eff"
		 "00",
		 "key of 33 bytes"},
		{"0011223344556677 8899aabbccddeeff", "not a hex digit"},
	};
	unsigned char key[32];
	char err[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(tls_psk_parse(cases[i].text, key, sizeof(key),
					       err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].msg))
			fail_msg("'%s': got '%s'", cases[i].text, err);
	}
}

static void test_psk_load(void **state)
{
	char path[] = "/tmp/zbpskXXXXXX";
	int fd = mkstemp(path);
	unsigned char key[32];
	char err[300];
	const char *text = "000102030405060708090a0b0c0d0e0f1011\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(tls_psk_load(path, key, sizeof(key), err, sizeof(err)),
			 18);
	assert_int_equal(key[17], 0x11);
	unlink(path);
	assert_int_equal(tls_psk_load(path, key, sizeof(key), err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
}

static void test_suites(void **state)
{
	int *cert = tls_suites_build(TLS_SUITES_CERT);
	int *psk = tls_suites_build(TLS_SUITES_PSK);
	const mbedtls_ssl_ciphersuite_t *cs;

	assert_non_null(cert);
	assert_non_null(psk);
	assert_int_not_equal(cert[0], 0);
	assert_int_not_equal(psk[0], 0);
	for (int *p = cert; *p; p++) {
		cs = mbedtls_ssl_ciphersuite_from_id(*p);
		/* Forward secrecy only: no static RSA, no static ECDH. */
		assert_true(
			cs->key_exchange == MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA ||
			cs->key_exchange == MBEDTLS_KEY_EXCHANGE_ECDHE_RSA ||
			cs->key_exchange == MBEDTLS_KEY_EXCHANGE_DHE_RSA);
	}
	for (int *p = psk; *p; p++) {
		cs = mbedtls_ssl_ciphersuite_from_id(*p);
		assert_true(cs->key_exchange ==
				    MBEDTLS_KEY_EXCHANGE_ECDHE_PSK ||
			    cs->key_exchange == MBEDTLS_KEY_EXCHANGE_DHE_PSK ||
			    cs->key_exchange == MBEDTLS_KEY_EXCHANGE_PSK);
	}
	/* The forward-secret PSK exchange is offered first. */
	cs = mbedtls_ssl_ciphersuite_from_id(psk[0]);
	assert_int_equal(cs->key_exchange, MBEDTLS_KEY_EXCHANGE_ECDHE_PSK);
	free(cert);
	free(psk);
}

static void test_ip_parse(void **state)
{
	unsigned char ip[16];

	assert_int_equal(tls_ip_parse("127.0.0.1", ip), 4);
	assert_int_equal(ip[0], 127);
	assert_int_equal(tls_ip_parse("::1", ip), 16);
	assert_int_equal(ip[15], 1);
	assert_int_equal(tls_ip_parse("localhost", ip), 0);
	assert_int_equal(tls_ip_parse("10.0.0.1.example", ip), 0);
}

static void test_alert_names(void **state)
{
	char buf[16];

	assert_string_equal(tls_alert_name(40, buf, sizeof(buf)),
			    "handshake_failure");
	assert_string_equal(tls_alert_name(115, buf, sizeof(buf)),
			    "unknown_psk_identity");
	assert_string_equal(tls_alert_name(201, buf, sizeof(buf)), "alert 201");
}

/*
 * A self-signed certificate made in memory, with the SAN extension given
 * as DER, so the name checks meet exactly the entries a test wants.
 */
static void make_cert(mbedtls_x509_crt *crt, const char *subject,
		      const unsigned char *san, size_t san_len)
{
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_context key;
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	unsigned char buf[2048];
	int n;

	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_pk_init(&key);
	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	assert_int_equal(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func,
					       &ent, NULL, 0),
			 0);
	assert_int_equal(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(
							MBEDTLS_PK_ECKEY)),
			 0);
	assert_int_equal(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
					     mbedtls_pk_ec(key),
					     mbedtls_ctr_drbg_random, &drbg),
			 0);
	mbedtls_mpi_lset(&serial, 7);
	mbedtls_x509write_crt_set_serial(&w, &serial);
	mbedtls_x509write_crt_set_validity(&w, "20200101000000",
					   "20400101000000");
	mbedtls_x509write_crt_set_subject_name(&w, subject);
	mbedtls_x509write_crt_set_issuer_name(&w, subject);
	mbedtls_x509write_crt_set_subject_key(&w, &key);
	mbedtls_x509write_crt_set_issuer_key(&w, &key);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	if (san)
		assert_int_equal(
			mbedtls_x509write_crt_set_extension(
				&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
				MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
				0, san, san_len),
			0);
	n = mbedtls_x509write_crt_der(&w, buf, sizeof(buf),
				      mbedtls_ctr_drbg_random, &drbg);
	assert_true(n > 0);
	mbedtls_x509_crt_init(crt);
	/* The writer fills the end of the buffer. */
	assert_int_equal(mbedtls_x509_crt_parse_der(crt, buf + sizeof(buf) - n,
						    (size_t)n),
			 0);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	mbedtls_pk_free(&key);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
}

static void test_cert_ip_sans(void **state)
{
	/* SEQUENCE { [7] 127.0.0.1, [2] "localhost", [7] ::1 } */
	static const unsigned char san[] = {
		0x30, 0x23, 0x87, 0x04, 0x7f, 0x00, 0x00, 0x01, 0x82, 0x09,
		'l',  'o',  'c',  'a',	'l',  'h',  'o',  's',	't',  0x87,
		0x10, 0,    0,	  0,	0,    0,    0,	  0,	0,    0,
		0,    0,    0,	  0,	0,    0,    1,
	};
	unsigned char ip[16];
	mbedtls_x509_crt crt;
	char names[128];

	make_cert(&crt, "CN=zerobmc broker", san, sizeof(san));
	assert_true(tls_cert_has_ip(&crt, ip, tls_ip_parse("127.0.0.1", ip)));
	assert_true(tls_cert_has_ip(&crt, ip, tls_ip_parse("::1", ip)));
	assert_false(tls_cert_has_ip(&crt, ip, tls_ip_parse("127.0.0.2", ip)));
	/* An address in a DNS entry or the CN is not an IP SAN. */
	tls_cert_names(&crt, names, sizeof(names));
	assert_string_equal(names, "127.0.0.1, localhost, ::1");
	mbedtls_x509_crt_free(&crt);
}

static void test_cert_names_fall_back_to_cn(void **state)
{
	mbedtls_x509_crt crt;
	unsigned char ip[16];
	char names[128];

	make_cert(&crt, "O=lab,CN=127.0.0.1", NULL, 0);
	assert_false(tls_cert_has_ip(&crt, ip, tls_ip_parse("127.0.0.1", ip)));
	tls_cert_names(&crt, names, sizeof(names));
	assert_string_equal(names, "127.0.0.1");
	/* A short buffer is cut with an ellipsis, never overrun. */
	tls_cert_names(&crt, names, 6);
	assert_string_equal(names, "12...");
	mbedtls_x509_crt_free(&crt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psk_parse_ok),
		cmocka_unit_test(test_psk_parse_errors),
		cmocka_unit_test(test_psk_load),
		cmocka_unit_test(test_suites),
		cmocka_unit_test(test_ip_parse),
		cmocka_unit_test(test_alert_names),
		cmocka_unit_test(test_cert_ip_sans),
		cmocka_unit_test(test_cert_names_fall_back_to_cn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
