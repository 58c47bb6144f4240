/* The certs-only PKCS#7 parser (edc_pkcs7.c) on openssl crl2pkcs7 output and hostile input. */
#include <string.h>

#include "edc/edc_codec.h"
#include "edc_test_vectors.h"
#include "mbedtls/x509_crt.h"
#include "unity_compat.h"

static unsigned char g_buf[1400];

static void test_parses_three_certificate_chain_in_order(void) {
  edc_pkcs7_certs_t c;
  size_t iter = 0, len;
  const unsigned char *cert;
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_parse_certs(vec_chain3_p7b, vec_chain3_p7b_len, &c));
  TEST_ASSERT_EQUAL_size_t(3, c.count);
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_next_cert(&c, &iter, &cert, &len));
  TEST_ASSERT_EQUAL_size_t(vec_device_der_len, len);
  TEST_ASSERT_EQUAL_MEMORY(vec_device_der, cert, len);
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_next_cert(&c, &iter, &cert, &len));
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_next_cert(&c, &iter, &cert, &len));
  TEST_ASSERT_EQUAL_size_t(vec_root_der_len, len);
  TEST_ASSERT_EQUAL_MEMORY(vec_root_der, cert, len);
  TEST_ASSERT_EQUAL_INT(EDC_ERR_NOT_FOUND, edc_pkcs7_next_cert(&c, &iter, &cert, &len));
}

static void test_every_certificate_parses_with_mbedtls(void) {
  edc_pkcs7_certs_t c;
  size_t iter = 0, len, n = 0;
  const unsigned char *cert;
  mbedtls_x509_crt chain;
  mbedtls_x509_crt_init(&chain);
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_parse_certs(vec_chain3_p7b, vec_chain3_p7b_len, &c));
  while (edc_pkcs7_next_cert(&c, &iter, &cert, &len) == 0) {
    TEST_ASSERT_EQUAL_INT(0, mbedtls_x509_crt_parse_der(&chain, cert, len));
    n++;
  }
  TEST_ASSERT_EQUAL_size_t(3, n);
  TEST_ASSERT_TRUE(chain.next != NULL && chain.next->next != NULL);
  mbedtls_x509_crt_free(&chain);
}

static void test_parses_single_certificate(void) {
  edc_pkcs7_certs_t c;
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_parse_certs(vec_single_p7b, vec_single_p7b_len, &c));
  TEST_ASSERT_EQUAL_size_t(1, c.count);
  TEST_ASSERT_EQUAL_size_t(vec_device_der_len, c.len);
}

static void test_rejects_every_truncation(void) {
  size_t n;
  edc_pkcs7_certs_t c;
  for (n = 0; n < vec_chain3_p7b_len; n++) {
    memcpy(g_buf, vec_chain3_p7b, n);
    TEST_ASSERT_NOT_EQUAL(0, edc_pkcs7_parse_certs(g_buf, n, &c));
  }
}

static void test_rejects_trailing_bytes(void) {
  edc_pkcs7_certs_t c;
  memcpy(g_buf, vec_single_p7b, vec_single_p7b_len);
  g_buf[vec_single_p7b_len] = 0;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED,
                        edc_pkcs7_parse_certs(g_buf, vec_single_p7b_len + 1, &c));
}

static void test_rejects_other_content_type(void) {
  edc_pkcs7_certs_t c;
  memcpy(g_buf, vec_single_p7b, vec_single_p7b_len);
  /* ContentInfo: 30 82 xx xx 06 09 2a 86 48 86 f7 0d 01 07 02: make it ...07 03 envelopedData */
  TEST_ASSERT_EQUAL_INT(0x02, g_buf[14]);
  g_buf[14] = 0x03;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_pkcs7_parse_certs(g_buf, vec_single_p7b_len, &c));
}

static void test_rejects_huge_lengths(void) {
  static const unsigned char huge[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x09};
  static const unsigned char indefinite[] = {0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                             0xf7, 0x0d, 0x01, 0x07, 0x02, 0x00, 0x00};
  edc_pkcs7_certs_t c;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_pkcs7_parse_certs(huge, sizeof(huge), &c));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED,
                        edc_pkcs7_parse_certs(indefinite, sizeof(indefinite), &c));
}

/* Hand-made SignedData with no certificates field: NOT_FOUND, not a crash or an empty list. */
static void test_reports_not_found_without_certificates(void) {
  static const unsigned char p7[] = {0x30, 0x23, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                     0x01, 0x07, 0x02, 0xa0, 0x16, 0x30, 0x14, 0x02, 0x01, 0x01,
                                     0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                     0xf7, 0x0d, 0x01, 0x07, 0x01, 0x31, 0x00};
  edc_pkcs7_certs_t c;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_NOT_FOUND, edc_pkcs7_parse_certs(p7, sizeof(p7), &c));
  TEST_ASSERT_EQUAL_size_t(0, c.count);
}

static void test_rejects_non_sequence_inside_certificates(void) {
  static const unsigned char p7[] = {
      0x30, 0x27, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0,
      0x1a, 0x30, 0x18, 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86,
      0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x02, 0x04, 0x00, 0x31, 0x00};
  edc_pkcs7_certs_t c;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_pkcs7_parse_certs(p7, sizeof(p7), &c));
}

/* Flip every bit of a real response: the parser must never read outside the buffer, and any
 * accepted variant must still describe certificates inside it. */
static void test_survives_every_single_bit_flip(void) {
  size_t i;
  int bit, accepted = 0;
  edc_pkcs7_certs_t c;
  for (i = 0; i < vec_single_p7b_len; i++) {
    for (bit = 0; bit < 8; bit++) {
      memcpy(g_buf, vec_single_p7b, vec_single_p7b_len);
      g_buf[i] ^= (unsigned char)(1u << bit);
      if (edc_pkcs7_parse_certs(g_buf, vec_single_p7b_len, &c) == 0) {
        accepted++;
        TEST_ASSERT_TRUE(c.p >= g_buf && c.p + c.len <= g_buf + vec_single_p7b_len);
        TEST_ASSERT_TRUE(c.count >= 1);
      }
    }
  }
  /* flips inside the certificate body keep the structure: some must be accepted */
  TEST_ASSERT_TRUE(accepted > 0);
}

void ucx_group_pkcs7(void) {
  UCX_GROUP("Pkcs7");
  RUN_TEST(test_parses_three_certificate_chain_in_order);
  RUN_TEST(test_every_certificate_parses_with_mbedtls);
  RUN_TEST(test_parses_single_certificate);
  RUN_TEST(test_rejects_every_truncation);
  RUN_TEST(test_rejects_trailing_bytes);
  RUN_TEST(test_rejects_other_content_type);
  RUN_TEST(test_rejects_huge_lengths);
  RUN_TEST(test_reports_not_found_without_certificates);
  RUN_TEST(test_rejects_non_sequence_inside_certificates);
  RUN_TEST(test_survives_every_single_bit_flip);
}
