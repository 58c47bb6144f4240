/* The HTTP/1.1 response parser and request writer (edc_http.c). */
#include <string.h>

#include "edc/edc_http.h"
#include "edc/edc_https.h"
#include "unity_compat.h"

static unsigned char g_buf[1024];

static int parse(const char *text, int eof, edc_http_response_t *r) {
  size_t n = strlen(text);
  memcpy(g_buf, text, n);
  return edc_http_response_parse(g_buf, n, eof, r);
}

static const char kOk[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
    "Content-Transfer-Encoding: base64\r\ncontent-length: 8\r\n\r\nZm9vYmFy";

static void test_parses_content_length_response(void) {
  edc_http_response_t r;
  TEST_ASSERT_EQUAL_INT(0, parse(kOk, 0, &r));
  TEST_ASSERT_EQUAL_INT(200, r.status);
  TEST_ASSERT_EQUAL_size_t(8, r.body_len);
  TEST_ASSERT_EQUAL_MEMORY("Zm9vYmFy", r.body, 8);
  TEST_ASSERT_EQUAL_size_t(strlen(kOk), r.consumed);
  TEST_ASSERT_EQUAL_size_t(strlen("application/pkcs7-mime"), r.content_type_len);
  TEST_ASSERT_EQUAL_MEMORY("application/pkcs7-mime", r.content_type, r.content_type_len);
  TEST_ASSERT_TRUE(r.cte_base64);
  TEST_ASSERT_EQUAL_INT(0, edc_http_status_to_error(&r));
}

static void test_every_prefix_is_incomplete(void) {
  edc_http_response_t r;
  size_t n, full = strlen(kOk);
  for (n = 0; n < full; n++) {
    memcpy(g_buf, kOk, n);
    TEST_ASSERT_EQUAL_INT(EDC_ERR_INCOMPLETE, edc_http_response_parse(g_buf, n, 0, &r));
  }
}

static void test_joins_chunked_body_with_extensions_and_trailer(void) {
  edc_http_response_t r;
  TEST_ASSERT_EQUAL_INT(0, parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "5\r\nhello\r\n6;ext=1\r\n world\r\nA\r\n0123456789\r\n0\r\n"
                                 "X-Trailer: 1\r\n\r\n",
                                 0, &r));
  TEST_ASSERT_EQUAL_size_t(21, r.body_len);
  TEST_ASSERT_EQUAL_MEMORY("hello world0123456789", r.body, 21);
}

static void test_chunked_prefixes_are_incomplete(void) {
  static const char msg[] =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n";
  edc_http_response_t r;
  size_t n;
  for (n = 0; n + 1 < sizeof(msg) - 1; n++) {
    memcpy(g_buf, msg, n);
    TEST_ASSERT_EQUAL_INT(EDC_ERR_INCOMPLETE, edc_http_response_parse(g_buf, n, 0, &r));
  }
  memcpy(g_buf, msg, sizeof(msg) - 1);
  TEST_ASSERT_EQUAL_INT(0, edc_http_response_parse(g_buf, sizeof(msg) - 1, 0, &r));
  TEST_ASSERT_EQUAL_MEMORY("abcd", r.body, 4);
}

/* Found by fuzz_http: a chunk size next to SIZE_MAX wrapped "size + 2" in the length check and
 * the parser read far outside the buffer. Now it waits for data (or, at EOF, fails). */
