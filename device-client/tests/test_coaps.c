/* EST-coaps (edc_coaps.c) end to end in memory: the client over DTLS 1.2 against an Mbed TLS
 * DTLS server with a small EST-coaps handler (RFC 9148), on an injected clock. Covers Block1
 * uploads, Block2 downloads, application/pkix-cert answers, 5.03 + Max-Age, a lost datagram
 * (retransmission) and a separate response. Runs on the host and on Cortex-M (edc_hw_dtls). */
#include <string.h>

#include "edc/edc_client.h"
#include "edc/edc_coap.h"
#include "edc/edc_coaps.h"
#include "edc/edc_codec.h"
#include "edc_test_vectors.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"
#include "se_double.h"
#include "test_support.h"
#include "unity_compat.h"

/* ---------------- datagram queues and a fake clock ---------------- */
typedef struct dq {
  unsigned char d[48][1500];
  size_t len[48];
  size_t head, tail;
} dq_t;
static dq_t g_c2s, g_s2c;
static uint64_t g_ms;
static int g_drop_next_request, g_dropped;

static void dq_reset(dq_t *q) { q->head = q->tail = 0; }
static int dq_push(dq_t *q, const unsigned char *b, size_t n) {
  if (q->tail - q->head == 48 || n > 1500) return 0;
  memcpy(q->d[q->tail % 48], b, n);
  q->len[q->tail % 48] = n;
  q->tail++;
  return (int)n;
}
static int dq_pop(dq_t *q, unsigned char *b, size_t n) {
  size_t l;
  if (q->head == q->tail) return -1;
  l = q->len[q->head % 48];
  if (l > n) l = n; /* datagram truncated, as UDP does */
  memcpy(b, q->d[q->head % 48], l);
  q->head++;
  return (int)l;
}

/* ---------------- the in-memory EST-coaps server ---------------- */
enum { SRV_NORMAL, SRV_PKIX, SRV_503, SRV_SEPARATE };
static int g_mode;
static mbedtls_ssl_context g_srv;
static mbedtls_ssl_config g_srv_conf;
static mbedtls_x509_crt g_srv_crt;
static mbedtls_pk_context g_srv_key, g_ca_key;
static mbedtls_ctr_drbg_context g_srv_rng;
static uint64_t g_srv_timer_start;
static uint32_t g_srv_int, g_srv_fin;
static unsigned char g_up[1024], g_down[1536];
static size_t g_up_len, g_down_len;
static int g_blocks_up, g_blocks_down, g_requests, g_client_cert;
static char g_last_op[8];
static uint16_t g_srv_mid = 0x7000;

static void srv_timer_set(void *ctx, uint32_t i, uint32_t f) {
  (void)ctx;
  g_srv_int = i;
  g_srv_fin = f;
  g_srv_timer_start = g_ms;
}
static int srv_timer_get(void *ctx) {
  (void)ctx;
  if (g_srv_fin == 0) return -1;
  if (g_ms - g_srv_timer_start >= g_srv_fin) return 2;
  if (g_ms - g_srv_timer_start >= g_srv_int) return 1;
  return 0;
}
static int srv_send(void *ctx, const unsigned char *b, size_t n) {
  (void)ctx;
  return dq_push(&g_s2c, b, n);
}
static int srv_recv(void *ctx, unsigned char *b, size_t n) {
  int r;
  (void)ctx;
  r = dq_pop(&g_c2s, b, n);
  return r < 0 ? MBEDTLS_ERR_SSL_WANT_READ : r;
}

static size_t wrap_p7(const unsigned char *cert, size_t clen, unsigned char *buf, size_t size) {
  memmove(buf, cert, clen);
  return edc_pkcs7_wrap_cert(buf, size, clen, &clen) == 0 ? clen : 0;
}

