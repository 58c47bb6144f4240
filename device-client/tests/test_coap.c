/* The CoAP codec (edc_coap.c) against datagrams captured from libcoap's coap-client. */
#include <string.h>

#include "edc/edc_coap.h"
#include "edc/edc_codec.h"
#include "edc_test_vectors.h"
#include "mbedtls/x509_crt.h"
#include "unity_compat.h"

static unsigned char g_buf[512];

static void test_parses_coap_client_get_crts(void) {
  edc_coap_msg_t m;
  const edc_coap_option_t *o;
  uint32_t v = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_coap_parse(vec_coap_get_crts_bin, vec_coap_get_crts_bin_len, &m));
  TEST_ASSERT_EQUAL_INT(EDC_COAP_CON, m.type);
  TEST_ASSERT_EQUAL_INT(EDC_COAP_GET, m.code);
  TEST_ASSERT_EQUAL_INT(4, m.n_options); /* Uri-Port, Uri-Path est, Uri-Path crts, Accept */
  TEST_ASSERT_EQUAL_INT(EDC_COAP_OPT_URI_PATH, m.options[1].number);
  TEST_ASSERT_EQUAL_MEMORY("est", m.options[1].value, 3);
  TEST_ASSERT_EQUAL_MEMORY("crts", m.options[2].value, 4);
  o = edc_coap_find(&m, EDC_COAP_OPT_ACCEPT);
  TEST_ASSERT_NOT_NULL(o);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_get_uint(o, &v));
  TEST_ASSERT_EQUAL_UINT32(EDC_COAP_CF_PKCS7_CERTS, v);
  TEST_ASSERT_EQUAL_size_t(0, m.payload_len);
}

static void test_parses_coap_client_first_block1_with_request_tag(void) {
  edc_coap_msg_t m;
  edc_coap_block_t b;
  uint32_t v = 0;
  TEST_ASSERT_EQUAL_INT(
      0, edc_coap_parse(vec_coap_post_sen_block0_bin, vec_coap_post_sen_block0_bin_len, &m));
  TEST_ASSERT_EQUAL_INT(EDC_COAP_POST, m.code);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_get_uint(edc_coap_find(&m, EDC_COAP_OPT_CONTENT_FORMAT), &v));
  TEST_ASSERT_EQUAL_UINT32(EDC_COAP_CF_PKCS10, v);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_get_block(edc_coap_find(&m, EDC_COAP_OPT_BLOCK1), &b));
  TEST_ASSERT_EQUAL_UINT32(0, b.num);
  TEST_ASSERT_TRUE(b.more);
  TEST_ASSERT_EQUAL_UINT(2, b.szx); /* -b 64 */
  TEST_ASSERT_EQUAL_INT(0, edc_coap_get_uint(edc_coap_find(&m, EDC_COAP_OPT_SIZE1), &v));
  TEST_ASSERT_EQUAL_UINT32(vec_coap_csr_der_len, v);
  TEST_ASSERT_NOT_NULL(edc_coap_find(&m, 292)); /* Request-Tag (RFC 9175), extended delta */
  TEST_ASSERT_EQUAL_size_t(64, m.payload_len);
  TEST_ASSERT_EQUAL_MEMORY(vec_coap_csr_der, m.payload, 64);
}

