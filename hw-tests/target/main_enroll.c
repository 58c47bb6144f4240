/* hw-tests: the complete enrolling image (EST client + HTTPS transport + TLS 1.2 client) and
 * its measurements: instruction counts (SysTick on QEMU's virtual clock, which -icount ties
 * to instructions), peak stack (painted) and peak heap (counting allocator) of key generation,
 * CSR and PKCS#7 parsing, then one scheduler step through the whole client. This image has
 * no network peer; the TLS state machine is exercised by edc_hw_tls (main_tls.c). */
#include <stdio.h>
#include <string.h>

#include "edc/edc_client.h"
#include "edc/edc_coaps.h"
#include "edc/edc_codec.h"
#include "edc/edc_https.h"
#include "edc_test_vectors.h"
#include "platform.h"

/* ns per instruction under "-icount shift=N" is 2^N; SysTick runs on the 25 MHz CPU clock. */
#ifndef EDC_ICOUNT_SHIFT
#define EDC_ICOUNT_SHIFT 0
#endif
#define INSN_PER_TICK (40u >> EDC_ICOUNT_SHIFT)

static unsigned char g_work[2048];
static unsigned char g_io[2048];
static int g_fail;

static int64_t g_now_offset;
static int64_t wall(void *ctx) {
  (void)ctx;
  return 1767225600 + g_now_offset;
}
static uint64_t mono(void *ctx) {
  (void)ctx;
  return hw_ticks() / 25000u;
}
static int net_connect(void *ctx, const char *host, uint16_t port, int udp, uint32_t t,
                       edc_conn_t **conn) {
  (void)ctx;
  (void)host;
  (void)port;
  (void)udp;
  (void)t;
  (void)conn;
  return EDC_ERR_NET; /* no network in this image */
}
static int net_send(edc_conn_t *c, const unsigned char *b, size_t n) {
  (void)c;
  (void)b;
  (void)n;
  return EDC_ERR_NET;
}
static int net_recv(edc_conn_t *c, unsigned char *b, size_t n, uint32_t t) {
  (void)c;
  (void)b;
  (void)n;
  (void)t;
  return EDC_ERR_NET;
}
static void net_close(edc_conn_t *c) { (void)c; }

static const edc_port_t kPort = {NULL, net_connect, net_send,   net_recv,      net_close,      mono,
                                 wall, NULL,        hw_entropy, hw_store_read, hw_store_commit};

typedef struct meas {
  uint64_t t0;
} meas_t;
static void begin(meas_t *m) {
  hw_stack_paint();
  hw_heap_reset_peak();
  m->t0 = hw_ticks();
}
static void end(meas_t *m, const char *what, int ret) {
  uint64_t ticks = hw_ticks() - m->t0;
  printf("[measure] %-12s ret=%d instructions~%lu stack=%u heap_peak=%u\n", what, ret,
         (unsigned long)(ticks * INSN_PER_TICK), (unsigned)hw_stack_peak(),
         (unsigned)hw_heap_peak());
}

static void expect(int cond, const char *what) {
  if (!cond) {
    printf("FAIL: %s\n", what);
    g_fail = 1;
  }
}

int main(void) {
  static edc_client_t c;
  static edc_https_t https;
  edc_client_config_t cfg;
  edc_key_t key;
  edc_csr_subject_t subj = {NULL, NULL, "DEMO-0001", "DEMO-0001", NULL, 0};
  edc_pkcs7_certs_t certs;
  size_t len = 0;
  int64_t next = 0;
  meas_t m;
  int ret;

  hw_init();
  printf("edc enrolling image on %s (QEMU %s)\n", EDC_HW_CPU, EDC_HW_MACHINE);
  edc_client_config_default(&cfg);
  cfg.subject = subj;
  cfg.have_fingerprint = 1;
  memcpy(cfg.ca_fingerprint, vec_root_sha256, 32);
  ret = edc_client_init(&c, &kPort, &cfg, g_work, sizeof(g_work), "hw");
  expect(ret == 0, "client init");

  edc_key_init(&key);
  begin(&m);
  ret = edc_key_generate(&key, mbedtls_ctr_drbg_random, edc_client_drbg(&c));
  end(&m, "keygen", ret);
  expect(ret == 0, "keygen");

  begin(&m);
  ret = edc_csr_write_der(&key, &subj, NULL, g_work, 512, &len, mbedtls_ctr_drbg_random,
                          edc_client_drbg(&c));
  end(&m, "csr", ret);
  expect(ret == 0 && len > 200, "csr");
  edc_key_free(&key);

  begin(&m);
  ret = edc_pkcs7_parse_certs(vec_chain3_p7b, vec_chain3_p7b_len, &certs);
  if (ret == 0) {
    mbedtls_x509_crt chain;
    size_t iter = 0, clen;
    const unsigned char *cert;
    mbedtls_x509_crt_init(&chain);
    while (ret == 0 && edc_pkcs7_next_cert(&certs, &iter, &cert, &clen) == 0)
      ret = mbedtls_x509_crt_parse_der(&chain, cert, clen);
    mbedtls_x509_crt_free(&chain);
  }
  end(&m, "pkcs7+x509", ret);
  expect(ret == 0 && certs.count == 3, "pkcs7");

  ret = edc_https_init(&https, &kPort, edc_client_drbg(&c), "est.test", 443, NULL, 5000, g_io,
                       sizeof(g_io));
  expect(ret == 0, "https init");
  edc_client_set_transport(&c, edc_https_transport(&https));
  begin(&m);
  ret = edc_client_step(&c, &next);
  end(&m, "step-offline", ret);
  expect(ret == EDC_ERR_NET, "offline step reports the network error");
  expect(next > 1767225600 && next <= 1767225600 + 60, "offline step backs off 30-60 s");
  edc_https_free(&https);
#if EDC_WITH_EST_COAPS
  {
    /* The same offline step through the EST-coaps transport (links DTLS and CoAP in). */
    static edc_coaps_t coaps;
    ret = edc_coaps_init(&coaps, &kPort, edc_client_drbg(&c), "est.test", 5684, NULL, 5000, 5, g_io,
                         sizeof(g_io));
    expect(ret == 0, "coaps init");
    edc_client_set_transport(&c, edc_coaps_transport(&coaps));
    g_now_offset += 3600; /* past the backoff of the HTTPS attempt */
    begin(&m);
    ret = edc_client_step(&c, &next);
    end(&m, "step-offline-coaps", ret);
    expect(ret == EDC_ERR_NET, "offline coaps step reports the network error");
    edc_coaps_free(&coaps);
  }
#endif
  edc_client_free(&c);
  printf("heap in use at exit: %u, newlib arena used: %u\n", (unsigned)hw_heap_current(),
         (unsigned)hw_sbrk_used());
  expect(hw_heap_current() == 0, "no leak");
  printf("%s\n", g_fail ? "FAIL" : "PASS");
  return g_fail;
}