static size_t issue(const unsigned char *csr_der, size_t csr_len, unsigned char *out, size_t size) {
  mbedtls_x509_csr csr;
  mbedtls_x509write_cert w;
  mbedtls_mpi serial;
  unsigned char der[1200];
  char subject[128];
  static int n_issued;
  int len;
  mbedtls_x509_csr_init(&csr);
  if (mbedtls_x509_csr_parse_der(&csr, csr_der, csr_len) != 0) return 0;
  mbedtls_x509_dn_gets(subject, sizeof(subject), &csr.subject);
  mbedtls_x509write_crt_init(&w);
  mbedtls_mpi_init(&serial);
  mbedtls_mpi_lset(&serial, 5000 + ++n_issued);
  mbedtls_x509write_crt_set_serial(&w, &serial);
  mbedtls_x509write_crt_set_validity(&w, "20260101000000", "20261231000000");
  mbedtls_x509write_crt_set_subject_name(&w, subject);
  mbedtls_x509write_crt_set_issuer_name(&w, "O=edc test,CN=edc test root");
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_issuer_key(&w, &g_ca_key);
  mbedtls_x509write_crt_set_subject_key(&w, &csr.pk);
  len = mbedtls_x509write_crt_der(&w, der, sizeof(der), mbedtls_ctr_drbg_random, &g_srv_rng);
  mbedtls_x509write_crt_free(&w);
  mbedtls_mpi_free(&serial);
  mbedtls_x509_csr_free(&csr);
  if (len <= 0 || (size_t)len > size) return 0;
  memcpy(out, der + sizeof(der) - len, (size_t)len);
  return (size_t)len;
}

static void srv_reply(const edc_coap_msg_t *req, uint8_t code, const edc_coap_msg_t *extra_from,
                      uint16_t cf, const unsigned char *payload, size_t plen, int sep) {
  edc_coap_msg_t r;
  unsigned char out[1400];
  size_t n, i;
  if (sep) { /* empty ACK now, the response later as CON */
    edc_coap_msg_init(&r, EDC_COAP_ACK, 0, req->mid, NULL, 0);
    edc_coap_write(&r, out, sizeof(out), &n);
    mbedtls_ssl_write(&g_srv, out, n);
    edc_coap_msg_init(&r, EDC_COAP_CON, code, ++g_srv_mid, req->token, req->token_len);
  } else {
    edc_coap_msg_init(&r, EDC_COAP_ACK, code, req->mid, req->token, req->token_len);
  }
  if (cf) edc_coap_add_uint(&r, EDC_COAP_OPT_CONTENT_FORMAT, cf);
  if (extra_from)
    for (i = 0; i < extra_from->n_options; i++)
      edc_coap_add_option(&r, extra_from->options[i].number, extra_from->options[i].value,
                          extra_from->options[i].len);
  r.payload = payload;
  r.payload_len = plen;
  edc_coap_write(&r, out, sizeof(out), &n);
  mbedtls_ssl_write(&g_srv, out, n);
}

/* Serve block b2 of g_down with the client's block size. */
static void srv_send_down(const edc_coap_msg_t *req, uint32_t num, unsigned szx, uint16_t cf) {
  edc_coap_msg_t opts;
  edc_coap_block_t b;
  size_t bs = 16u << szx, off = num * bs, n;
  n = off < g_down_len ? g_down_len - off : 0;
  if (n > bs) n = bs;
  edc_coap_msg_init(&opts, 0, 0, 0, NULL, 0);
  if (g_down_len > bs) {
    b.num = num;
    b.more = off + n < g_down_len;
    b.szx = szx;
    edc_coap_add_block(&opts, EDC_COAP_OPT_BLOCK2, &b);
  }
  g_blocks_down++;
  srv_reply(req, EDC_COAP_CODE(2, 5), &opts, cf, g_down + off, n, g_mode == SRV_SEPARATE);
}

