/* Base64 in and out (edc_base64.c), against RFC 4648 vectors and openssl-made files. */
#include <string.h>

#include "edc/edc_codec.h"
#include "edc_test_vectors.h"
#include "unity_compat.h"

static unsigned char g_out[2048];

static void test_encodes_rfc4648_vectors(void) {
  static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  char buf[16];
  size_t i, n;
  for (i = 0; i < 7; i++) {
    TEST_ASSERT_EQUAL_INT(
        0, edc_base64_encode(buf, sizeof(buf), &n, (const unsigned char *)in[i], strlen(in[i])));
    TEST_ASSERT_EQUAL_STRING(out[i], buf);
    TEST_ASSERT_EQUAL_size_t(strlen(out[i]), n);
  }
}

static void test_encode_reports_needed_size(void) {
  char buf[16];
  size_t n = 0;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_BUFFER_TOO_SMALL,
                        edc_base64_encode(buf, 8, &n, (const unsigned char *)"foobar", 6));
  TEST_ASSERT_EQUAL_size_t(9, n); /* 8 characters and the NUL */
  TEST_ASSERT_EQUAL_INT(0, edc_base64_encode(buf, 9, &n, (const unsigned char *)"foobar", 6));
}

static void test_decodes_openssl_64_column_lines(void) {
  size_t n = 0;
  TEST_ASSERT_EQUAL_INT(
      0, edc_base64_decode(g_out, sizeof(g_out), &n, (const char *)vec_chain3_p7b_b64,
                           vec_chain3_p7b_b64_len));
  TEST_ASSERT_EQUAL_size_t(vec_chain3_p7b_len, n);
  TEST_ASSERT_EQUAL_MEMORY(vec_chain3_p7b, g_out, n);
}

static void test_decodes_one_line_without_newline(void) {
  size_t n = 0;
  TEST_ASSERT_EQUAL_INT(
      0, edc_base64_decode(g_out, sizeof(g_out), &n, (const char *)vec_chain3_p7b_b64line,
                           vec_chain3_p7b_b64line_len));
  TEST_ASSERT_EQUAL_size_t(vec_chain3_p7b_len, n);
  TEST_ASSERT_EQUAL_MEMORY(vec_chain3_p7b, g_out, n);
}

static void test_decodes_crlf_and_spaces_anywhere(void) {
  static const char in[] = " Zm9v\r\nYm\tFy \r\n";
  size_t n = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_base64_decode(g_out, sizeof(g_out), &n, in, sizeof(in) - 1));
  TEST_ASSERT_EQUAL_size_t(6, n);
  TEST_ASSERT_EQUAL_MEMORY("foobar", g_out, 6);
}

static void test_decode_reports_needed_size(void) {
  size_t n = 0;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_BUFFER_TOO_SMALL, edc_base64_decode(g_out, 4, &n, "Zm9vYmE=", 8));
  TEST_ASSERT_EQUAL_size_t(5, n);
  TEST_ASSERT_EQUAL_INT(0, edc_base64_decode(g_out, 5, &n, "Zm9vYmE=", 8));
  TEST_ASSERT_EQUAL_MEMORY("fooba", g_out, 5);
}

static void test_decode_rejects_stray_characters_and_bad_padding(void) {
  size_t n;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_base64_decode(g_out, sizeof(g_out), &n, "Zm9v!", 5));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_base64_decode(g_out, sizeof(g_out), &n, "Zg=", 3));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_base64_decode(g_out, sizeof(g_out), &n, "Z===", 4));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED,
                        edc_base64_decode(g_out, sizeof(g_out), &n, "Zg==Zg==", 8));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_base64_decode(g_out, sizeof(g_out), &n, "Zm9vY", 5));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, edc_base64_decode(g_out, sizeof(g_out), &n, "Zm-v", 4));
}

void ucx_group_base64(void) {
  UCX_GROUP("Base64");
  RUN_TEST(test_encodes_rfc4648_vectors);
  RUN_TEST(test_encode_reports_needed_size);
  RUN_TEST(test_decodes_openssl_64_column_lines);
  RUN_TEST(test_decodes_one_line_without_newline);
  RUN_TEST(test_decodes_crlf_and_spaces_anywhere);
  RUN_TEST(test_decode_reports_needed_size);
  RUN_TEST(test_decode_rejects_stray_characters_and_bad_padding);
}
