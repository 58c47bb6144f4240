/* EST over secure CoAP (RFC 9148): DTLS 1.2 (Mbed TLS) + the CoAP codec of edc_coap.c. */
#include "edc/edc_coaps.h"

#if EDC_WITH_EST_COAPS

#include <string.h>

#include "edc/edc_coap.h"
#include "edc/edc_codec.h"
#include "edc_internal.h"
#include "mbedtls/platform_util.h"

#define ERR_NET_SEND_ (-0x004E)
#define ERR_NET_RECV_ (-0x004C)

/* RFC 9148 3: short resource names under /est. */
static const char *const kCoapOps[] = {"crts", "sen", "sren"};

/* ---- Mbed TLS glue: datagram I/O and the DTLS retransmission timer ---- */
static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
  edc_coaps_t *h = (edc_coaps_t *)ctx;
  int ret = h->port->net_send(h->conn, buf, len);
  return ret < 0 ? ERR_NET_SEND_ : ret;
}

static int bio_recv_timeout(void *ctx, unsigned char *buf, size_t len, uint32_t timeout) {
  edc_coaps_t *h = (edc_coaps_t *)ctx;
  int ret = h->port->net_recv(h->conn, buf, len, timeout ? timeout : h->timeout_ms);
  if (ret == EDC_ERR_TIMEOUT) return MBEDTLS_ERR_SSL_TIMEOUT;
  return ret < 0 ? ERR_NET_RECV_ : ret;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms) {
  edc_coaps_t *h = (edc_coaps_t *)ctx;
  h->timer_int = int_ms;
  h->timer_fin = fin_ms;
  if (fin_ms != 0) h->timer_start = h->port->monotonic_ms(h->port->ctx);
}

static int timer_get(void *ctx) {
  edc_coaps_t *h = (edc_coaps_t *)ctx;
  uint64_t el;
  if (h->timer_fin == 0) return -1;
  el = h->port->monotonic_ms(h->port->ctx) - h->timer_start;
  if (el >= h->timer_fin) return 2;
  if (el >= h->timer_int) return 1;
  return 0;
}

int edc_coaps_init(edc_coaps_t *h, const edc_port_t *port, mbedtls_ctr_drbg_context *drbg,
                   const char *host, uint16_t udp_port, const char *label, uint32_t timeout_ms,
                   unsigned szx, unsigned char *io, size_t io_size) {
  if (h == NULL || port == NULL || drbg == NULL || host == NULL || io == NULL || szx > 6 ||
      port->net_connect == NULL || port->net_send == NULL || port->net_recv == NULL ||
      port->monotonic_ms == NULL || io_size < 2 * ((16u << szx) + 64))
    return EDC_ERR_INVALID_ARG;
  if (label != NULL && (label[0] == '\0' || strchr(label, '/') != NULL)) return EDC_ERR_INVALID_ARG;
  memset(h, 0, sizeof(*h));
  h->port = port;
  h->drbg = drbg;
  h->host = host;
  h->udp_port = udp_port;
  h->label = label;
  h->timeout_ms = timeout_ms ? timeout_ms : 30000;
  h->szx = szx;
  h->io = io;
  h->io_size = io_size;
  mbedtls_ssl_config_init(&h->conf);
  mbedtls_ssl_init(&h->ssl);
  return EDC_OK;
}

static void coaps_close(void *self) {
  edc_coaps_t *h = (edc_coaps_t *)self;
  if (h == NULL) return;
  if (h->open) (void)mbedtls_ssl_close_notify(&h->ssl);
  if (h->conn != NULL && h->port->net_close != NULL) h->port->net_close(h->conn);
  h->conn = NULL;
  h->open = 0;
  mbedtls_ssl_free(&h->ssl);
  mbedtls_ssl_config_free(&h->conf);
  mbedtls_ssl_config_init(&h->conf);
  mbedtls_ssl_init(&h->ssl);
}

void edc_coaps_free(edc_coaps_t *h) {
  if (h == NULL) return;
  coaps_close(h);
  mbedtls_ssl_free(&h->ssl);
  mbedtls_ssl_config_free(&h->conf);
  mbedtls_platform_zeroize(h, sizeof(*h));
}