static void srv_handle(const unsigned char *dg, size_t len) {
  edc_coap_msg_t req, opts;
  const edc_coap_option_t *o;
  edc_coap_block_t b;
  size_t i;
  const char *op = "";
  if (edc_coap_parse(dg, len, &req) != 0 || req.type != EDC_COAP_CON) return;
  g_requests++;
  for (i = 0; i < req.n_options; i++)
    if (req.options[i].number == EDC_COAP_OPT_URI_PATH && req.options[i].len < sizeof(g_last_op)) {
      memcpy(g_last_op, req.options[i].value, req.options[i].len);
      g_last_op[req.options[i].len] = '\0';
      op = g_last_op;
    }
  if ((o = edc_coap_find(&req, EDC_COAP_OPT_BLOCK2)) != NULL && edc_coap_get_block(o, &b) == 0 &&
      b.num > 0) {
    srv_send_down(&req, b.num, b.szx,
                  g_mode == SRV_PKIX ? EDC_COAP_CF_PKIX_CERT : EDC_COAP_CF_PKCS7_CERTS);
    return;
  }
  if ((o = edc_coap_find(&req, EDC_COAP_OPT_BLOCK1)) != NULL && edc_coap_get_block(o, &b) == 0) {
    size_t bs = 16u << b.szx;
    if (b.num == 0) g_up_len = 0;
    if (b.num * bs + req.payload_len > sizeof(g_up)) return;
    memcpy(g_up + b.num * bs, req.payload, req.payload_len);
    g_up_len = b.num * bs + req.payload_len;
    g_blocks_up++;
    if (b.more) {
      edc_coap_msg_init(&opts, 0, 0, 0, NULL, 0);
      edc_coap_add_block(&opts, EDC_COAP_OPT_BLOCK1, &b);
      srv_reply(&req, EDC_COAP_CODE(2, 31), &opts, 0, NULL, 0, 0);
      return;
    }
  } else if (req.payload_len > 0) {
    memcpy(g_up, req.payload, req.payload_len);
    g_up_len = req.payload_len;
  }
  if (strcmp(op, "crts") == 0) {
    memcpy(g_down, vec_cacerts_p7b, vec_cacerts_p7b_len);
    g_down_len = vec_cacerts_p7b_len;
  } else {
    g_client_cert = mbedtls_ssl_get_peer_cert(&g_srv) != NULL;
    if (g_mode == SRV_503) {
      edc_coap_msg_init(&opts, 0, 0, 0, NULL, 0);
      edc_coap_add_uint(&opts, EDC_COAP_OPT_MAX_AGE, 120);
      srv_reply(&req, EDC_COAP_CODE(5, 3), &opts, 0, NULL, 0, 0);
      return;
    }
    g_down_len = issue(g_up, g_up_len, g_down, sizeof(g_down));
    if (g_mode != SRV_PKIX) g_down_len = wrap_p7(g_down, g_down_len, g_down, sizeof(g_down));
  }
  {
    unsigned szx = 6; /* the client's early Block2 negotiation decides */
    if ((o = edc_coap_find(&req, EDC_COAP_OPT_BLOCK2)) != NULL && edc_coap_get_block(o, &b) == 0)
      szx = b.szx;
    srv_send_down(&req, 0, szx,
                  strcmp(op, "crts") == 0 || g_mode != SRV_PKIX ? EDC_COAP_CF_PKCS7_CERTS
                                                                : EDC_COAP_CF_PKIX_CERT);
  }
}

static void srv_pump(void) {
  unsigned char buf[1500];
  int r;
  if (g_srv.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
    r = mbedtls_ssl_handshake(&g_srv);
    (void)r;
    if (g_srv.state != MBEDTLS_SSL_HANDSHAKE_OVER) return;
  }
  while ((r = mbedtls_ssl_read(&g_srv, buf, sizeof(buf))) > 0) srv_handle(buf, (size_t)r);
}

/* ---------------- client port (UDP only, in memory) ---------------- */
static int64_t g_now = 1767225600LL;
static unsigned char g_slot[EDC_SLOT_COUNT][4096];
static size_t g_slot_len[EDC_SLOT_COUNT];
static int g_sends;

