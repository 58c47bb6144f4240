/* The storage bundle and X.509 time conversion (edc_client.c). */
#include <string.h>

#include "edc/edc_client.h"
#include "edc_test_vectors.h"
#include "mbedtls/x509_crt.h"
#include "unity_compat.h"

static unsigned char g_buf[1600];

static void test_bundle_round_trips_key_and_certificates(void) {
  unsigned char d[32];
  const unsigned char *pd, *certs;
  unsigned leaf = 9;
  size_t len = 0, clen = 0;
  memset(d, 0xab, sizeof(d));
  TEST_ASSERT_EQUAL_INT(
      0, edc_bundle_write(g_buf, sizeof(g_buf), &len, d, 1, vec_device_der, vec_device_der_len));
  TEST_ASSERT_EQUAL_size_t(6 + 32 + vec_device_der_len, len);
  TEST_ASSERT_EQUAL_INT(0, edc_bundle_parse(g_buf, len, &pd, &leaf, &certs, &clen));
  TEST_ASSERT_NOT_NULL(pd);
  TEST_ASSERT_EQUAL_MEMORY(d, pd, 32);
  TEST_ASSERT_EQUAL_UINT(1, leaf);
  TEST_ASSERT_EQUAL_size_t(vec_device_der_len, clen);
  TEST_ASSERT_EQUAL_MEMORY(vec_device_der, certs, clen);
}

static void test_bundle_without_key_for_secure_elements(void) {
  const unsigned char *pd, *certs;
  unsigned leaf;
  size_t len = 0, clen = 0;
  TEST_ASSERT_EQUAL_INT(
      0, edc_bundle_write(g_buf, sizeof(g_buf), &len, NULL, 0, vec_device_der, vec_device_der_len));
  TEST_ASSERT_EQUAL_INT(0, edc_bundle_parse(g_buf, len, &pd, &leaf, &certs, &clen));
  TEST_ASSERT_NULL(pd);
  TEST_ASSERT_EQUAL_size_t(vec_device_der_len, clen);
}

static void test_bundle_write_reports_needed_size(void) {
  size_t len = 0;
  unsigned char d[32] = {0};
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_BUFFER_TOO_SMALL,
      edc_bundle_write(g_buf, 100, &len, d, 0, vec_device_der, vec_device_der_len));
  TEST_ASSERT_EQUAL_size_t(6 + 32 + vec_device_der_len, len);
}

static void test_bundle_parse_rejects_damage(void) {
  const unsigned char *pd, *certs;
  unsigned leaf;
  size_t clen;
  unsigned char d[32] = {0};
  size_t len;
  TEST_ASSERT_EQUAL_INT(
      0, edc_bundle_write(g_buf, sizeof(g_buf), &len, d, 0, vec_device_der, vec_device_der_len));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_bundle_parse(g_buf, 20, &pd, &leaf, &certs, &clen));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_bundle_parse(g_buf, 38, &pd, &leaf, &certs, &clen));
  g_buf[4] = 7;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_bundle_parse(g_buf, len, &pd, &leaf, &certs, &clen));
  g_buf[4] = 1;
  g_buf[0] = 'X';
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_bundle_parse(g_buf, len, &pd, &leaf, &certs, &clen));
}

static void test_converts_x509_times_to_epoch(void) {
  mbedtls_x509_time t = {1970, 1, 1, 0, 0, 0};
  TEST_ASSERT_EQUAL_INT64(0, edc_x509_time_to_epoch(&t));
  t.year = 2000;
  t.mon = 3;
  t.day = 1;
  TEST_ASSERT_EQUAL_INT64(951868800LL, edc_x509_time_to_epoch(&t));
  t.year = 2038;
  t.mon = 1;
  t.day = 19;
  t.hour = 3;
  t.min = 14;
  t.sec = 8;
  TEST_ASSERT_EQUAL_INT64(2147483648LL, edc_x509_time_to_epoch(&t));
  t.year = 2050;
  t.mon = 12;
  t.day = 31;
  t.hour = 23;
  t.min = 59;
  t.sec = 59;
  TEST_ASSERT_EQUAL_INT64(2556143999LL, edc_x509_time_to_epoch(&t));
}

static void test_device_certificate_is_valid_for_365_days(void) {
  mbedtls_x509_crt crt;
  int64_t nb, na;
  mbedtls_x509_crt_init(&crt);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_x509_crt_parse_der(&crt, vec_device_der, vec_device_der_len));
  nb = edc_x509_time_to_epoch(&crt.valid_from);
  na = edc_x509_time_to_epoch(&crt.valid_to);
  TEST_ASSERT_EQUAL_INT64(365LL * 86400, na - nb);
  mbedtls_x509_crt_free(&crt);
}

static void test_strerror_names_every_code(void) {
  int e;
  for (e = 0; e >= -19; e--) TEST_ASSERT_TRUE(strcmp(edc_strerror(e), "unknown error") != 0);
  TEST_ASSERT_EQUAL_STRING("unknown error", edc_strerror(-999));
}

void ucx_group_bundle(void) {
  UCX_GROUP("Bundle");
  RUN_TEST(test_bundle_round_trips_key_and_certificates);
  RUN_TEST(test_bundle_without_key_for_secure_elements);
  RUN_TEST(test_bundle_write_reports_needed_size);
  RUN_TEST(test_bundle_parse_rejects_damage);
  RUN_TEST(test_converts_x509_times_to_epoch);
  RUN_TEST(test_device_certificate_is_valid_for_365_days);
  RUN_TEST(test_strerror_names_every_code);
}
