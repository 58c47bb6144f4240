/* EST over HTTPS: TLS 1.2 (Mbed TLS) + the minimal HTTP/1.1 client of edc_http.c. */
#include "edc/edc_https.h"

#if EDC_WITH_EST_HTTPS

#include <stdio.h>
#include <string.h>

#include "edc/edc_codec.h"
#include "edc/edc_http.h"
#include "edc_internal.h"
#include "mbedtls/platform_util.h"

/* Mbed TLS net_sockets.h codes, without needing MBEDTLS_NET_C (the port does the I/O). */
#define MBEDTLS_ERR_NET_SEND_FAILED_ (-0x004E)
#define MBEDTLS_ERR_NET_RECV_FAILED_ (-0x004C)

static const char *const kOpNames[] = {"cacerts", "simpleenroll", "simplereenroll"};

int edc_https_path(const char *label, edc_est_op_t op, char *buf, size_t size, size_t *olen) {
  int n;
  if (olen == NULL || (unsigned)op > EDC_EST_SIMPLEREENROLL) return EDC_ERR_INVALID_ARG;
  if (label != NULL && (label[0] == '\0' || strpbrk(label, "/ ?#\r\n") != NULL))
    return EDC_ERR_INVALID_ARG;
  /* RFC 7030 3.2.2: /.well-known/est/[<label>/]<operation> */
  n = snprintf(buf, buf ? size : 0, "/.well-known/est/%s%s%s", label ? label : "", label ? "/" : "",
               kOpNames[op]);
  if (n < 0) return EDC_ERR_INVALID_ARG;
  if (buf == NULL || (size_t)n + 1 > size) {
    *olen = (size_t)n + 1;
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  *olen = (size_t)n;
  return EDC_OK;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
  edc_https_t *h = (edc_https_t *)ctx;
  int ret = h->port->net_send(h->conn, buf, len);
  if (ret == EDC_ERR_TIMEOUT) return MBEDTLS_ERR_SSL_TIMEOUT;
  return ret < 0 ? MBEDTLS_ERR_NET_SEND_FAILED_ : ret;
}

static int bio_recv_timeout(void *ctx, unsigned char *buf, size_t len, uint32_t timeout) {
  edc_https_t *h = (edc_https_t *)ctx;
  int ret = h->port->net_recv(h->conn, buf, len, timeout ? timeout : h->timeout_ms);
  if (ret == EDC_ERR_TIMEOUT) return MBEDTLS_ERR_SSL_TIMEOUT;
  return ret < 0 ? MBEDTLS_ERR_NET_RECV_FAILED_ : ret;
}

int edc_https_init(edc_https_t *h, const edc_port_t *port, mbedtls_ctr_drbg_context *drbg,
                   const char *host, uint16_t tcp_port, const char *label, uint32_t timeout_ms,
                   unsigned char *io, size_t io_size) {
  if (h == NULL || port == NULL || drbg == NULL || host == NULL || io == NULL || io_size < 512 ||
      port->net_connect == NULL || port->net_send == NULL || port->net_recv == NULL)
    return EDC_ERR_INVALID_ARG;
  memset(h, 0, sizeof(*h));
  h->port = port;
  h->drbg = drbg;
  h->host = host;
  h->tcp_port = tcp_port;
  h->label = label;
  h->timeout_ms = timeout_ms ? timeout_ms : 30000;
  h->io = io;
  h->io_size = io_size;
  mbedtls_ssl_config_init(&h->conf);
  mbedtls_ssl_init(&h->ssl);
  return EDC_OK;
}

static void https_close(void *self) {
  edc_https_t *h = (edc_https_t *)self;
  if (h == NULL) return;
  if (h->open) (void)mbedtls_ssl_close_notify(&h->ssl);
  if (h->conn != NULL && h->port->net_close != NULL) h->port->net_close(h->conn);
  h->conn = NULL;
  h->open = 0;
  h->basic = NULL;
  mbedtls_ssl_free(&h->ssl);
  mbedtls_ssl_config_free(&h->conf);
  mbedtls_ssl_config_init(&h->conf);
  mbedtls_ssl_init(&h->ssl);
}

void edc_https_free(edc_https_t *h) {
  if (h == NULL) return;
  https_close(h);
  mbedtls_ssl_free(&h->ssl);
  mbedtls_ssl_config_free(&h->conf);
  mbedtls_platform_zeroize(h, sizeof(*h));
}

static int https_open(void *self, const edc_est_auth_t *auth) {
  edc_https_t *h = (edc_https_t *)self;
  unsigned char ip[4];
  int is_ip, ret;
  if (h == NULL || auth == NULL) return EDC_ERR_INVALID_ARG;
  https_close(h);
  is_ip = edc_parse_ipv4(h->host, ip);
  if (mbedtls_ssl_config_defaults(&h->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0)
    return EDC_ERR_TLS;
  mbedtls_ssl_conf_min_version(&h->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_rng(&h->conf, mbedtls_ctr_drbg_random, h->drbg);
  mbedtls_ssl_conf_read_timeout(&h->conf, h->timeout_ms);
  if (auth->trust != NULL) {
    mbedtls_ssl_conf_ca_chain(&h->conf, auth->trust, NULL);
    mbedtls_ssl_conf_authmode(&h->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  } else {
    /* RFC 7030 4.1.1 bootstrap: accept provisionally, verify after /cacerts (verify_peer). */
    mbedtls_ssl_conf_authmode(&h->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
  }
  if (auth->cert != NULL && auth->key != NULL &&
      mbedtls_ssl_conf_own_cert(&h->conf, auth->cert, auth->key) != 0)
    return EDC_ERR_TLS;
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) && defined(EDC_TLS_MAX_FRAG_LEN)
  mbedtls_ssl_conf_max_frag_len(&h->conf, EDC_TLS_MAX_FRAG_LEN);
#endif
  if (mbedtls_ssl_setup(&h->ssl, &h->conf) != 0) return EDC_ERR_ALLOC;
  /* SNI and name check; for an IPv4 literal the name is checked by edc_check_ip_san(). */
  if (mbedtls_ssl_set_hostname(&h->ssl, is_ip ? NULL : h->host) != 0) return EDC_ERR_ALLOC;
  ret = h->port->net_connect(h->port->ctx, h->host, h->tcp_port, 0, h->timeout_ms, &h->conn);
  if (ret != 0) return ret;
  mbedtls_ssl_set_bio(&h->ssl, h, bio_send, NULL, bio_recv_timeout);
  while ((ret = mbedtls_ssl_handshake(&h->ssl)) != 0) {
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    https_close(h);
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT) return EDC_ERR_TIMEOUT;
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) return EDC_ERR_UNTRUSTED;
    return ret == MBEDTLS_ERR_NET_RECV_FAILED_ || ret == MBEDTLS_ERR_NET_SEND_FAILED_ ? EDC_ERR_NET
                                                                                      : EDC_ERR_TLS;
  }
  h->open = 1;
  h->provisional = auth->trust == NULL;
  h->basic = auth->basic;
  if (!h->provisional && is_ip) {
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&h->ssl);
    if (peer == NULL || edc_check_ip_san(peer, ip) != 0) {
      https_close(h);
      return EDC_ERR_UNTRUSTED;
    }
  }
  return EDC_OK;
}

static int https_channel_binding(void *self, unsigned char *out, size_t size, size_t *olen) {
  edc_https_t *h = (edc_https_t *)self;
  if (h == NULL || out == NULL || olen == NULL) return EDC_ERR_INVALID_ARG;
  if (!h->open) return EDC_ERR_INVALID_ARG;
#if defined(MBEDTLS_SSL_RENEGOTIATION)
  /* RFC 5929 3.1: tls-unique is the first Finished message of the latest handshake; on a full
   * handshake (we never resume) that is the client's own Finished. Mbed TLS 2.28 keeps it
   * (for secure renegotiation) in own_verify_data. */
  if (h->ssl.verify_data_len == 0) return EDC_ERR_UNSUPPORTED;
  if (size < h->ssl.verify_data_len) return EDC_ERR_BUFFER_TOO_SMALL;
  memcpy(out, h->ssl.own_verify_data, h->ssl.verify_data_len);
  *olen = h->ssl.verify_data_len;
  return EDC_OK;
#else
  (void)size;
  return EDC_ERR_UNSUPPORTED;
#endif
}

static int https_verify_peer(void *self, const mbedtls_x509_crt *trust) {
  edc_https_t *h = (edc_https_t *)self;
  int ret;
  if (h == NULL || trust == NULL || !h->open) return EDC_ERR_INVALID_ARG;
  ret = edc_verify_peer_cert(mbedtls_ssl_get_peer_cert(&h->ssl), trust, h->host);
  if (ret == 0) h->provisional = 0;
  return ret;
}

static int ssl_write_all(edc_https_t *h, const unsigned char *p, size_t len) {
  while (len > 0) {
    int ret = mbedtls_ssl_write(&h->ssl, p, len);
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
  if (h == NULL || resp == NULL || resp_len == NULL) return EDC_ERR_INVALID_ARG;
  if (!h->open) return EDC_ERR_INVALID_ARG;
  if (retry_after_s) *retry_after_s = 0;
  post = op != EDC_EST_CACERTS;
  if ((ret = edc_https_path(h->label, op, path, sizeof(path), &n)) != 0) return ret;
  /* io holds: request head, then base64 body; later the response. */
  ret = edc_http_request_write((char *)h->io, h->io_size, &head_len, post ? "POST" : "GET", h->host,
                               h->tcp_port, path, post ? "application/pkcs10" : NULL,
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
    ret = mbedtls_ssl_read(&h->ssl, h->io + got, h->io_size - got);
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
  if (ret == EDC_ERR_RETRY_LATER && retry_after_s) *retry_after_s = r.retry_after_s;
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

static const edc_transport_ops_t kHttpsOps = {https_open, https_channel_binding, https_verify_peer,
                                              https_exchange, https_close};

edc_transport_t edc_https_transport(edc_https_t *h) {
  edc_transport_t t;
  t.ops = &kHttpsOps;
  t.self = h;
  return t;
}

#endif /* EDC_WITH_EST_HTTPS */