static int64_t wall(void *ctx) {
  (void)ctx;
  return g_now;
}
static uint64_t mono(void *ctx) {
  (void)ctx;
  return g_ms;
}
static int ent(void *ctx, unsigned char *b, size_t n) {
  (void)ctx;
  memset(b, 0x33, n);
  return 0;
}
static int net_connect(void *ctx, const char *host, uint16_t port, int udp, uint32_t t,
                       edc_conn_t **conn) {
  (void)ctx;
  (void)host;
  (void)port;
  (void)t;
  if (!udp) return EDC_ERR_UNSUPPORTED;
  dq_reset(&g_c2s);
  dq_reset(&g_s2c);
  mbedtls_ssl_session_reset(&g_srv);
  *conn = (edc_conn_t *)&g_c2s;
  return 0;
}
static int net_send(edc_conn_t *c, const unsigned char *b, size_t n) {
  (void)c;
  g_sends++;
  /* drop the first application datagram after the handshake, once */
  if (g_drop_next_request && g_srv.state == MBEDTLS_SSL_HANDSHAKE_OVER && b[0] == 23) {
    g_drop_next_request = 0;
    g_dropped++;
    return (int)n;
  }
  return dq_push(&g_c2s, b, n);
}
static int net_recv(edc_conn_t *c, unsigned char *b, size_t n, uint32_t t) {
  int r;
  (void)c;
  if (g_s2c.head == g_s2c.tail) srv_pump();
  r = dq_pop(&g_s2c, b, n);
  if (r < 0) {
    g_ms += t; /* nothing will come: let the (fake) time pass */
    return EDC_ERR_TIMEOUT;
  }
  return r;
}
static void net_close(edc_conn_t *c) { (void)c; }
static int st_read(void *ctx, edc_slot_t s, unsigned char *buf, size_t size, size_t *olen) {
  (void)ctx;
  if (g_slot_len[s] == 0) return EDC_ERR_NOT_FOUND;
  *olen = g_slot_len[s];
  if (size < g_slot_len[s]) return EDC_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, g_slot[s], g_slot_len[s]);
  return 0;
}
static int st_commit(void *ctx, edc_slot_t s, const unsigned char *buf, size_t len) {
  (void)ctx;
  memcpy(g_slot[s], buf, len);
  g_slot_len[s] = len;
  return 0;
}
static const edc_port_t kPort = {NULL, net_connect, net_send, net_recv, net_close, mono,
                                 wall, NULL,        ent,      st_read,  st_commit};

static edc_client_t g_c;
static edc_coaps_t g_h;
static unsigned char g_work[8192], g_io[3072];

static void setup(int mode, unsigned szx) {
  edc_client_config_t cfg;
  g_mode = mode;
  g_ms = 1000;
  g_drop_next_request = 0;
  g_dropped = g_requests = g_blocks_up = g_blocks_down = g_client_cert = g_sends = 0;
  memset(g_slot_len, 0, sizeof(g_slot_len));
  mbedtls_ssl_init(&g_srv);
  mbedtls_ssl_config_init(&g_srv_conf);
  mbedtls_x509_crt_init(&g_srv_crt);
  mbedtls_pk_init(&g_srv_key);
  mbedtls_pk_init(&g_ca_key);
  test_rng_init(&g_srv_rng, 21);
  TEST_ASSERT_EQUAL_INT(0,
                        mbedtls_x509_crt_parse_der(&g_srv_crt, vec_server_der, vec_server_der_len));
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_pk_parse_key(&g_srv_key, vec_server_key_der, vec_server_key_der_len, NULL, 0));
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_pk_parse_key(&g_ca_key, vec_root_key_der, vec_root_key_der_len, NULL, 0));
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_ssl_config_defaults(&g_srv_conf, MBEDTLS_SSL_IS_SERVER,
                                     MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT));
  mbedtls_ssl_conf_rng(&g_srv_conf, mbedtls_ctr_drbg_random, &g_srv_rng);
  mbedtls_ssl_conf_authmode(&g_srv_conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
  mbedtls_ssl_conf_ca_chain(&g_srv_conf, &g_srv_crt, NULL);
  mbedtls_ssl_conf_dtls_cookies(&g_srv_conf, NULL, NULL, NULL);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_conf_own_cert(&g_srv_conf, &g_srv_crt, &g_srv_key));
  TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_setup(&g_srv, &g_srv_conf));
  mbedtls_ssl_set_bio(&g_srv, NULL, srv_send, srv_recv, NULL);
  mbedtls_ssl_set_timer_cb(&g_srv, NULL, srv_timer_set, srv_timer_get);

  edc_client_config_default(&cfg);
  cfg.subject.common_name = "DEMO-0001";
  cfg.have_fingerprint = 1;
  memcpy(cfg.ca_fingerprint, vec_root_sha256, 32);
  TEST_ASSERT_EQUAL_INT(0, edc_client_init(&g_c, &kPort, &cfg, g_work, sizeof(g_work), "coaps"));
  TEST_ASSERT_EQUAL_INT(0, edc_client_set_bootstrap(&g_c, vec_device_der, vec_device_der_len,
                                                    vec_device_key_der, vec_device_key_der_len));
  TEST_ASSERT_EQUAL_INT(0, edc_coaps_init(&g_h, &kPort, edc_client_drbg(&g_c), "est.test", 5684,
                                          NULL, 10000, szx, g_io, sizeof(g_io)));
  edc_client_set_transport(&g_c, edc_coaps_transport(&g_h));
}

