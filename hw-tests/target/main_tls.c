/* hw-tests: complete EST enrollments over TLS 1.2 on emulated Cortex-M, against an in-memory
 * EST server (Mbed TLS TLS server + certificate writer) running in the same image:
 *   step 1: /cacerts (provisional TLS, fingerprint pin, then server verified), /simpleenroll
 *           with the bootstrap certificate (client-certificate TLS);
 *   step 2: at the planned renewal time, /simplereenroll with the operational certificate.
 * The server runs on its own stack and its heap use and instructions are booked apart, so the
 * figures printed are the client's alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edc/edc_client.h"
#include "edc/edc_codec.h"
#include "edc/edc_https.h"
#include "edc_test_vectors.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"
#include "platform.h"

#ifndef EDC_ICOUNT_SHIFT
#define EDC_ICOUNT_SHIFT 0
#endif
#define INSN_PER_TICK (40u >> EDC_ICOUNT_SHIFT)
#define NOW0 1767225600LL /* 2026-01-01 */

static int g_fail;
static void expect(int cond, const char *what) {
  if (!cond) {
    printf("FAIL: %s\n", what);
    g_fail = 1;
  }
}

/* ---------------- byte pipes ---------------- */
typedef struct pipe {
  unsigned char buf[8192];
  size_t r, w;
} pipe_t;
static pipe_t g_c2s, g_s2c;
static int pipe_push(pipe_t *p, const unsigned char *b, size_t n) {
  if (p->r == p->w) p->r = p->w = 0;
  if (n > sizeof(p->buf) - p->w) n = sizeof(p->buf) - p->w;
  memcpy(p->buf + p->w, b, n);
  p->w += n;
  return (int)n;
}
static int pipe_pop(pipe_t *p, unsigned char *b, size_t n) {
  if (n > p->w - p->r) n = p->w - p->r;
  memcpy(b, p->buf + p->r, n);
  p->r += n;
  return (int)n;
}

/* ---------------- the in-memory EST server ---------------- */
static mbedtls_ssl_context g_srv;
static mbedtls_ssl_config g_srv_conf;
static mbedtls_x509_crt g_srv_crt;
static mbedtls_pk_context g_srv_key, g_ca_key;
static mbedtls_ctr_drbg_context g_srv_rng;
static unsigned char g_req[3072];
static size_t g_req_len;
static int g_responded, g_serial, g_requests, g_client_cert_seen;
static char g_last_path[64];
static unsigned char g_srv_stack[12 * 1024] __attribute__((aligned(8)));
static uint64_t g_srv_ticks;

static int srv_send(void *ctx, const unsigned char *b, size_t n) {
  (void)ctx;
  return pipe_push(&g_s2c, b, n);
}
static int srv_recv(void *ctx, unsigned char *b, size_t n) {
  (void)ctx;
  if (g_c2s.r == g_c2s.w) return MBEDTLS_ERR_SSL_WANT_READ;
  return pipe_pop(&g_c2s, b, n);
}

static size_t wrap_p7(const unsigned char *cert, size_t clen, unsigned char *buf, size_t size) {
  unsigned char *p = buf + size;
  size_t len = 0, sd;
  static const char oid_sd[] = "\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02";
  static const char oid_data[] = "\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01";
  len += mbedtls_asn1_write_len(&p, buf, 0);
  len += mbedtls_asn1_write_tag(&p, buf, 0x31);
  len += mbedtls_asn1_write_raw_buffer(&p, buf, cert, clen);
  len += mbedtls_asn1_write_len(&p, buf, clen);
  len += mbedtls_asn1_write_tag(&p, buf, 0xa0);
  sd = mbedtls_asn1_write_oid(&p, buf, oid_data, 9);
  sd += mbedtls_asn1_write_len(&p, buf, sd);
  sd += mbedtls_asn1_write_tag(&p, buf, 0x30);
  len += sd;
  len += mbedtls_asn1_write_len(&p, buf, 0);
  len += mbedtls_asn1_write_tag(&p, buf, 0x31);
  len += mbedtls_asn1_write_int(&p, buf, 1);
  len += mbedtls_asn1_write_len(&p, buf, len);
  len += mbedtls_asn1_write_tag(&p, buf, 0x30);
  len += mbedtls_asn1_write_len(&p, buf, len);
  len += mbedtls_asn1_write_tag(&p, buf, 0xa0);
  len += mbedtls_asn1_write_oid(&p, buf, oid_sd, 9);
  len += mbedtls_asn1_write_len(&p, buf, len);
  len += mbedtls_asn1_write_tag(&p, buf, 0x30);
  memmove(buf, p, len);
  return len;
}

