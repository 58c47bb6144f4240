/* EST over secure CoAP (RFC 9148): DTLS 1.2 (Mbed TLS) + the CoAP codec of edc_coap.c. */
#include "edc/edc_coaps.h"

#if EDC_WITH_EST_COAPS

#include <string.h>

#include "edc/edc_coap.h"
#include "edc/edc_codec.h"
#include "edc/edc_http.h"
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
  const edc_port_t *port = h->ch.port;
  unsigned char *rx = h->io + h->io_size / 2;
  uint32_t timeout;
  int attempt, acked = 0;
  uint8_t r = 0;
  (void)mbedtls_ctr_drbg_random(h->ch.drbg, &r, 1);
  timeout = EDC_COAP_ACK_TIMEOUT_MS + (EDC_COAP_ACK_TIMEOUT_MS / 2) * r / 255u; /* factor 1.5 */
  for (attempt = 0; attempt <= EDC_COAP_MAX_RETRANSMIT; attempt++, timeout *= 2) {
    uint32_t start; /* ms; differences are right across a 32-bit wrap */
    int ret;
    if (!acked && mbedtls_ssl_write(&h->ch.ssl, req, req_len) < 0) return EDC_ERR_NET;
    start = (uint32_t)port->monotonic_ms(port->ctx);
    for (;;) {
      uint32_t el = (uint32_t)port->monotonic_ms(port->ctx) - start;
      uint32_t wait = acked ? h->ch.timeout_ms : timeout;
      if (el >= wait) break;
      mbedtls_ssl_conf_read_timeout(&h->ch.conf, wait - el);
      ret = mbedtls_ssl_read(&h->ch.ssl, rx, h->io_size / 2);
      if (ret == MBEDTLS_ERR_SSL_TIMEOUT) break;
      if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (ret <= 0) return ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? EDC_ERR_NET : EDC_ERR_TLS;
      if (edc_coap_parse(rx, (size_t)ret, resp) != 0) continue; /* not ours to judge: drop */
      if (resp->type >= EDC_COAP_ACK) {
        if (resp->mid != sent->mid) continue;
        if (resp->type == EDC_COAP_RST) return EDC_ERR_REJECTED;
        if (resp->code == 0) { /* empty ACK: the response comes separately */
          acked = 1;
          start = (uint32_t)port->monotonic_ms(port->ctx);
          continue;
        }
      }
      /* the response: piggybacked on our ACK, or separate (CON or NON) with our token */
      if (resp->code == 0 || resp->token_len != sent->token_len ||
          memcmp(resp->token, sent->token, sent->token_len) != 0)
        continue;
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
    if (acked) break;
  }
  return EDC_ERR_TIMEOUT;
}

static int map_code(const edc_coap_msg_t *r, uint32_t *retry_after_s) {
  if ((r->code >> 5) == 2) return EDC_OK;
  if (r->code == EDC_COAP_CODE(5, 3)) {
    /* RFC 9148 5: 5.03 with Max-Age says when to try again */
    const edc_coap_option_t *ma = edc_coap_find(r, EDC_COAP_OPT_MAX_AGE);
    uint32_t v = 60; /* RFC 7252 5.10.5 default */
    if (ma != NULL) (void)edc_coap_get_uint(ma, &v);
    *retry_after_s = v;
    return EDC_ERR_RETRY_LATER;
  }
  return edc_status_class_to_error(r->code >> 5, r->code & 31);
}

/* The block size exponent a Block1/Block2 option of @p r asks for, if smaller than ours; and
 * its "more" flag. */
static int peer_block(edc_coaps_t *h, const edc_coap_msg_t *r, uint16_t opt) {
  edc_coap_block_t b;
  if (edc_coap_get_block(edc_coap_find(r, opt), &b) != 0) return 0;
  if (b.szx < h->szx) h->szx = b.szx;
  return b.more;
}

static int coaps_exchange(void *self, edc_est_op_t op, const unsigned char *req, size_t req_len,
                          unsigned char *resp, size_t resp_size, size_t *resp_len,
                          uint32_t *retry_after_s) {
  edc_coaps_t *h = (edc_coaps_t *)self;
  unsigned char token[4];
  size_t sent = 0, got = 0, n;
  uint32_t block2 = 0;
  int post, ret;
  edc_coap_msg_t m, r;
  /* the client passes its own buffers; only the session state and op are checked here */
  if (h == NULL || !h->ch.open || (unsigned)op > 2) return EDC_ERR_INVALID_ARG;
  *retry_after_s = 0;
  post = op != EDC_EST_CACERTS;
  (void)mbedtls_ctr_drbg_random(h->ch.drbg, token, sizeof(token));
  for (;;) {
    size_t bs = 16u << h->szx;
    int up = post && block2 == 0, more_up = up && sent + bs < req_len;
    edc_coap_msg_init(&m, EDC_COAP_CON, post ? EDC_COAP_POST : EDC_COAP_GET, ++h->mid, token,
                      sizeof(token));
    edc_coap_add_option(&m, EDC_COAP_OPT_URI_PATH, "est", 3);
    if (h->label) edc_coap_add_option(&m, EDC_COAP_OPT_URI_PATH, h->label, strlen(h->label));
    edc_coap_add_option(&m, EDC_COAP_OPT_URI_PATH, kCoapOps[op], strlen(kCoapOps[op]));
    edc_coap_add_uint(&m, EDC_COAP_OPT_ACCEPT, EDC_COAP_CF_PKCS7_CERTS);
    if (up) {
      /* upload (next) request block */
      edc_coap_add_uint(&m, EDC_COAP_OPT_CONTENT_FORMAT, EDC_COAP_CF_PKCS10);
      if (req_len > bs) {
        edc_coap_add_uint(&m, EDC_COAP_OPT_BLOCK1,
                          (uint32_t)(sent / bs) << 4 | (more_up ? 8u : 0u) | h->szx);
        if (sent == 0) edc_coap_add_uint(&m, EDC_COAP_OPT_SIZE1, (uint32_t)req_len);
      }
      m.payload = req + sent;
      m.payload_len = more_up ? bs : req_len - sent;
    }
    /* RFC 7959 2.4: with the last request block, ask for response blocks no larger than ours
     * (early negotiation); later, ask for the next one (POSTs carry no payload, as libcoap) */
    if (!more_up) edc_coap_add_uint(&m, EDC_COAP_OPT_BLOCK2, block2 << 4 | h->szx);
    if ((ret = edc_coap_write(&m, h->io, h->io_size / 2, &n)) != 0) return ret;
    if ((ret = coap_transact(h, h->io, n, &m, &r)) != 0) return ret;
    if (more_up) {
      /* expect 2.31 Continue; the server may ask for smaller blocks */
      if (r.code != EDC_COAP_CODE(2, 31)) {
        ret = map_code(&r, retry_after_s);
        return ret != 0 ? ret : EDC_ERR_HTTP; /* a 2.xx before the last block is a protocol error */
      }
      sent += m.payload_len;
      (void)peer_block(h, &r, EDC_COAP_OPT_BLOCK1);
      continue;
    }
    if ((ret = map_code(&r, retry_after_s)) != 0) return ret;
    if (got + r.payload_len > resp_size) {
      *resp_len = got + r.payload_len;
      return EDC_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(resp + got, r.payload, r.payload_len);
    got += r.payload_len;
    if (!peer_block(h, &r, EDC_COAP_OPT_BLOCK2)) break;
    block2 = (uint32_t)(got >> (4 + h->szx));
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