static void teardown(void) {
  edc_coaps_free(&g_h);
  edc_client_free(&g_c);
  mbedtls_ssl_free(&g_srv);
  mbedtls_ssl_config_free(&g_srv_conf);
  mbedtls_x509_crt_free(&g_srv_crt);
  mbedtls_pk_free(&g_srv_key);
  mbedtls_pk_free(&g_ca_key);
  mbedtls_ctr_drbg_free(&g_srv_rng);
}

static void test_enrolls_over_dtls_with_block1_upload_and_block2_download(void) {
  int64_t next = 0;
  setup(SRV_NORMAL, 2); /* 64-byte blocks, as coap-client -b 64 */
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_STRING("sen", g_last_op);
  TEST_ASSERT_TRUE(g_client_cert);          /* bootstrap certificate in DTLS */
  TEST_ASSERT_TRUE(g_blocks_up >= 4);       /* a ~250-byte CSR in 64-byte blocks */
  TEST_ASSERT_TRUE(g_blocks_down >= 8 + 6); /* crts (494 B) and the certificate */
  TEST_ASSERT_NOT_NULL(edc_client_operational(&g_c, NULL, NULL));
  TEST_ASSERT_EQUAL_size_t(vec_root_der_len, g_slot_len[EDC_SLOT_CA]);
  /* and a re-enrollment with the operational certificate over /est/sren */
  g_now = next;
  g_client_cert = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_STRING("sren", g_last_op);
  TEST_ASSERT_TRUE(g_client_cert);
  teardown();
}

static void test_accepts_pkix_cert_answers_in_one_block(void) {
  int64_t next = 0;
  setup(SRV_PKIX, 6); /* 1024-byte blocks: no block-wise transfer of the CSR */
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(0, g_blocks_up);
  TEST_ASSERT_NOT_NULL(edc_client_operational(&g_c, NULL, NULL));
  teardown();
}

static void test_503_with_max_age_is_retry_later(void) {
  int64_t next = 0;
  setup(SRV_503, 5);
  TEST_ASSERT_EQUAL_INT(EDC_ERR_RETRY_LATER, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT64(g_now + 120, next);
  TEST_ASSERT_NULL(edc_client_operational(&g_c, NULL, NULL));
  teardown();
}

static void test_retransmits_a_lost_request(void) {
  int64_t next = 0;
  setup(SRV_NORMAL, 5);
  g_drop_next_request = 1;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(1, g_dropped);
  TEST_ASSERT_NOT_NULL(edc_client_operational(&g_c, NULL, NULL));
  teardown();
}

static void test_handles_separate_responses(void) {
  int64_t next = 0;
  setup(SRV_SEPARATE, 5);
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_NOT_NULL(edc_client_operational(&g_c, NULL, NULL));
  teardown();
}

static void test_token_auth_is_refused_on_coaps(void) {
  edc_est_auth_t auth;
  setup(SRV_NORMAL, 5);
  memset(&auth, 0, sizeof(auth));
  auth.basic = "user:pass";
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNSUPPORTED, edc_coaps_transport(&g_h).ops->open(&g_h, &auth));
  teardown();
}