static void srv_write_all(const unsigned char *b, size_t n) {
  while (n > 0) {
    int r = mbedtls_ssl_write(&g_srv, b, n);
    if (r <= 0) return;
    b += r;
    n -= (size_t)r;
  }
}

/* Answer the complete request in g_req. */
static void srv_respond(void) {
  static unsigned char der[1400], b64[2000], body[2100];
  static char head[256];
  const char *path = (const char *)g_req + (g_req[0] == 'G' ? 4 : 5);
  const char *sp = strchr(path, ' ');
  size_t plen = sp ? (size_t)(sp - path) : 0, dlen = 0, blen = 0, i, o = 0;
  int chunked;
  g_requests++;
  if (plen >= sizeof(g_last_path)) plen = sizeof(g_last_path) - 1;
  memcpy(g_last_path, path, plen);
  g_last_path[plen] = '\0';
  if (strcmp(g_last_path, "/.well-known/est/cacerts") == 0) {
    memcpy(der, vec_cacerts_p7b, vec_cacerts_p7b_len);
    dlen = vec_cacerts_p7b_len;
  } else {
    const char *body_in = strstr((const char *)g_req, "\r\n\r\n");
    mbedtls_x509_csr csr;
    mbedtls_x509write_cert w;
    mbedtls_mpi serial;
    unsigned char csr_der[600], crt[900];
    size_t csr_len = 0;
    char subject[128];
    int n;
    g_client_cert_seen = mbedtls_ssl_get_peer_cert(&g_srv) != NULL;
    if (body_in == NULL ||
        edc_base64_decode(csr_der, sizeof(csr_der), &csr_len, body_in + 4,
                          g_req_len - (size_t)((const unsigned char *)body_in + 4 - g_req)) != 0)
      return;
    mbedtls_x509_csr_init(&csr);
    if (mbedtls_x509_csr_parse_der(&csr, csr_der, csr_len) != 0) return;
    mbedtls_x509_dn_gets(subject, sizeof(subject), &csr.subject);
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&serial);
    mbedtls_mpi_lset(&serial, 0x1000 + ++g_serial);
    mbedtls_x509write_crt_set_serial(&w, &serial);
    mbedtls_x509write_crt_set_validity(&w, g_serial == 1 ? "20260101000000" : "20260901000000",
                                       g_serial == 1 ? "20261231000000" : "20270901000000");
    mbedtls_x509write_crt_set_subject_name(&w, subject);
    mbedtls_x509write_crt_set_issuer_name(&w, "O=edc test,CN=edc test root");
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_issuer_key(&w, &g_ca_key);
    mbedtls_x509write_crt_set_subject_key(&w, &csr.pk);
    n = mbedtls_x509write_crt_der(&w, crt, sizeof(crt), mbedtls_ctr_drbg_random, &g_srv_rng);
    mbedtls_x509write_crt_free(&w);
    mbedtls_mpi_free(&serial);
    mbedtls_x509_csr_free(&csr);
    if (n <= 0) return;
    dlen = wrap_p7(crt + sizeof(crt) - n, (size_t)n, der, sizeof(der));
  }
  /* base64 in 64-column CRLF lines, as many servers send it */
  edc_base64_encode((char *)b64, sizeof(b64), &blen, der, dlen);
  for (i = 0; i < blen; i += 64) {
    size_t k = blen - i < 64 ? blen - i : 64;
    memcpy(body + o, b64 + i, k);
    o += k;
    body[o++] = '\r';
    body[o++] = '\n';
  }
  chunked = g_requests % 2 == 0; /* alternate Content-Length and chunked responses */
  if (chunked) {
    size_t half = o / 2;
    int h = snprintf(
        head, sizeof(head),
        "HTTP/1.1 200 OK\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
        "Content-Transfer-Encoding: base64\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n",
        (unsigned)half);
    srv_write_all((const unsigned char *)head, (size_t)h);
    srv_write_all(body, half);
    h = snprintf(head, sizeof(head), "\r\n%x\r\n", (unsigned)(o - half));
    srv_write_all((const unsigned char *)head, (size_t)h);
    srv_write_all(body + half, o - half);
    srv_write_all((const unsigned char *)"\r\n0\r\n\r\n", 7);
  } else {
    int h =
        snprintf(head, sizeof(head),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/pkcs7-mime\r\nContent-Length: %u\r\n"
                 "Connection: close\r\n\r\n",
                 (unsigned)o);
    srv_write_all((const unsigned char *)head, (size_t)h);
    srv_write_all(body, o);
  }
  g_responded = 1;
}

