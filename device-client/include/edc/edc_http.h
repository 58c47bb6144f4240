/**
 * @file edc_http.h
 * The minimal HTTP/1.1 client side EST needs (RFC 7030 3.2 runs over HTTP/1.1): write a
 * request head, and parse a response held in one caller-owned buffer, with a Content-Length,
 * a chunked body, or a body closed by the server.
 */
#ifndef EDC_HTTP_H
#define EDC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "edc/edc_config.h"
#include "edc/edc_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed HTTP response. Pointers point into the parsed buffer. */
typedef struct edc_http_response {
  int status;               /**< e.g. 200 */
  uint32_t retry_after_s;   /**< Retry-After in seconds, 0 if absent */
  int has_retry_after;      /**< 1 if a (delta-seconds) Retry-After was present */
  const char *content_type; /**< value without parameters, or NULL */
  size_t content_type_len;
  int cte_base64;       /**< Content-Transfer-Encoding: base64 present */
  int connection_close; /**< Connection: close present */
  unsigned char *body;  /**< body, de-chunked in place */
  size_t body_len;
  size_t consumed; /**< bytes of the buffer the response occupied */
} edc_http_response_t;

/**
 * Parse the response in buf[0..len). The body of a chunked response is joined in place, so
 * the buffer is modified once the response is complete. @p eof says the peer closed the
 * connection (needed for a body without Content-Length or chunking). Returns 0 when the
 * response is complete, EDC_ERR_INCOMPLETE when more bytes are needed, EDC_ERR_MALFORMED or
 * EDC_ERR_BUFFER_TOO_SMALL (header block over EDC_HTTP_MAX_HEADER) otherwise.
 */
int edc_http_response_parse(unsigned char *buf, size_t len, int eof, edc_http_response_t *out);

/**
 * Map a parsed status to an EDC result: 200 -> 0, 202 -> EDC_ERR_RETRY_LATER,
 * 401/403 -> EDC_ERR_UNAUTHORIZED, other 4xx -> EDC_ERR_REJECTED, 503 with Retry-After ->
 * EDC_ERR_RETRY_LATER, 5xx -> EDC_ERR_SERVER, anything else -> EDC_ERR_HTTP.
 */
int edc_http_status_to_error(const edc_http_response_t *resp);

/**
 * The error of a non-success status, shared by HTTP (class = status / 100, detail = status %
 * 100) and CoAP (class = code >> 5, detail = code & 31), whose EST meanings match: x.01 and
 * x.03 of class 4 -> EDC_ERR_UNAUTHORIZED, other class 4 -> EDC_ERR_REJECTED, class 5 ->
 * EDC_ERR_SERVER, anything else -> EDC_ERR_HTTP.
 */
int edc_status_class_to_error(unsigned cls, unsigned detail);

/**
 * Concatenate the NULL-terminated list of strings @p parts into @p buf, NUL-terminated.
 * *olen gets the length, or the size needed (with the NUL) on EDC_ERR_BUFFER_TOO_SMALL.
 */
int edc_str_join(char *buf, size_t size, size_t *olen, const char *const *parts);

/**
 * Write a request head into @p buf (NUL-terminated). @p content_type and @p auth_basic (the
 * "user:password" pair, base64-encoded here) may be NULL; @p body_len is sent as
 * Content-Length when @p content_type is set. *olen gets the length, or the size needed on
 * EDC_ERR_BUFFER_TOO_SMALL.
 */
int edc_http_request_write(char *buf, size_t size, size_t *olen, const char *method,
                           const char *host, uint16_t port, const char *path,
                           const char *content_type, size_t body_len, const char *auth_basic);

#ifdef __cplusplus
}
#endif
#endif /* EDC_HTTP_H */