/* Rebuild libcoap's datagram with our writer from the same fields: byte-identical. */
static void test_writer_reproduces_coap_client_bytes(void) {
  edc_coap_msg_t in, out;
  size_t i, n = 0;
  TEST_ASSERT_EQUAL_INT(
      0, edc_coap_parse(vec_coap_post_sen_block0_bin, vec_coap_post_sen_block0_bin_len, &in));
  edc_coap_msg_init(&out, in.type, in.code, in.mid, in.token, in.token_len);
  /* other options in reverse order (add_option must sort), then the repeated Uri-Path ones in
   * order (their relative order is significant) */
  for (i = in.n_options; i-- > 0;)
    if (in.options[i].number != EDC_COAP_OPT_URI_PATH)
      TEST_ASSERT_EQUAL_INT(0, edc_coap_add_option(&out, in.options[i].number, in.options[i].value,
                                                   in.options[i].len));
  for (i = 0; i < in.n_options; i++)
    if (in.options[i].number == EDC_COAP_OPT_URI_PATH)
      TEST_ASSERT_EQUAL_INT(0, edc_coap_add_option(&out, in.options[i].number, in.options[i].value,
                                                   in.options[i].len));
  out.payload = in.payload;
  out.payload_len = in.payload_len;
  TEST_ASSERT_EQUAL_INT(0, edc_coap_write(&out, g_buf, sizeof(g_buf), &n));
  TEST_ASSERT_EQUAL_size_t(vec_coap_post_sen_block0_bin_len, n);
  TEST_ASSERT_EQUAL_MEMORY(vec_coap_post_sen_block0_bin, g_buf, n);
}

static void test_builds_the_same_get_from_scratch(void) {
  edc_coap_msg_t in, out;
  size_t n = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_coap_parse(vec_coap_get_crts_bin, vec_coap_get_crts_bin_len, &in));
  edc_coap_msg_init(&out, EDC_COAP_CON, EDC_COAP_GET, in.mid, in.token, in.token_len);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_add_uint(&out, EDC_COAP_OPT_ACCEPT, EDC_COAP_CF_PKCS7_CERTS));
  TEST_ASSERT_EQUAL_INT(0, edc_coap_add_option(&out, EDC_COAP_OPT_URI_PATH, "est", 3));
  TEST_ASSERT_EQUAL_INT(0, edc_coap_add_option(&out, EDC_COAP_OPT_URI_PATH, "crts", 4));
  TEST_ASSERT_EQUAL_INT(
      0, edc_coap_add_option(&out, EDC_COAP_OPT_URI_PORT, in.options[0].value, in.options[0].len));
  TEST_ASSERT_EQUAL_INT(0, edc_coap_write(&out, g_buf, sizeof(g_buf), &n));
  TEST_ASSERT_EQUAL_size_t(vec_coap_get_crts_bin_len, n);
  TEST_ASSERT_EQUAL_MEMORY(vec_coap_get_crts_bin, g_buf, n);
}

static void test_uint_and_block_encodings(void) {
  edc_coap_msg_t m;
  edc_coap_block_t b = {70000, 1, 6}, d;
  uint32_t v;
  edc_coap_msg_init(&m, EDC_COAP_CON, EDC_COAP_POST, 1, NULL, 0);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_add_uint(&m, EDC_COAP_OPT_SIZE1, 0));
  TEST_ASSERT_EQUAL_INT(0, m.options[0].len); /* zero is the empty value */
  TEST_ASSERT_EQUAL_INT(0, edc_coap_add_block(&m, EDC_COAP_OPT_BLOCK2, &b));
  TEST_ASSERT_EQUAL_INT(3, m.options[0].len);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_get_block(&m.options[0], &d));
  TEST_ASSERT_EQUAL_UINT32(70000, d.num);
  TEST_ASSERT_TRUE(d.more);
  TEST_ASSERT_EQUAL_UINT(6, d.szx);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_get_uint(&m.options[1], &v));
  TEST_ASSERT_EQUAL_UINT32(0, v);
}

static void test_long_option_uses_two_byte_extension(void) {
  static unsigned char val[300];
  edc_coap_msg_t m, p;
  size_t n = 0;
  memset(val, 'x', sizeof(val));
  edc_coap_msg_init(&m, EDC_COAP_NON, EDC_COAP_GET, 7, (const unsigned char *)"tk", 2);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_add_option(&m, 2000, val, sizeof(val)));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_BUFFER_TOO_SMALL, edc_coap_write(&m, g_buf, 10, &n));
  TEST_ASSERT_EQUAL_size_t(4 + 2 + 1 + 2 + 2 + 300, n);
  TEST_ASSERT_EQUAL_INT(0, edc_coap_write(&m, g_buf, sizeof(g_buf), &n));
  TEST_ASSERT_EQUAL_INT(0xEE, g_buf[6]); /* delta 14, length 14: both extended by 2 bytes */
  TEST_ASSERT_EQUAL_INT(0, edc_coap_parse(g_buf, n, &p));
  TEST_ASSERT_EQUAL_INT(2000, p.options[0].number);
  TEST_ASSERT_EQUAL_INT(300, p.options[0].len);
}

