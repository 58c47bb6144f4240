/* EST over HTTPS: TLS 1.2 (Mbed TLS) + the minimal HTTP/1.1 client of edc_http.c. */
#include "edc/edc_https.h"

#if EDC_WITH_EST_HTTPS

#include <string.h>

#include "edc/edc_codec.h"
#include "edc/edc_http.h"
#include "mbedtls/platform_util.h"

/* Mbed TLS net_sockets.h code, without needing MBEDTLS_NET_C (the port does the I/O). */
#define MBEDTLS_ERR_NET_RECV_FAILED_ (-0x004C)

static const char *const kOpNames[] = {"cacerts", "simpleenroll", "simplereenroll"};

int edc_https_path(const char *label, edc_est_op_t op, char *buf, size_t size, size_t *olen) {
  const char *parts[5];
  if (olen == NULL || (unsigned)op > EDC_EST_SIMPLEREENROLL) return EDC_ERR_INVALID_ARG;
  if (label != NULL && (label[0] == '\0' || strpbrk(label, "/ ?#\r\n") != NULL))
    return EDC_ERR_INVALID_ARG;
  /* RFC 7030 3.2.2: /.well-known/est/[<label>/]<operation> */
  parts[0] = "/.well-known/est/";
  parts[1] = label ? label : "";
  parts[2] = label ? "/" : "";
  parts[3] = kOpNames[op];
  parts[4] = NULL;
  return edc_str_join(buf, size, olen, parts);
}

int edc_https_init(edc_https_t *h, const edc_port_t *port, mbedtls_ctr_drbg_context *drbg,
                   const char *host, uint16_t tcp_port, const char *label, uint32_t timeout_ms,
                   unsigned char *io, size_t io_size) {
  int ret;
  if (h == NULL || io == NULL || io_size < 512) return EDC_ERR_INVALID_ARG;
  memset(h, 0, sizeof(*h));
  if ((ret = edc_channel_init(&h->ch, port, drbg, host, tcp_port, timeout_ms, 0)) != 0) return ret;
  h->label = label;
  h->io = io;
  h->io_size = io_size;
  return EDC_OK;
}

void edc_https_free(edc_https_t *h) {
  if (h == NULL) return;
  edc_channel_free(&h->ch);
  mbedtls_platform_zeroize(h, sizeof(*h));
}

static int https_open(void *self, const edc_est_auth_t *auth) {
  edc_https_t *h = (edc_https_t *)self;
  int ret;
  if (h == NULL) return EDC_ERR_INVALID_ARG;
  ret = edc_channel_open(&h->ch, auth); /* checks auth */
  if (ret == 0) h->basic = auth->basic;
  return ret;
}

static int ssl_write_all(edc_https_t *h, const unsigned char *p, size_t len) {
  while (len > 0) {
    int ret = mbedtls_ssl_write(&h->ch.ssl, p, len);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (ret <= 0) return ret == MBEDTLS_ERR_SSL_TIMEOUT ? EDC_ERR_TIMEOUT : EDC_ERR_NET;
    p += ret;
    len -= (size_t)ret;
  }
  return 0;
}

static int https_exchange(void *self, edc_est_op_t op, const unsigned char *req, size_t req_len,
                          unsigned char *resp, size_t resp_size, size_t *resp_len,
                          uint32_t *retry_after_s) {
  edc_https_t *h = (edc_https_t *)self;
  char path[96];
  size_t n, b64_len = 0, got = 0, head_len;
  edc_http_response_t r;
  int ret, post, eof = 0;
  /* the client passes its own buffers; only the session state is checked here */
  if (h == NULL || !h->ch.open) return EDC_ERR_INVALID_ARG;
  *retry_after_s = 0;
  post = op != EDC_EST_CACERTS;
  if ((ret = edc_https_path(h->label, op, path, sizeof(path), &n)) != 0) return ret;
  /* io holds: request head, then base64 body; later the response. */
  ret = edc_http_request_write((char *)h->io, h->io_size, &head_len, post ? "POST" : "GET",
                               h->ch.host, h->ch.net_port, path, post ? "application/pkcs10" : NULL,
                               post ? 4 * ((req_len + 2) / 3) : 0, h->basic);
  if (ret != 0) return ret;
  if (post) {
    ret =
        edc_base64_encode((char *)h->io + head_len, h->io_size - head_len, &b64_len, req, req_len);
    if (ret != 0) return ret;
  }
  ret = ssl_write_all(h, h->io, head_len + b64_len);
  mbedtls_platform_zeroize(h->io, head_len); /* may hold the Basic credentials */
  if (ret != 0) return ret;
  /* Read until the response parses completely. */
  for (;;) {
    if (got == h->io_size) return EDC_ERR_BUFFER_TOO_SMALL;
    ret = mbedtls_ssl_read(&h->ch.ssl, h->io + got, h->io_size - got);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
        ret == MBEDTLS_ERR_NET_RECV_FAILED_) {
      eof = 1;
    } else if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
      return EDC_ERR_TIMEOUT;
    } else if (ret < 0) {
      return EDC_ERR_TLS;
    } else {
      got += (size_t)ret;
    }
    ret = edc_http_response_parse(h->io, got, eof, &r);
    if (ret == 0) break;
    if (ret != EDC_ERR_INCOMPLETE) return ret;
    if (eof) return EDC_ERR_HTTP;
  }
  ret = edc_http_status_to_error(&r);
  if (ret == EDC_ERR_RETRY_LATER) *retry_after_s = r.retry_after_s;
  if (ret != 0) return ret;
  /* RFC 7030 4.1.3 / 4.2.3 and RFC 8951: the body is base64 with or without line breaks and
   * with or without Content-Transfer-Encoding. A server that sends raw DER is tolerated. */
  ret = edc_base64_decode(resp, resp_size, resp_len, (const char *)r.body, r.body_len);
  if (ret == EDC_ERR_MALFORMED && !r.cte_base64 && r.body_len > 0 && r.body[0] == 0x30) {
    if (r.body_len > resp_size) {
      *resp_len = r.body_len;
      return EDC_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(resp, r.body, r.body_len);
    *resp_len = r.body_len;
    ret = 0;
  }
  return ret;
}

static const edc_transport_ops_t kHttpsOps = {
    https_open, edc_channel_binding, edc_channel_verify_peer, https_exchange, edc_channel_close};

edc_transport_t edc_https_transport(edc_https_t *h) {
  edc_transport_t t;
  t.ops = &kHttpsOps;
  t.self = h;
  return t;
}

#endif /* EDC_WITH_EST_HTTPS */