/* Bootstrap key and device key both in secure elements: the bootstrap element signs the DTLS
 * CertificateVerify of /sen, the device element the CSRs and the CertificateVerify of /sren;
 * no private key is stored; and a signature the server cannot verify ends the handshake. */
static void test_secure_element_keys_sign_csr_and_dtls_client_auth(void) {
  static se_double_t boot_se, dev_se;
  static unsigned seed = 77;
  static edc_key_t boot_key, dev_key;
  const mbedtls_x509_crt *op;
  int64_t next = 0;
  setup(SRV_NORMAL, 5);
  TEST_ASSERT_EQUAL_INT(0, se_double_init(&boot_se, vec_device_key_der, vec_device_key_der_len,
                                          test_fixed_entropy, &seed, &boot_key, NULL));
  TEST_ASSERT_EQUAL_INT(
      0, se_double_init(&dev_se, NULL, 0, test_fixed_entropy, &seed, &dev_key, NULL));
  /* the bootstrap certificate must be for the element's key */
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_INVALID_ARG,
      edc_client_set_bootstrap_key(&g_c, vec_server_der, vec_server_der_len, &boot_key));
  TEST_ASSERT_EQUAL_INT(
      0, edc_client_set_bootstrap_key(&g_c, vec_device_der, vec_device_der_len, &boot_key));
  edc_client_set_device_key(&g_c, &dev_key);

  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_STRING("sen", g_last_op);
  TEST_ASSERT_TRUE(g_client_cert);               /* the server verified the CertificateVerify */
  TEST_ASSERT_EQUAL_INT(1, boot_se.signs);       /* ... which the bootstrap element signed */
  TEST_ASSERT_EQUAL_INT(1, dev_se.signs);        /* the CSR */
  op = edc_client_operational(&g_c, NULL, NULL); /* issued for the element's key */
  TEST_ASSERT_NOT_NULL(op);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_ecp_point_cmp(&mbedtls_pk_ec(op->pk)->Q, &dev_se.kp.Q));
  TEST_ASSERT_EQUAL_MEMORY("EDC1\x00", g_slot[EDC_SLOT_OPERATIONAL], 5); /* no private key */

  g_now = next;
  g_client_cert = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_STRING("sren", g_last_op);
  TEST_ASSERT_TRUE(g_client_cert);
  TEST_ASSERT_EQUAL_INT(3, dev_se.signs); /* CertificateVerify with the operational cert + CSR */
  TEST_ASSERT_EQUAL_INT(1, boot_se.signs);

  /* the element now signs with another key than the certified one: the server refuses */
  TEST_ASSERT_EQUAL_INT(0, mbedtls_mpi_add_int(&dev_se.kp.d, &dev_se.kp.d, 1));
  g_now = next;
  g_requests = 0;
  /* (the in-memory DTLS server drops the failed handshake without an alert, so the client's
   * handshake timer runs out) */
  TEST_ASSERT_EQUAL_INT(EDC_ERR_TIMEOUT, edc_client_step(&g_c, &next));
  TEST_ASSERT_TRUE(g_srv.state != MBEDTLS_SSL_HANDSHAKE_OVER);
  TEST_ASSERT_EQUAL_INT(0, g_requests); /* no CSR went out */
  TEST_ASSERT_EQUAL_INT(4, dev_se.signs);
  teardown();
  se_double_free(&boot_se, &boot_key);
  se_double_free(&dev_se, &dev_key);
}

void ucx_group_coaps(void) {
  UCX_GROUP("Coaps");
  RUN_TEST(test_enrolls_over_dtls_with_block1_upload_and_block2_download);
  RUN_TEST(test_accepts_pkix_cert_answers_in_one_block);
  RUN_TEST(test_503_with_max_age_is_retry_later);
  RUN_TEST(test_retransmits_a_lost_request);
  RUN_TEST(test_handles_separate_responses);
  RUN_TEST(test_token_auth_is_refused_on_coaps);
  RUN_TEST(test_secure_element_keys_sign_csr_and_dtls_client_auth);
}