/* One burst of server work: handshake, then read the request and answer it. */
static void srv_pump(void) {
  int r;
  if (g_srv.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
    r = mbedtls_ssl_handshake(&g_srv);
    if (r != 0 && r != MBEDTLS_ERR_SSL_WANT_READ)
      printf("server handshake: -0x%04x\n", (unsigned)-r);
    if (g_srv.state != MBEDTLS_SSL_HANDSHAKE_OVER) return;
  }
  if (g_responded) return;
  r = mbedtls_ssl_read(&g_srv, g_req + g_req_len, sizeof(g_req) - 1 - g_req_len);
  if (r > 0) {
    const char *hdr_end, *cl;
    g_req_len += (size_t)r;
    g_req[g_req_len] = '\0';
    hdr_end = strstr((const char *)g_req, "\r\n\r\n");
    if (hdr_end == NULL) return;
    cl = strstr((const char *)g_req, "Content-Length: ");
    if (cl != NULL) {
      unsigned long want = 0;
      sscanf(cl + 16, "%lu", &want);
      if (g_req_len < (size_t)(hdr_end + 4 - (const char *)g_req) + want) return;
    }
    srv_respond();
  }
}

/* Run srv_pump on the server's own stack so the client's stack peak stays the client's. */
static volatile int g_in_server;
static void run_server_on_own_stack(void) {
  uint64_t t0 = hw_ticks();
  g_in_server = 1;
  __asm__ volatile(
      "mov r4, sp\n"
      "mov sp, %0\n"
      "blx %1\n"
      "mov sp, r4\n"
      :
      : "r"(g_srv_stack + sizeof(g_srv_stack)), "r"(srv_pump)
      : "r0", "r1", "r2", "r3", "r4", "r12", "lr", "memory", "cc");
  g_in_server = 0;
  g_srv_ticks += hw_ticks() - t0;
}

/* ---------------- the client's port ---------------- */
static int64_t g_now = NOW0;
static int g_connects;

static int64_t wall(void *ctx) {
  (void)ctx;
  return g_now;
}
static int net_connect(void *ctx, const char *host, uint16_t port, int udp, uint32_t t,
                       edc_conn_t **conn) {
  (void)ctx;
  (void)host;
  (void)port;
  (void)t;
  if (udp) return EDC_ERR_UNSUPPORTED;
  g_connects++;
  g_c2s.r = g_c2s.w = g_s2c.r = g_s2c.w = 0;
  g_req_len = 0;
  g_responded = 0;
  g_in_server = 1; /* the server's allocations are not the client's */
  mbedtls_ssl_session_reset(&g_srv);
  g_in_server = 0;
  *conn = (edc_conn_t *)&g_c2s;
  return 0;
}
static int net_send(edc_conn_t *c, const unsigned char *b, size_t n) {
  (void)c;
  return pipe_push(&g_c2s, b, n);
}
static int net_recv(edc_conn_t *c, unsigned char *b, size_t n, uint32_t t) {
  int rounds = 0;
  (void)c;
  (void)t;
  while (g_s2c.r == g_s2c.w && rounds++ < 4) run_server_on_own_stack();
  if (g_s2c.r == g_s2c.w) return g_responded ? 0 : EDC_ERR_TIMEOUT; /* 0: server closed */
  return pipe_pop(&g_s2c, b, n);
}
static void net_close(edc_conn_t *c) { (void)c; }
static const edc_port_t kPort = {NULL, net_connect, net_send,   net_recv,      net_close,      NULL,
                                 wall, NULL,        hw_entropy, hw_store_read, hw_store_commit};

