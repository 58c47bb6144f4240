/* The secure channel shared by the transports: TLS 1.2 over TCP (EST over HTTPS) or DTLS 1.2
 * over UDP (EST-coaps), set up once here with one set of trust and server-name rules. */
#include "edc/edc_channel.h"

#include <string.h>

#include "edc/edc_error.h"

/* Mbed TLS net_sockets.h codes, without needing MBEDTLS_NET_C (the port does the I/O). */
#define ERR_NET_SEND_ (-0x004E)
#define ERR_NET_RECV_ (-0x004C)

/* 1 if @p s is a dotted-quad IPv4 literal (fills ip[4]). */
static int parse_ipv4(const char *s, unsigned char ip[4]) {
  int i;
  for (i = 0; i < 4; i++) {
    unsigned v = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) {
      v = v * 10 + (unsigned)(*s++ - '0');
      digits++;
    }
    if (digits == 0 || digits > 3 || v > 255) return 0;
    ip[i] = (unsigned char)v;
    if (i < 3 && *s++ != '.') return 0;
  }
  return *s == '\0';
}

/* 0 if @p crt has an iPAddress SAN equal to @p ip (Mbed TLS 2.28 matches only dNSName). */
static int check_ip_san(const mbedtls_x509_crt *crt, const unsigned char ip[4]) {
  const mbedtls_x509_sequence *san;
  for (san = &crt->subject_alt_names; san != NULL; san = san->next) {
    if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && san->buf.len == 4 &&
        memcmp(san->buf.p, ip, 4) == 0)
      return 0;
  }
  return EDC_ERR_UNTRUSTED;
}

/* Mbed TLS verify callback: the server certificate (depth 0) must carry the host's iPAddress
 * SAN; a mismatch fails the chain like a wrong name. */
static int verify_ip(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
  if (depth == 0 && check_ip_san(crt, ((edc_channel_t *)ctx)->ip) != 0)
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
  return 0;
}

/* ---- Mbed TLS glue: I/O through the port, and the DTLS retransmission timer ---- */
static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
  edc_channel_t *ch = (edc_channel_t *)ctx;
  int ret = ch->port->net_send(ch->conn, buf, len);
  if (ret == EDC_ERR_TIMEOUT) return MBEDTLS_ERR_SSL_TIMEOUT;
  return ret < 0 ? ERR_NET_SEND_ : ret;
}

static int bio_recv_timeout(void *ctx, unsigned char *buf, size_t len, uint32_t timeout) {
  edc_channel_t *ch = (edc_channel_t *)ctx;
  int ret = ch->port->net_recv(ch->conn, buf, len, timeout ? timeout : ch->timeout_ms);
  if (ret == EDC_ERR_TIMEOUT) return MBEDTLS_ERR_SSL_TIMEOUT;
  return ret < 0 ? ERR_NET_RECV_ : ret;
}

#if EDC_WITH_EST_COAPS
static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms) {
  edc_channel_t *ch = (edc_channel_t *)ctx;
  ch->timer_int = int_ms;
  ch->timer_fin = fin_ms;
  if (fin_ms != 0) ch->timer_start = (uint32_t)ch->port->monotonic_ms(ch->port->ctx);
}

static int timer_get(void *ctx) {
  edc_channel_t *ch = (edc_channel_t *)ctx;
  uint32_t el;
  if (ch->timer_fin == 0) return -1;
  el = (uint32_t)ch->port->monotonic_ms(ch->port->ctx) - ch->timer_start;
  if (el >= ch->timer_fin) return 2;
  if (el >= ch->timer_int) return 1;
  return 0;
}
#endif

int edc_channel_init(edc_channel_t *ch, const edc_port_t *port, mbedtls_ctr_drbg_context *drbg,
                     const char *host, uint16_t net_port, uint32_t timeout_ms, int datagram) {
  if (ch == NULL || port == NULL || drbg == NULL || host == NULL || port->net_connect == NULL ||
      port->net_send == NULL || port->net_recv == NULL)
    return EDC_ERR_INVALID_ARG;
#if EDC_WITH_EST_COAPS
  if (datagram && port->monotonic_ms == NULL) return EDC_ERR_INVALID_ARG;
#else
  if (datagram) return EDC_ERR_UNSUPPORTED;
#endif
  memset(ch, 0, sizeof(*ch));
  ch->port = port;
  ch->drbg = drbg;
  ch->host = host;
  ch->net_port = net_port;
  ch->timeout_ms = timeout_ms ? timeout_ms : 30000;
  ch->datagram = (uint8_t)(datagram != 0);
  ch->is_ip = (uint8_t)parse_ipv4(host, ch->ip);
  mbedtls_ssl_config_init(&ch->conf);
  mbedtls_ssl_init(&ch->ssl);
  return EDC_OK;
}

void edc_channel_close(void *self) {
  edc_channel_t *ch = (edc_channel_t *)self;
  if (ch == NULL) return;
  if (ch->open) (void)mbedtls_ssl_close_notify(&ch->ssl);
  if (ch->conn != NULL && ch->port->net_close != NULL) ch->port->net_close(ch->conn);
  ch->conn = NULL;
  ch->open = 0;
  mbedtls_ssl_free(&ch->ssl);
  mbedtls_ssl_config_free(&ch->conf);
  mbedtls_ssl_config_init(&ch->conf);
  mbedtls_ssl_init(&ch->ssl);
}

void edc_channel_free(edc_channel_t *ch) {
  if (ch == NULL || ch->port == NULL) return;
  edc_channel_close(ch);
  mbedtls_ssl_free(&ch->ssl);
  mbedtls_ssl_config_free(&ch->conf);
}