static void test_rejects_malformed_datagrams(void) {
  static const unsigned char v2[] = {0x80, 0x01, 0, 1};
  static const unsigned char tkl9[] = {0x49, 0x01, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const unsigned char nib15[] = {0x40, 0x01, 0, 1, 0xF1, 0};
  static const unsigned char marker_only[] = {0x40, 0x01, 0, 1, 0xFF};
  static const unsigned char empty_with_token[] = {0x41, 0x00, 0, 1, 7};
  static const unsigned char short_opt[] = {0x40, 0x01, 0, 1, 0xB5, 'e', 's'};
  edc_coap_msg_t m;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_coap_parse(v2, sizeof(v2), &m));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_coap_parse(tkl9, sizeof(tkl9), &m));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_coap_parse(nib15, sizeof(nib15), &m));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_coap_parse(marker_only, sizeof(marker_only), &m));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED,
                        edc_coap_parse(empty_with_token, sizeof(empty_with_token), &m));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_coap_parse(short_opt, sizeof(short_opt), &m));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_coap_parse(v2, 3, &m));
}

static void test_every_prefix_parses_safely(void) {
  size_t n, i;
  edc_coap_msg_t m;
  const unsigned char *v = vec_coap_post_sen_block0_bin;
  for (n = 0; n < vec_coap_post_sen_block0_bin_len; n++) {
    memcpy(g_buf, v, n);
    if (edc_coap_parse(g_buf, n, &m) == 0) {
      for (i = 0; i < m.n_options; i++)
        TEST_ASSERT_TRUE(m.options[i].value + m.options[i].len <= g_buf + n);
      TEST_ASSERT_TRUE(m.payload == NULL || m.payload + m.payload_len <= g_buf + n);
    }
  }
}

static void test_wraps_single_certificate_as_pkcs7(void) {
  static unsigned char buf[600];
  size_t n = 0, iter = 0, clen;
  const unsigned char *cert;
  edc_pkcs7_certs_t c;
  memcpy(buf, vec_device_der, vec_device_der_len);
  TEST_ASSERT_EQUAL_INT(EDC_ERR_BUFFER_TOO_SMALL,
                        edc_pkcs7_wrap_cert(buf, vec_device_der_len + 10, vec_device_der_len, &n));
  TEST_ASSERT_EQUAL_size_t(vec_single_p7b_len, n); /* the same size as openssl's crl2pkcs7 */
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_wrap_cert(buf, sizeof(buf), vec_device_der_len, &n));
  TEST_ASSERT_EQUAL_size_t(vec_single_p7b_len, n);
  TEST_ASSERT_EQUAL_MEMORY(vec_single_p7b, buf, n); /* and byte-identical */
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_parse_certs(buf, n, &c));
  TEST_ASSERT_EQUAL_INT(0, edc_pkcs7_next_cert(&c, &iter, &cert, &clen));
  TEST_ASSERT_EQUAL_MEMORY(vec_device_der, cert, clen);
}

void ucx_group_coap(void) {
  UCX_GROUP("Coap");
  RUN_TEST(test_parses_coap_client_get_crts);
  RUN_TEST(test_parses_coap_client_first_block1_with_request_tag);
  RUN_TEST(test_writer_reproduces_coap_client_bytes);
  RUN_TEST(test_builds_the_same_get_from_scratch);
  RUN_TEST(test_uint_and_block_encodings);
  RUN_TEST(test_long_option_uses_two_byte_extension);
  RUN_TEST(test_rejects_malformed_datagrams);
  RUN_TEST(test_every_prefix_parses_safely);
  RUN_TEST(test_wraps_single_certificate_as_pkcs7);
}