static int coaps_open(void *self, const edc_est_auth_t *auth) {
  edc_coaps_t *h = (edc_coaps_t *)self;
  int ret, is_ip;
  if (h == NULL || auth == NULL) return EDC_ERR_INVALID_ARG;
  if (auth->basic != NULL) return EDC_ERR_UNSUPPORTED; /* EST-coaps has no HTTP Basic */
  coaps_close(h);
  if (mbedtls_ssl_config_defaults(&h->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0)
    return EDC_ERR_TLS;
  mbedtls_ssl_conf_min_version(&h->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_rng(&h->conf, mbedtls_ctr_drbg_random, h->drbg);
  mbedtls_ssl_conf_read_timeout(&h->conf, h->timeout_ms);
  mbedtls_ssl_conf_handshake_timeout(&h->conf, 1000, h->timeout_ms);
  if (auth->trust != NULL) {
    mbedtls_ssl_conf_ca_chain(&h->conf, auth->trust, NULL);
    mbedtls_ssl_conf_authmode(&h->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  } else {
    mbedtls_ssl_conf_authmode(&h->conf, MBEDTLS_SSL_VERIFY_OPTIONAL); /* RFC 7030 4.1.1 */
  }
  if (auth->cert != NULL && auth->key != NULL &&
      mbedtls_ssl_conf_own_cert(&h->conf, auth->cert, auth->key) != 0)
    return EDC_ERR_TLS;
  if (mbedtls_ssl_setup(&h->ssl, &h->conf) != 0) return EDC_ERR_ALLOC;
  /* SNI and name check; for an IPv4 literal the iPAddress SAN is checked after the handshake */
  {
    unsigned char ip[4];
    is_ip = edc_parse_ipv4(h->host, ip);
    if (mbedtls_ssl_set_hostname(&h->ssl, is_ip ? NULL : h->host) != 0) return EDC_ERR_ALLOC;
  }
  ret = h->port->net_connect(h->port->ctx, h->host, h->udp_port, 1, h->timeout_ms, &h->conn);
  if (ret != 0) return ret;
  mbedtls_ssl_set_bio(&h->ssl, h, bio_send, NULL, bio_recv_timeout);
  mbedtls_ssl_set_timer_cb(&h->ssl, h, timer_set, timer_get);
  while ((ret = mbedtls_ssl_handshake(&h->ssl)) != 0) {
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    coaps_close(h);
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT) return EDC_ERR_TIMEOUT;
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) return EDC_ERR_UNTRUSTED;
    return (ret == ERR_NET_RECV_ || ret == ERR_NET_SEND_) ? EDC_ERR_NET : EDC_ERR_TLS;
  }
  if (auth->trust != NULL && is_ip) {
    unsigned char ip[4];
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&h->ssl);
    (void)edc_parse_ipv4(h->host, ip);
    if (peer == NULL || edc_check_ip_san(peer, ip) != 0) {
      coaps_close(h);
      return EDC_ERR_UNTRUSTED;
    }
  }
  {
    uint16_t r = 0;
    (void)mbedtls_ctr_drbg_random(h->drbg, (unsigned char *)&r, sizeof(r));
    h->mid = r;
  }
  h->open = 1;
  return EDC_OK;
}