int edc_channel_open(edc_channel_t *ch, const edc_est_auth_t *auth) {
  int ret;
  if (ch == NULL || auth == NULL) return EDC_ERR_INVALID_ARG;
  edc_channel_close(ch);
  if (mbedtls_ssl_config_defaults(&ch->conf, MBEDTLS_SSL_IS_CLIENT, ch->datagram,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0)
    return EDC_ERR_TLS;
  mbedtls_ssl_conf_min_version(&ch->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_rng(&ch->conf, mbedtls_ctr_drbg_random, ch->drbg);
  mbedtls_ssl_conf_read_timeout(&ch->conf, ch->timeout_ms);
#if EDC_WITH_EST_COAPS
  mbedtls_ssl_conf_handshake_timeout(&ch->conf, 1000, ch->timeout_ms);
#endif
  /* Without trust: RFC 7030 4.1.1 bootstrap, accepted provisionally and checked by
   * edc_channel_verify_peer() once /cacerts is in. */
  mbedtls_ssl_conf_authmode(
      &ch->conf, auth->trust != NULL ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_OPTIONAL);
  if (auth->trust != NULL) mbedtls_ssl_conf_ca_chain(&ch->conf, auth->trust, NULL);
  /* an IPv4 literal: its iPAddress SAN is checked with the chain, inside the handshake */
  if (ch->is_ip) mbedtls_ssl_conf_verify(&ch->conf, verify_ip, ch);
  if (auth->cert != NULL && auth->key != NULL &&
      mbedtls_ssl_conf_own_cert(&ch->conf, auth->cert, auth->key) != 0)
    return EDC_ERR_TLS;
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) && defined(EDC_TLS_MAX_FRAG_LEN)
  if (!ch->datagram) mbedtls_ssl_conf_max_frag_len(&ch->conf, EDC_TLS_MAX_FRAG_LEN);
#endif
  if (mbedtls_ssl_setup(&ch->ssl, &ch->conf) != 0) return EDC_ERR_ALLOC;
  /* SNI and name check; for an IPv4 literal the iPAddress SAN is checked after the handshake */
  if (mbedtls_ssl_set_hostname(&ch->ssl, ch->is_ip ? NULL : ch->host) != 0) return EDC_ERR_ALLOC;
  ret = ch->port->net_connect(ch->port->ctx, ch->host, ch->net_port, ch->datagram, ch->timeout_ms,
                              &ch->conn);
  if (ret != 0) return ret;
  mbedtls_ssl_set_bio(&ch->ssl, ch, bio_send, NULL, bio_recv_timeout);
#if EDC_WITH_EST_COAPS
  if (ch->datagram) mbedtls_ssl_set_timer_cb(&ch->ssl, ch, timer_set, timer_get);
#endif
  while ((ret = mbedtls_ssl_handshake(&ch->ssl)) != 0) {
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    edc_channel_close(ch);
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT) return EDC_ERR_TIMEOUT;
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) return EDC_ERR_UNTRUSTED;
    return ret == ERR_NET_RECV_ || ret == ERR_NET_SEND_ ? EDC_ERR_NET : EDC_ERR_TLS;
  }
  ch->open = 1;
  return EDC_OK;
}

int edc_channel_binding(void *self, unsigned char *out, size_t size, size_t *olen) {
  edc_channel_t *ch = (edc_channel_t *)self;
  if (ch == NULL || out == NULL || olen == NULL || !ch->open) return EDC_ERR_INVALID_ARG;
#if defined(MBEDTLS_SSL_RENEGOTIATION)
  /* RFC 5929 3.1: tls-unique is the first Finished message of the latest handshake; on a full
   * handshake (we never resume) that is the client's own Finished. Mbed TLS 2.28 keeps it
   * (for secure renegotiation) in own_verify_data. */
  if (ch->ssl.verify_data_len == 0) return EDC_ERR_UNSUPPORTED;
  if (size < ch->ssl.verify_data_len) return EDC_ERR_BUFFER_TOO_SMALL;
  memcpy(out, ch->ssl.own_verify_data, ch->ssl.verify_data_len);
  *olen = ch->ssl.verify_data_len;
  return EDC_OK;
#else
  (void)size;
  return EDC_ERR_UNSUPPORTED;
#endif
}

int edc_channel_verify_peer(void *self, const mbedtls_x509_crt *trust) {
  edc_channel_t *ch = (edc_channel_t *)self;
#if defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE)
  const mbedtls_x509_crt *peer;
  uint32_t flags = 0;
  if (ch == NULL || trust == NULL || !ch->open) return EDC_ERR_INVALID_ARG;
  peer = mbedtls_ssl_get_peer_cert(&ch->ssl);
  if (peer == NULL ||
      mbedtls_x509_crt_verify((mbedtls_x509_crt *)peer, (mbedtls_x509_crt *)trust, NULL,
                              ch->is_ip ? NULL : ch->host, &flags, NULL, NULL) != 0 ||
      (ch->is_ip && check_ip_san(peer, ch->ip) != 0))
    return EDC_ERR_UNTRUSTED;
  return EDC_OK;
#else
  /* Mbed TLS did not keep the server's chain (it costs ~1.3 KB of heap per certificate for the
   * whole session): the server is checked by a second handshake, verified against @p trust with
   * the host name or iPAddress SAN, which replaces the provisional session. */
  edc_est_auth_t a;
  if (ch == NULL || trust == NULL || !ch->open) return EDC_ERR_INVALID_ARG;
  memset(&a, 0, sizeof(a));
  a.trust = (mbedtls_x509_crt *)trust;
  return edc_channel_open(ch, &a);
#endif
}
