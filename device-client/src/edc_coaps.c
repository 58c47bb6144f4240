/* EST over secure CoAP (RFC 9148): DTLS 1.2 (Mbed TLS) + the CoAP codec of edc_coap.c. */
#include "edc/edc_coaps.h"

#if EDC_WITH_EST_COAPS

#include <string.h>

#include "edc/edc_coap.h"
#include "edc/edc_codec.h"
#include "mbedtls/platform_util.h"

/* RFC 9148 3: short resource names under /est. */
static const char *const kCoapOps[] = {"crts", "sen", "sren"};

int edc_coaps_init(edc_coaps_t *h, const edc_port_t *port, mbedtls_ctr_drbg_context *drbg,
                   const char *host, uint16_t udp_port, const char *label, uint32_t timeout_ms,
                   unsigned szx, unsigned char *io, size_t io_size) {
  int ret;
  if (h == NULL || io == NULL || szx > 6 || io_size < 2 * ((16u << szx) + 64) ||
      (label != NULL && (label[0] == '\0' || strchr(label, '/') != NULL)))
    return EDC_ERR_INVALID_ARG;
  memset(h, 0, sizeof(*h));
  if ((ret = edc_channel_init(&h->ch, port, drbg, host, udp_port, timeout_ms, 1)) != 0) return ret;
  h->label = label;
  h->szx = szx;
  h->io = io;
  h->io_size = io_size;
  return EDC_OK;
}

void edc_coaps_free(edc_coaps_t *h) {
  if (h == NULL) return;
  edc_channel_free(&h->ch);
  mbedtls_platform_zeroize(h, sizeof(*h));
}

static int coaps_open(void *self, const edc_est_auth_t *auth) {
  edc_coaps_t *h = (edc_coaps_t *)self;
  int ret;
  if (h == NULL || auth == NULL) return EDC_ERR_INVALID_ARG;
  if (auth->basic != NULL) return EDC_ERR_UNSUPPORTED; /* EST-coaps has no HTTP Basic */
  if ((ret = edc_channel_open(&h->ch, auth)) != 0) return ret;
  /* RFC 7252 4.4: start message IDs at a random value */
  (void)mbedtls_ctr_drbg_random(h->ch.drbg, (unsigned char *)&h->mid, sizeof(h->mid));
  return EDC_OK;
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
    (void)mbedtls_ctr_drbg_random(h->ch.drbg, &r, 1);
    timeout = EDC_COAP_ACK_TIMEOUT_MS +
              (EDC_COAP_ACK_TIMEOUT_MS / 2) * r / 255u; /* ACK_RANDOM_FACTOR 1.5 */
  }
  for (attempt = 0; attempt <= EDC_COAP_MAX_RETRANSMIT; attempt++) {
    uint64_t start;
    int ret;
    if (!acked) {
      ret = mbedtls_ssl_write(&h->ch.ssl, req, req_len);
      if (ret < 0) return EDC_ERR_NET;
    }
    start = h->ch.port->monotonic_ms(h->ch.port->ctx);
    for (;;) {
      uint64_t el = h->ch.port->monotonic_ms(h->ch.port->ctx) - start;
      uint32_t wait = acked ? h->ch.timeout_ms : timeout;
      if (el >= wait) break;
      mbedtls_ssl_conf_read_timeout(&h->ch.conf, (uint32_t)(wait - el));
      ret = mbedtls_ssl_read(&h->ch.ssl, rx, rx_size);
      if (ret == MBEDTLS_ERR_SSL_TIMEOUT) break;
      if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (ret <= 0) return ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? EDC_ERR_NET : EDC_ERR_TLS;
      if (edc_coap_parse(rx, (size_t)ret, resp) != 0) continue; /* not ours to judge: drop */
      if ((resp->type == EDC_COAP_ACK || resp->type == EDC_COAP_RST) && resp->mid == sent->mid) {
        if (resp->type == EDC_COAP_RST) return EDC_ERR_REJECTED;
        if (resp->code == 0) { /* empty ACK: the response comes separately */
          acked = 1;
          start = h->ch.port->monotonic_ms(h->ch.port->ctx);
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
          (void)mbedtls_ssl_write(&h->ch.ssl, ack, sizeof(ack));
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
  int post, ret;
  edc_coap_msg_t m, r;
  if (h == NULL || resp == NULL || resp_len == NULL || !h->ch.open || (unsigned)op > 2)
    return EDC_ERR_INVALID_ARG;
  if (retry_after_s) *retry_after_s = 0;
  post = op != EDC_EST_CACERTS;
  bs = 16u << h->szx;
  (void)mbedtls_ctr_drbg_random(h->ch.drbg, token, sizeof(token));
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
  /* RFC 9148 4.3: a certs-only PKCS#7 (281), or one certificate as application/pkix-cert
   * (287); the client reads both (edc_certs_parse). */
  *resp_len = got;
  return EDC_OK;
}

static const edc_transport_ops_t kCoapsOps = {
    coaps_open, edc_channel_binding, edc_channel_verify_peer, coaps_exchange, edc_channel_close};

edc_transport_t edc_coaps_transport(edc_coaps_t *h) {
  edc_transport_t t;
  t.ops = &kCoapsOps;
  t.self = h;
  return t;
}

#endif /* EDC_WITH_EST_COAPS */