/* Heap booking: allocations made while the server runs are not the client's. */
static size_t g_cli_cur, g_cli_peak;
static void *book_calloc(size_t n, size_t size) {
  size_t total, *p;
  if (size != 0 && n > (size_t)-1 / size) return NULL;
  total = n * size;
  p = (size_t *)calloc(1, total + 8);
  if (p == NULL) return NULL;
  p[0] = total | (g_in_server ? 0x80000000u : 0);
  if (!g_in_server) {
    g_cli_cur += total;
    if (g_cli_cur > g_cli_peak) g_cli_peak = g_cli_cur;
  }
  return p + 2;
}
static void book_free(void *ptr) {
  size_t *p;
  if (ptr == NULL) return;
  p = (size_t *)ptr - 2;
  if (!(p[0] & 0x80000000u)) g_cli_cur -= p[0];
  free(p);
}

/* A measuring decorator around the HTTPS transport: instructions of each TLS handshake. */
static edc_transport_t g_inner;
static int meas_open(void *self, const edc_est_auth_t *auth) {
  uint64_t t0 = hw_ticks(), s0 = g_srv_ticks;
  int ret = g_inner.ops->open(g_inner.self, auth);
  uint64_t ticks = hw_ticks() - t0 - (g_srv_ticks - s0);
  (void)self;
  printf("[measure] handshake (%s) ret=%d client_instructions~%lu\n",
         auth->cert    ? "client certificate"
         : auth->trust ? "server verified"
                       : "provisional",
         ret, (unsigned long)(ticks * INSN_PER_TICK));
  return ret;
}
static int meas_binding(void *self, unsigned char *o, size_t n, size_t *l) {
  (void)self;
  return g_inner.ops->channel_binding(g_inner.self, o, n, l);
}
static int meas_verify(void *self, const mbedtls_x509_crt *t) {
  (void)self;
  return g_inner.ops->verify_peer(g_inner.self, t);
}
static int meas_exchange(void *self, edc_est_op_t op, const unsigned char *req, size_t req_len,
                         unsigned char *resp, size_t resp_size, size_t *resp_len, uint32_t *ra) {
  (void)self;
  return g_inner.ops->exchange(g_inner.self, op, req, req_len, resp, resp_size, resp_len, ra);
}
static void meas_close(void *self) {
  (void)self;
  g_inner.ops->close(g_inner.self);
}
static const edc_transport_ops_t kMeasOps = {meas_open, meas_binding, meas_verify, meas_exchange,
                                             meas_close};

static void server_init(void) {
  mbedtls_ssl_init(&g_srv);
  mbedtls_ssl_config_init(&g_srv_conf);
  mbedtls_x509_crt_init(&g_srv_crt);
  mbedtls_pk_init(&g_srv_key);
  mbedtls_pk_init(&g_ca_key);
  mbedtls_ctr_drbg_init(&g_srv_rng);
  expect(mbedtls_ctr_drbg_seed(&g_srv_rng, hw_entropy, NULL, (const unsigned char *)"srv", 3) == 0,
         "srv rng");
  expect(mbedtls_x509_crt_parse_der(&g_srv_crt, vec_server_der, vec_server_der_len) == 0,
         "server cert");
  expect(mbedtls_pk_parse_key(&g_srv_key, vec_server_key_der, vec_server_key_der_len, NULL, 0) == 0,
         "server key");
  expect(mbedtls_pk_parse_key(&g_ca_key, vec_root_key_der, vec_root_key_der_len, NULL, 0) == 0,
         "ca key");
  expect(mbedtls_ssl_config_defaults(&g_srv_conf, MBEDTLS_SSL_IS_SERVER,
                                     MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) == 0,
         "srv conf");
  mbedtls_ssl_conf_rng(&g_srv_conf, mbedtls_ctr_drbg_random, &g_srv_rng);
  mbedtls_ssl_conf_authmode(&g_srv_conf, MBEDTLS_SSL_VERIFY_OPTIONAL); /* ask for a client cert */
  mbedtls_ssl_conf_ca_chain(&g_srv_conf, &g_srv_crt, NULL);
  expect(mbedtls_ssl_conf_own_cert(&g_srv_conf, &g_srv_crt, &g_srv_key) == 0, "srv own cert");
  expect(mbedtls_ssl_setup(&g_srv, &g_srv_conf) == 0, "srv setup");
  mbedtls_ssl_set_bio(&g_srv, NULL, srv_send, srv_recv, NULL);
}

static void report(const char *what, int ret, uint64_t t0, uint64_t srv0) {
  uint64_t ticks = hw_ticks() - t0 - (g_srv_ticks - srv0);
  printf("[measure] %-22s ret=%d client_instructions~%lu client_stack=%u client_heap_peak=%u\n",
         what, ret, (unsigned long)(ticks * INSN_PER_TICK), (unsigned)hw_stack_peak(),
         (unsigned)g_cli_peak);
}