static void test_huge_chunk_size_does_not_wrap(void) {
  edc_http_response_t r;
  char msg[128] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0";
  size_t i;
  for (i = 0; i < 2 * sizeof(size_t); i++) strcat(msg, "F"); /* SIZE_MAX */
  strcat(msg, "\r\nM\nXt\n");
  TEST_ASSERT_EQUAL_INT(EDC_ERR_INCOMPLETE, parse(msg, 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, parse(msg, 1, &r));
  msg[strlen(msg) - 8] = 'E'; /* SIZE_MAX - 1: "size + 2" wrapped to 0 */
  TEST_ASSERT_EQUAL_INT(EDC_ERR_INCOMPLETE, parse(msg, 0, &r));
}

/* As the transport does: one buffer that grows, parsed again after every byte. */
static void test_chunked_response_parsed_while_it_arrives(void) {
  static const char msg[] =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "8\r\nMIIB\r\nab\r\nA\r\ncd\r\nEFGH\r\n\r\n0\r\n\r\n";
  edc_http_response_t r;
  size_t n;
  int ret = EDC_ERR_INCOMPLETE;
  memset(g_buf, 0, sizeof(g_buf));
  for (n = 1; n <= sizeof(msg) - 1; n++) {
    g_buf[n - 1] = (unsigned char)msg[n - 1];
    ret = edc_http_response_parse(g_buf, n, 0, &r);
    if (n < sizeof(msg) - 1) TEST_ASSERT_EQUAL_INT(EDC_ERR_INCOMPLETE, ret);
  }
  TEST_ASSERT_EQUAL_INT(0, ret);
  TEST_ASSERT_EQUAL_size_t(18, r.body_len);
  TEST_ASSERT_EQUAL_MEMORY("MIIB\r\nabcd\r\nEFGH\r\n", r.body, 18);
}

static void test_202_with_retry_after_means_retry_later(void) {
  edc_http_response_t r;
  TEST_ASSERT_EQUAL_INT(
      0, parse("HTTP/1.1 202 Accepted\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(202, r.status);
  TEST_ASSERT_TRUE(r.has_retry_after);
  TEST_ASSERT_EQUAL_UINT32(120, r.retry_after_s);
  TEST_ASSERT_EQUAL_INT(EDC_ERR_RETRY_LATER, edc_http_status_to_error(&r));
}

static void test_maps_error_statuses(void) {
  edc_http_response_t r;
  TEST_ASSERT_EQUAL_INT(0, parse("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic "
                                 "realm=\"est\"\r\nContent-Length: 0\r\n\r\n",
                                 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNAUTHORIZED, edc_http_status_to_error(&r));
  TEST_ASSERT_EQUAL_INT(0, parse("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_REJECTED, edc_http_status_to_error(&r));
  TEST_ASSERT_EQUAL_INT(
      0, parse("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_SERVER, edc_http_status_to_error(&r));
  TEST_ASSERT_EQUAL_INT(
      0, parse("HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_RETRY_LATER, edc_http_status_to_error(&r));
  TEST_ASSERT_EQUAL_UINT32(30, r.retry_after_s);
  TEST_ASSERT_EQUAL_INT(0, parse("HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_HTTP, edc_http_status_to_error(&r));
}

static void test_body_until_close_needs_eof(void) {
  edc_http_response_t r;
  static const char msg[] = "HTTP/1.0 200 OK\r\n\r\nabc";
  TEST_ASSERT_EQUAL_INT(EDC_ERR_INCOMPLETE, parse(msg, 0, &r));
  TEST_ASSERT_EQUAL_INT(0, parse(msg, 1, &r));
  TEST_ASSERT_EQUAL_size_t(3, r.body_len);
}

static void test_rejects_malformed_responses(void) {
  edc_http_response_t r;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, parse("HTTP/1.1 2x0 OK\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, parse("HTTP/2 200 OK\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED, parse("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED,
                        parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_MALFORMED,
      parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0, &r));
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_MALFORMED,
      parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_MALFORMED,
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_MALFORMED,
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED,
                        parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, &r));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED,
                        parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 1, &r));
}

static void test_rejects_endless_header_block(void) {
  edc_http_response_t r;
  memset(g_buf, 'a', sizeof(g_buf));
  memcpy(g_buf, "HTTP/1.1 200 OK\r\nX: ", 20);
  TEST_ASSERT_EQUAL_INT(
      EDC_HTTP_MAX_HEADER < sizeof(g_buf) ? EDC_ERR_BUFFER_TOO_SMALL : EDC_ERR_INCOMPLETE,
      edc_http_response_parse(g_buf, sizeof(g_buf), 0, &r));
}

static void test_writes_post_with_basic_auth(void) {
  char buf[400];
  size_t n = 0, need = 0;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_BUFFER_TOO_SMALL,
                        edc_http_request_write(buf, 40, &need, "POST", "est.example", 8443,
                                               "/.well-known/est/lbl/simpleenroll",
                                               "application/pkcs10", 10, "user:pass"));
  TEST_ASSERT_EQUAL_INT(0, edc_http_request_write(buf, need, &n, "POST", "est.example", 8443,
                                                  "/.well-known/est/lbl/simpleenroll",
                                                  "application/pkcs10", 10, "user:pass"));
  TEST_ASSERT_EQUAL_size_t(need - 1, n);
  TEST_ASSERT_EQUAL_size_t(strlen(buf), n);
  TEST_ASSERT_EQUAL_MEMORY(
      "POST /.well-known/est/lbl/simpleenroll HTTP/1.1\r\nHost: est.example:8443\r\n", buf, 71);
  TEST_ASSERT_TRUE(strstr(buf, "\r\nAuthorization: Basic dXNlcjpwYXNz\r\n") != NULL);
  TEST_ASSERT_TRUE(strstr(buf, "\r\nContent-Type: application/pkcs10\r\n") != NULL);
  TEST_ASSERT_TRUE(strstr(buf, "\r\nContent-Length: 10\r\n") != NULL);
  TEST_ASSERT_EQUAL_STRING("\r\n\r\n", buf + n - 4);
}

static void test_writes_get_without_body_headers(void) {
  char buf[300];
  size_t n = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_http_request_write(buf, sizeof(buf), &n, "GET", "10.0.0.1", 443,
                                                  "/.well-known/est/cacerts", NULL, 0, NULL));
  TEST_ASSERT_TRUE(strstr(buf, "Content-Length") == NULL);
  TEST_ASSERT_TRUE(strstr(buf, "Authorization") == NULL);
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_INVALID_ARG,
      edc_http_request_write(buf, sizeof(buf), &n, "GET", "h", 1, "/x\r\nEvil: 1", NULL, 0, NULL));
}

#if EDC_WITH_EST_HTTPS
static void test_builds_est_paths_with_and_without_label(void) {
  char buf[80];
  size_t n;
  TEST_ASSERT_EQUAL_INT(0, edc_https_path(NULL, EDC_EST_CACERTS, buf, sizeof(buf), &n));
  TEST_ASSERT_EQUAL_STRING("/.well-known/est/cacerts", buf);
  TEST_ASSERT_EQUAL_INT(0, edc_https_path("plant-7", EDC_EST_SIMPLEREENROLL, buf, sizeof(buf), &n));
  TEST_ASSERT_EQUAL_STRING("/.well-known/est/plant-7/simplereenroll", buf);
  TEST_ASSERT_EQUAL_INT(EDC_ERR_INVALID_ARG,
                        edc_https_path("a/b", EDC_EST_CACERTS, buf, sizeof(buf), &n));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_BUFFER_TOO_SMALL,
                        edc_https_path(NULL, EDC_EST_SIMPLEENROLL, buf, 10, &n));
  TEST_ASSERT_EQUAL_size_t(strlen("/.well-known/est/simpleenroll") + 1, n);
}
#endif

void ucx_group_http(void) {
  UCX_GROUP("Http");
  RUN_TEST(test_parses_content_length_response);
  RUN_TEST(test_every_prefix_is_incomplete);
  RUN_TEST(test_joins_chunked_body_with_extensions_and_trailer);
  RUN_TEST(test_huge_chunk_size_does_not_wrap);
  RUN_TEST(test_chunked_prefixes_are_incomplete);
  RUN_TEST(test_chunked_response_parsed_while_it_arrives);
  RUN_TEST(test_202_with_retry_after_means_retry_later);
  RUN_TEST(test_maps_error_statuses);
  RUN_TEST(test_body_until_close_needs_eof);
  RUN_TEST(test_rejects_malformed_responses);
  RUN_TEST(test_rejects_endless_header_block);
  RUN_TEST(test_writes_post_with_basic_auth);
  RUN_TEST(test_writes_get_without_body_headers);
#if EDC_WITH_EST_HTTPS
  RUN_TEST(test_builds_est_paths_with_and_without_label);
#endif
}