static int coaps_binding(void *self, unsigned char *out, size_t size, size_t *olen) {
  edc_coaps_t *h = (edc_coaps_t *)self;
  if (h == NULL || out == NULL || olen == NULL || !h->open) return EDC_ERR_INVALID_ARG;
#if defined(MBEDTLS_SSL_RENEGOTIATION)
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

static int coaps_verify_peer(void *self, const mbedtls_x509_crt *trust) {
  edc_coaps_t *h = (edc_coaps_t *)self;
  if (h == NULL || trust == NULL || !h->open) return EDC_ERR_INVALID_ARG;
  return edc_verify_peer_cert(mbedtls_ssl_get_peer_cert(&h->ssl), trust, h->host);
}

/* Send one confirmable request and wait for its response (piggybacked on the ACK, or a
 * separate one after an empty ACK), retransmitting with exponential backoff (RFC 7252 4.2).
 * The response is parsed into @p resp; its payload points into h->io + half. */
static int coap_transact(edc_coaps_t *h, const unsigned char *req, size_t req_len,
                         const edc_coap_msg_t *sent, edc_coap_msg_t *resp) {
  unsigned char *rx = h->io + h->io_size / 2;
  size_t rx_size = h->io_size / 2;
  uint32_t timeout;
  int attempt, acked = 0;
  {
    uint8_t r = 0;
    (void)mbedtls_ctr_drbg_random(h->drbg, &r, 1);
    timeout = EDC_COAP_ACK_TIMEOUT_MS +
              (EDC_COAP_ACK_TIMEOUT_MS / 2) * r / 255u; /* ACK_RANDOM_FACTOR 1.5 */
  }
  for (attempt = 0; attempt <= EDC_COAP_MAX_RETRANSMIT; attempt++) {
    uint64_t start;
    int ret;
    if (!acked) {
      ret = mbedtls_ssl_write(&h->ssl, req, req_len);
      if (ret < 0) return EDC_ERR_NET;
    }
    start = h->port->monotonic_ms(h->port->ctx);
    for (;;) {
      uint64_t el = h->port->monotonic_ms(h->port->ctx) - start;
      uint32_t wait = acked ? h->timeout_ms : timeout;
      if (el >= wait) break;
      mbedtls_ssl_conf_read_timeout(&h->conf, (uint32_t)(wait - el));
      ret = mbedtls_ssl_read(&h->ssl, rx, rx_size);
      if (ret == MBEDTLS_ERR_SSL_TIMEOUT) break;
      if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (ret <= 0) return ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? EDC_ERR_NET : EDC_ERR_TLS;
      if (edc_coap_parse(rx, (size_t)ret, resp) != 0) continue; /* not ours to judge: drop */
      if ((resp->type == EDC_COAP_ACK || resp->type == EDC_COAP_RST) && resp->mid == sent->mid) {
        if (resp->type == EDC_COAP_RST) return EDC_ERR_REJECTED;
        if (resp->code == 0) { /* empty ACK: the response comes separately */
          acked = 1;
          start = h->port->monotonic_ms(h->port->ctx);
          continue;
        }
        if (resp->token_len == sent->token_len &&
            memcmp(resp->token, sent->token, sent->token_len) == 0)
          return EDC_OK;
        continue;
      }
      if (resp->code != 0 && resp->token_len == sent->token_len &&
          memcmp(resp->token, sent->token, sent->token_len) == 0 &&
          (resp->type == EDC_COAP_CON || resp->type == EDC_COAP_NON)) {
        if (resp->type == EDC_COAP_CON) { /* acknowledge the separate response */
          unsigned char ack[4];
          ack[0] = 0x60; /* version 1, ACK, no token */
          ack[1] = 0;
          ack[2] = (unsigned char)(resp->mid >> 8);
          ack[3] = (unsigned char)resp->mid;
          (void)mbedtls_ssl_write(&h->ssl, ack, sizeof(ack));
        }
        return EDC_OK;
      }
    }
    if (acked) return EDC_ERR_TIMEOUT;
    timeout *= 2;
  }
  return EDC_ERR_TIMEOUT;
}

static int map_code(const edc_coap_msg_t *r, uint32_t *retry_after_s) {
  unsigned cls = r->code >> 5;
  if (cls == 2) return EDC_OK;
  if (r->code == EDC_COAP_CODE(5, 3)) {
    /* RFC 9148 5: 5.03 with Max-Age says when to try again */
    const edc_coap_option_t *ma = edc_coap_find(r, EDC_COAP_OPT_MAX_AGE);
    uint32_t v = 60; /* RFC 7252 5.10.5 default */
    if (ma != NULL) (void)edc_coap_get_uint(ma, &v);
    if (retry_after_s) *retry_after_s = v;
    return EDC_ERR_RETRY_LATER;
  }
  if (r->code == EDC_COAP_CODE(4, 1) || r->code == EDC_COAP_CODE(4, 3)) return EDC_ERR_UNAUTHORIZED;
  if (cls == 4) return EDC_ERR_REJECTED;
  if (cls == 5) return EDC_ERR_SERVER;
  return EDC_ERR_HTTP;
}

static int coaps_exchange(void *self, edc_est_op_t op, const unsigned char *req, size_t req_len,
                          unsigned char *resp, size_t resp_size, size_t *resp_len,
                          uint32_t *retry_after_s) {
  edc_coaps_t *h = (edc_coaps_t *)self;
  unsigned char token[4];
  size_t bs, sent = 0, got = 0, n;
  uint32_t block2 = 0;
  uint16_t cf = 0;
  int post, ret;
  edc_coap_msg_t m, r;
  if (h == NULL || resp == NULL || resp_len == NULL || !h->open || (unsigned)op > 2)
    return EDC_ERR_INVALID_ARG;
  if (retry_after_s) *retry_after_s = 0;
  post = op != EDC_EST_CACERTS;
  bs = 16u << h->szx;
  (void)mbedtls_ctr_drbg_random(h->drbg, token, sizeof(token));
  for (;;) {
    edc_coap_block_t b1, b2;
    int more_up = post && sent + bs < req_len;
    edc_coap_msg_init(&m, EDC_COAP_CON, post ? EDC_COAP_POST : EDC_COAP_GET, ++h->mid, token,
                      sizeof(token));
    edc_coap_add_option(&m, EDC_COAP_OPT_URI_PATH, "est", 3);
    if (h->label) edc_coap_add_option(&m, EDC_COAP_OPT_URI_PATH, h->label, strlen(h->label));
    edc_coap_add_option(&m, EDC_COAP_OPT_URI_PATH, kCoapOps[op], strlen(kCoapOps[op]));
    edc_coap_add_uint(&m, EDC_COAP_OPT_ACCEPT, EDC_COAP_CF_PKCS7_CERTS);
    if (post && block2 == 0) {
      /* upload (next) request block */
      edc_coap_add_uint(&m, EDC_COAP_OPT_CONTENT_FORMAT, EDC_COAP_CF_PKCS10);
      if (req_len > bs) {
        b1.num = (uint32_t)(sent / bs);
        b1.more = more_up;
        b1.szx = h->szx;
        edc_coap_add_block(&m, EDC_COAP_OPT_BLOCK1, &b1);
        if (sent == 0) edc_coap_add_uint(&m, EDC_COAP_OPT_SIZE1, (uint32_t)req_len);
      }
      m.payload = req + sent;
      m.payload_len = more_up ? bs : req_len - sent;
    }
    if (block2 == 0 && !more_up) {
      /* RFC 7959 2.4 early negotiation: answer in blocks no larger than ours */
      b2.num = 0;
      b2.more = 0;
      b2.szx = h->szx;
      edc_coap_add_block(&m, EDC_COAP_OPT_BLOCK2, &b2);
    } else if (block2 > 0) {
      /* RFC 7959 2.4: ask for the next response block (POSTs carry no payload, as libcoap) */
      b2.num = block2;
      b2.more = 0;
      b2.szx = h->szx;
      edc_coap_add_block(&m, EDC_COAP_OPT_BLOCK2, &b2);
    }
    ret = edc_coap_write(&m, h->io, h->io_size / 2, &n);
    if (ret != 0) return ret;
    if ((ret = coap_transact(h, h->io, n, &m, &r)) != 0) return ret;
    if (more_up && block2 == 0) {
      /* expect 2.31 Continue; the server may ask for smaller blocks */
      const edc_coap_option_t *o = edc_coap_find(&r, EDC_COAP_OPT_BLOCK1);
      if (r.code != EDC_COAP_CODE(2, 31)) {
        ret = map_code(&r, retry_after_s);
        return ret != 0 ? ret : EDC_ERR_HTTP; /* a 2.xx before the last block is a protocol error */
      }
      sent += m.payload_len;
      if (o != NULL && edc_coap_get_block(o, &b1) == 0 && b1.szx < h->szx) {
        h->szx = b1.szx;
        bs = 16u << h->szx;
      }
      continue;
    }
    if ((ret = map_code(&r, retry_after_s)) != 0) return ret;
    if (block2 == 0) {
      const edc_coap_option_t *o = edc_coap_find(&r, EDC_COAP_OPT_CONTENT_FORMAT);
      uint32_t v = 0;
      if (o != NULL && edc_coap_get_uint(o, &v) == 0) cf = (uint16_t)v;
    }
    if (got + r.payload_len > resp_size) {
      *resp_len = got + r.payload_len;
      return EDC_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(resp + got, r.payload, r.payload_len);
    got += r.payload_len;
    {
      const edc_coap_option_t *o = edc_coap_find(&r, EDC_COAP_OPT_BLOCK2);
      if (o != NULL && edc_coap_get_block(o, &b2) == 0 && b2.more) {
        if (b2.szx < h->szx) {
          h->szx = b2.szx;
          bs = 16u << h->szx;
        }
        block2 = (uint32_t)(got / (16u << b2.szx));
        continue;
      }
    }
    break;
  }
  *resp_len = got;
  /* RFC 9148 4.3: a single certificate may come as application/pkix-cert */
  if (cf == EDC_COAP_CF_PKIX_CERT) return edc_pkcs7_wrap_cert(resp, resp_size, got, resp_len);
  return EDC_OK;
}

static const edc_transport_ops_t kCoapsOps = {coaps_open, coaps_binding, coaps_verify_peer,
                                              coaps_exchange, coaps_close};

edc_transport_t edc_coaps_transport(edc_coaps_t *h) {
  edc_transport_t t;
  t.ops = &kCoapsOps;
  t.self = h;
  return t;
}

#endif /* EDC_WITH_EST_COAPS */