int main(void) {
  static edc_client_t c;
  static edc_https_t https;
  static unsigned char work[2048], io[2048];
  edc_client_config_t cfg;
  int64_t next = 0, nb = 0, na = 0, na1 = 0;
  uint64_t t0, s0;
  int ret;

  hw_init();
  mbedtls_platform_set_calloc_free(book_calloc, book_free);
  printf("edc TLS enrollment on %s (QEMU %s)\n", EDC_HW_CPU, EDC_HW_MACHINE);
  g_in_server = 1;
  server_init();
  g_in_server = 0;

  edc_client_config_default(&cfg);
  cfg.subject.common_name = "DEMO-0001";
  cfg.subject.serial_number = "DEMO-0001";
  cfg.have_fingerprint = 1;
  memcpy(cfg.ca_fingerprint, vec_root_sha256, 32);
  expect(edc_client_init(&c, &kPort, &cfg, work, sizeof(work), "hw-tls") == 0, "client init");
  expect(edc_client_set_bootstrap(&c, vec_device_der, vec_device_der_len, vec_device_key_der,
                                  vec_device_key_der_len) == 0,
         "bootstrap credentials");
  expect(edc_https_init(&https, &kPort, edc_client_drbg(&c), "est.test", 443, NULL, 1000, io,
                        sizeof(io)) == 0,
         "https init");
  g_inner = edc_https_transport(&https);
  {
    edc_transport_t t;
    t.ops = &kMeasOps;
    t.self = NULL;
    edc_client_set_transport(&c, t);
  }

  /* Step 1: cacerts + simpleenroll (two full handshakes, one with a client certificate). */
  hw_stack_paint();
  g_cli_peak = g_cli_cur;
  t0 = hw_ticks();
  s0 = g_srv_ticks;
  ret = edc_client_step(&c, &next);
  report("cacerts+simpleenroll", ret, t0, s0);
  expect(ret == 0, "first step enrolls");
  expect(g_connects == 2 && g_requests == 2, "two sessions: cacerts, simpleenroll");
  expect(strcmp(g_last_path, "/.well-known/est/simpleenroll") == 0, "simpleenroll path");
  expect(g_client_cert_seen, "bootstrap certificate presented in TLS");
  expect(edc_client_operational(&c, &nb, &na1) != NULL, "operational certificate installed");
  expect(hw_slot_len[EDC_SLOT_OPERATIONAL] > 38 && hw_slot_len[EDC_SLOT_CA] == vec_root_der_len,
         "committed");
  expect(next > NOW0 && next < na1, "renewal planned inside the lifetime");

  /* Step 2: nothing before the renewal time, then simplereenroll with the operational cert. */
  g_now = next - 1;
  ret = edc_client_step(&c, &next);
  expect(ret == 0 && g_connects == 2, "no traffic before the renewal time");
  g_now = next;
  g_client_cert_seen = 0;
  hw_stack_paint();
  g_cli_peak = g_cli_cur;
  t0 = hw_ticks();
  s0 = g_srv_ticks;
  ret = edc_client_step(&c, &next);
  report("simplereenroll", ret, t0, s0);
  expect(ret == 0, "re-enrollment");
  expect(strcmp(g_last_path, "/.well-known/est/simplereenroll") == 0, "simplereenroll path");
  expect(g_client_cert_seen, "operational certificate presented in TLS");
  expect(edc_client_operational(&c, NULL, &na) != NULL && na > na1, "new certificate installed");

  edc_https_free(&https);
  edc_client_free(&c);
  printf("client static RAM: work %u + io %u + edc_client_t %u + edc_https_t %u = %u\n",
         (unsigned)sizeof(work), (unsigned)sizeof(io), (unsigned)sizeof(c), (unsigned)sizeof(https),
         (unsigned)(sizeof(work) + sizeof(io) + sizeof(c) + sizeof(https)));
  printf("client heap in use at exit: %u; server instructions~%lu\n", (unsigned)g_cli_cur,
         (unsigned long)(g_srv_ticks * INSN_PER_TICK));
  expect(g_cli_cur == 0, "no client leak");
  printf("%s\n", g_fail ? "FAIL" : "PASS");
  return g_fail;
}
