/* The EST client (edc_client.c) against an in-memory EST server and an in-memory port with an
 * injected clock: trust bootstrap, enrollment, scheduled re-enrollment, Retry-After, fallback
 * to the bootstrap certificate, and "never lose a working certificate". Host only: the fake CA
 * uses Mbed TLS's certificate writer. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "edc/edc_client.h"
#include "edc/edc_codec.h"
#include "edc_test_vectors.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"
#include "test_support.h"
#include "unity_compat.h"

#define DAY 86400LL

/* ---------------- in-memory port ---------------- */
typedef struct mem_port {
  edc_port_t port;
  int64_t now;
  unsigned char slot[EDC_SLOT_COUNT][4096];
  size_t slot_len[EDC_SLOT_COUNT];
  int fail_commit;
  int commits;
} mem_port_t;

static int64_t mem_time(void *ctx) { return ((mem_port_t *)ctx)->now; }
static int mem_entropy(void *ctx, unsigned char *b, size_t n) {
  (void)ctx;
  memset(b, 0x5a, n);
  return 0;
}
static int mem_read(void *ctx, edc_slot_t s, unsigned char *buf, size_t size, size_t *olen) {
  mem_port_t *m = (mem_port_t *)ctx;
  if (m->slot_len[s] == 0) return EDC_ERR_NOT_FOUND;
  *olen = m->slot_len[s];
  if (size < m->slot_len[s]) return EDC_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, m->slot[s], m->slot_len[s]);
  return 0;
}
static int mem_commit(void *ctx, edc_slot_t s, const unsigned char *buf, size_t len) {
  mem_port_t *m = (mem_port_t *)ctx;
  if (m->fail_commit || len > sizeof(m->slot[s])) return EDC_ERR_STORAGE;
  memcpy(m->slot[s], buf, len);
  m->slot_len[s] = len;
  m->commits++;
  return 0;
}

/* ---------------- in-memory EST server ---------------- */
typedef enum { SRV_OK, SRV_RETRY, SRV_DOWN, SRV_WRONG_KEY } srv_mode_t;
typedef struct fake_est {
  srv_mode_t mode;
  mem_port_t *clock;
  int64_t lifetime;
  mbedtls_pk_context ca_key;
  mbedtls_x509_crt ca_crt;
  int from_issuing;            /* issue from the issuing CA; /cacerts = issuing + root */
  unsigned char extra_ca[600]; /* a certificate /cacerts adds to its set (a man in the middle) */
  size_t extra_ca_len;
  mbedtls_pk_context issuing_key;
  mbedtls_x509_crt issuing_crt;
  mbedtls_ctr_drbg_context rng;
  const mbedtls_x509_crt *last_client_cert;
  const char *last_basic;
  int last_op;
  int opens, exchanges, serial;
  char last_subject[128];
  char last_challenge[64];
} fake_est_t;

static int fe_open(void *self, const edc_est_auth_t *auth) {
  fake_est_t *f = (fake_est_t *)self;
  f->opens++;
  if (f->mode == SRV_DOWN) return EDC_ERR_NET;
  f->last_client_cert = auth->cert;
  f->last_basic = auth->basic;
  return 0;
}
static int fe_binding(void *self, unsigned char *out, size_t size, size_t *olen) {
  (void)self;
  if (size < 12) return EDC_ERR_BUFFER_TOO_SMALL;
  memcpy(out, "tls-unique!!", 12);
  *olen = 12;
  return 0;
}
static int fe_verify(void *self, const mbedtls_x509_crt *trust) {
  (void)self;
  return trust != NULL ? 0 : EDC_ERR_UNTRUSTED;
}
static void fe_close(void *self) { (void)self; }

static void fmt_time(int64_t t, char out[15]) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

/* certs-only PKCS#7 around one DER certificate */
static size_t wrap_p7(const unsigned char *cert, size_t clen, unsigned char *buf, size_t size) {
  unsigned char *p = buf + size;
  size_t len = 0, sd;
  static const char oid_sd[] = "\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02";
  static const char oid_data[] = "\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01";
  len += mbedtls_asn1_write_len(&p, buf, 0);
  len += mbedtls_asn1_write_tag(&p, buf, 0x31); /* signerInfos */
  len += mbedtls_asn1_write_raw_buffer(&p, buf, cert, clen);
  len += mbedtls_asn1_write_len(&p, buf, clen);
  len += mbedtls_asn1_write_tag(&p, buf, 0xa0); /* certificates */
  sd = mbedtls_asn1_write_oid(&p, buf, oid_data, 9);
  sd += mbedtls_asn1_write_len(&p, buf, sd);
  sd += mbedtls_asn1_write_tag(&p, buf, 0x30); /* encapContentInfo */
  len += sd;
  len += mbedtls_asn1_write_len(&p, buf, 0);
  len += mbedtls_asn1_write_tag(&p, buf, 0x31); /* digestAlgorithms */
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

static int fe_exchange(void *self, edc_est_op_t op, const unsigned char *req, size_t req_len,
                       unsigned char *resp, size_t resp_size, size_t *resp_len, uint32_t *ra) {
  fake_est_t *f = (fake_est_t *)self;
  mbedtls_x509_csr csr;
  mbedtls_x509write_cert w;
  mbedtls_mpi serial;
  unsigned char der[1200];
  char nb[15], na[15];
  int len;
  f->exchanges++;
  f->last_op = (int)op;
  if (op == EDC_EST_CACERTS) {
    if (f->from_issuing || f->extra_ca_len > 0) {
      /* enrolld's shape: the issuing CA and the root; and whatever a man in the middle adds */
      unsigned char set[2048];
      size_t n = 0;
      if (f->from_issuing) {
        memcpy(set, f->issuing_crt.raw.p, f->issuing_crt.raw.len);
        n = f->issuing_crt.raw.len;
      }
      memcpy(set + n, vec_root_der, vec_root_der_len);
      n += vec_root_der_len;
      memcpy(set + n, f->extra_ca, f->extra_ca_len);
      *resp_len = wrap_p7(set, n + f->extra_ca_len, resp, resp_size);
      return 0;
    }
    memcpy(resp, vec_cacerts_p7b, vec_cacerts_p7b_len);
    *resp_len = vec_cacerts_p7b_len;
    return 0;
  }
  if (f->mode == SRV_RETRY) {
    *ra = 600;
    return EDC_ERR_RETRY_LATER;
  }
  mbedtls_x509_csr_init(&csr);
  if (mbedtls_x509_csr_parse_der(&csr, req, req_len) != 0) return EDC_ERR_REJECTED;
  mbedtls_x509_dn_gets(f->last_subject, sizeof(f->last_subject), &csr.subject);
  {
    const unsigned char *c = req, *end = req + req_len;
    f->last_challenge[0] = '\0';
    for (; c + 11 < end; c++)
      if (memcmp(c, "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x07", 11) == 0 && c[13] == 0x13) {
        memcpy(f->last_challenge, c + 15, c[14]);
        f->last_challenge[c[14]] = '\0';
      }
  }
  mbedtls_x509write_crt_init(&w);
  mbedtls_mpi_init(&serial);
  mbedtls_mpi_lset(&serial, ++f->serial + 100);
  mbedtls_x509write_crt_set_serial(&w, &serial);
  fmt_time(f->clock->now, nb);
  fmt_time(f->clock->now + f->lifetime, na);
  mbedtls_x509write_crt_set_validity(&w, nb, na);
  mbedtls_x509write_crt_set_subject_name(&w, "CN=DEMO-0001,serialNumber=DEMO-0001");
  mbedtls_x509write_crt_set_issuer_name(
      &w, f->from_issuing ? "O=edc test,CN=edc test issuing" : "O=edc test,CN=edc test root");
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_issuer_key(&w, f->from_issuing ? &f->issuing_key : &f->ca_key);
  /* SRV_WRONG_KEY: certify the CA's own key instead of the device's */
  mbedtls_x509write_crt_set_subject_key(&w, f->mode == SRV_WRONG_KEY ? &f->ca_key : &csr.pk);
  len = mbedtls_x509write_crt_der(&w, der, sizeof(der), mbedtls_ctr_drbg_random, &f->rng);
  mbedtls_x509write_crt_free(&w);
  mbedtls_mpi_free(&serial);
  mbedtls_x509_csr_free(&csr);
  if (len <= 0) return EDC_ERR_SERVER;
  *resp_len = wrap_p7(der + sizeof(der) - len, (size_t)len, resp, resp_size);
  return 0;
}

static const edc_transport_ops_t kFakeOps = {fe_open, fe_binding, fe_verify, fe_exchange, fe_close};

/* ---------------- fixture ---------------- */
static mem_port_t g_port;
static fake_est_t g_srv;
static edc_client_t g_c;
static unsigned char g_work[8192];

static void setup(int with_boot) {
  edc_client_config_t cfg;
  edc_transport_t tr;
  memset(&g_port, 0, sizeof(g_port));
  g_port.port.ctx = &g_port;
  g_port.port.wall_time_s = mem_time;
  g_port.port.entropy = mem_entropy;
  g_port.port.store_read = mem_read;
  g_port.port.store_commit = mem_commit;
  g_port.now = 1767225600; /* 2026-01-01 */
  memset(&g_srv, 0, sizeof(g_srv));
  g_srv.clock = &g_port;
  g_srv.lifetime = 90 * DAY;
  mbedtls_pk_init(&g_srv.ca_key);
  mbedtls_x509_crt_init(&g_srv.ca_crt);
  mbedtls_pk_init(&g_srv.issuing_key);
  mbedtls_x509_crt_init(&g_srv.issuing_crt);
  test_rng_init(&g_srv.rng, 11);
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_pk_parse_key(&g_srv.ca_key, vec_root_key, vec_root_key_len + 1, NULL, 0));
  TEST_ASSERT_EQUAL_INT(0, mbedtls_pk_parse_key(&g_srv.issuing_key, vec_issuing_key,
                                                vec_issuing_key_len + 1, NULL, 0));
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_x509_crt_parse(&g_srv.issuing_crt, vec_issuing_pem, vec_issuing_pem_len + 1));
  edc_client_config_default(&cfg);
  cfg.have_fingerprint = 1;
  memcpy(cfg.ca_fingerprint, vec_root_sha256, 32);
  cfg.subject.common_name = "DEMO-0001";
  cfg.subject.serial_number = "DEMO-0001";
  TEST_ASSERT_EQUAL_INT(0, edc_client_init(&g_c, &g_port.port, &cfg, g_work, sizeof(g_work), "t"));
  tr.ops = &kFakeOps;
  tr.self = &g_srv;
  edc_client_set_transport(&g_c, tr);
  if (with_boot)
    TEST_ASSERT_EQUAL_INT(0, edc_client_set_bootstrap(&g_c, vec_device_pem, vec_device_pem_len + 1,
                                                      vec_device_key_der, vec_device_key_der_len));
}

static void teardown(void) {
  edc_client_free(&g_c);
  mbedtls_pk_free(&g_srv.ca_key);
  mbedtls_x509_crt_free(&g_srv.ca_crt);
  mbedtls_pk_free(&g_srv.issuing_key);
  mbedtls_x509_crt_free(&g_srv.issuing_crt);
  mbedtls_ctr_drbg_free(&g_srv.rng);
}

static void enroll_first(void) {
  int64_t next = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_TRUE(edc_client_operational(&g_c, NULL, NULL) != NULL);
}

/* ---------------- tests ---------------- */
static void test_cacerts_with_pinned_fingerprint_installs_and_stores_trust(void) {
  setup(1);
  TEST_ASSERT_EQUAL_INT(0, edc_client_cacerts(&g_c));
  TEST_ASSERT_EQUAL_size_t(vec_root_der_len, g_port.slot_len[EDC_SLOT_CA]);
  TEST_ASSERT_EQUAL_MEMORY(vec_root_der, g_port.slot[EDC_SLOT_CA], vec_root_der_len);
  teardown();
}

static void test_cacerts_with_wrong_fingerprint_is_untrusted_and_stores_nothing(void) {
  setup(1);
  g_c.cfg.ca_fingerprint[0] ^= 1;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_cacerts(&g_c));
  TEST_ASSERT_EQUAL_size_t(0, g_port.slot_len[EDC_SLOT_CA]);
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED,
                        edc_client_enroll(&g_c)); /* no CSR to an unverified server */
  teardown();
}

static void test_first_step_enrolls_with_bootstrap_and_commits(void) {
  int64_t nb = 0, na = 0, next = 0;
  const mbedtls_x509_crt *op;
  setup(1);
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(EDC_EST_SIMPLEENROLL, g_srv.last_op);
  TEST_ASSERT_TRUE(g_srv.last_client_cert == &g_c.boot_crt);
  TEST_ASSERT_EQUAL_STRING("CN=DEMO-0001, serialNumber=DEMO-0001", g_srv.last_subject);
  op = edc_client_operational(&g_c, &nb, &na);
  TEST_ASSERT_NOT_NULL(op);
  TEST_ASSERT_EQUAL_INT64(g_port.now, nb);
  TEST_ASSERT_EQUAL_INT64(g_port.now + 90 * DAY, na);
  /* renewal planned at 2/3 of 90 days minus at most 5% jitter */
  TEST_ASSERT_TRUE(next <= nb + 60 * DAY && next >= nb + 60 * DAY - 90 * DAY / 20);
  TEST_ASSERT_TRUE(g_port.slot_len[EDC_SLOT_OPERATIONAL] > 38);
  TEST_ASSERT_EQUAL_MEMORY("EDC1", g_port.slot[EDC_SLOT_OPERATIONAL], 4);
  teardown();
}

static void test_waits_until_renewal_time_then_reenrolls_with_operational_cert(void) {
  int64_t next = 0, na1 = 0, na2 = 0;
  unsigned char old_serial[8];
  setup(1);
  enroll_first();
  edc_client_operational(&g_c, NULL, &na1);
  memcpy(old_serial, g_c.op_crt.serial.p, g_c.op_crt.serial.len);
  g_srv.exchanges = 0;
  g_port.now += 30 * DAY;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(0, g_srv.exchanges); /* nothing due yet */
  g_port.now = next;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(EDC_EST_SIMPLEREENROLL, g_srv.last_op);
  TEST_ASSERT_EQUAL_INT(1, g_srv.exchanges);
  edc_client_operational(&g_c, NULL, &na2);
  TEST_ASSERT_TRUE(na2 > na1);
  TEST_ASSERT_EQUAL_INT(2, g_srv.serial);
  teardown();
}

static void test_retry_after_is_honoured_and_old_certificate_kept(void) {
  int64_t next = 0, na = 0, at;
  size_t stored;
  unsigned char before[4096];
  setup(1);
  enroll_first();
  stored = g_port.slot_len[EDC_SLOT_OPERATIONAL];
  memcpy(before, g_port.slot[EDC_SLOT_OPERATIONAL], stored);
  edc_client_operational(&g_c, NULL, &na);
  g_port.now = g_c.sched.next_s;
  at = g_port.now;
  g_srv.mode = SRV_RETRY;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_RETRY_LATER, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT64(at + 600, next);
  TEST_ASSERT_EQUAL_size_t(stored, g_port.slot_len[EDC_SLOT_OPERATIONAL]);
  TEST_ASSERT_EQUAL_MEMORY(before, g_port.slot[EDC_SLOT_OPERATIONAL], stored);
  TEST_ASSERT_NOT_NULL(edc_client_operational(&g_c, NULL, NULL));
  g_srv.mode = SRV_OK;
  g_port.now = next;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(EDC_EST_SIMPLEREENROLL, g_srv.last_op);
  teardown();
}

static void test_server_down_backs_off_within_bounds(void) {
  int64_t next = 0, now;
  setup(1);
  enroll_first();
  g_port.now = g_c.sched.next_s;
  now = g_port.now;
  g_srv.mode = SRV_DOWN;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_NET, edc_client_step(&g_c, &next));
  TEST_ASSERT_TRUE(next - now >= 30 && next - now <= 60);
  g_port.now = next;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_NET, edc_client_step(&g_c, &next));
  TEST_ASSERT_TRUE(next - g_port.now >= 60 && next - g_port.now <= 120);
  teardown();
}

static void test_failed_commit_keeps_working_certificate(void) {
  int64_t next = 0, na_before = 0, na_after = 0;
  setup(1);
  enroll_first();
  edc_client_operational(&g_c, NULL, &na_before);
  g_port.now = g_c.sched.next_s;
  g_port.fail_commit = 1;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_STORAGE, edc_client_step(&g_c, &next));
  edc_client_operational(&g_c, NULL, &na_after);
  TEST_ASSERT_EQUAL_INT64(na_before, na_after); /* memory still holds the old one */
  teardown();
}

static void test_certificate_for_another_key_is_refused(void) {
  int64_t next = 0;
  setup(1);
  g_srv.mode = SRV_WRONG_KEY;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_size_t(0, g_port.slot_len[EDC_SLOT_OPERATIONAL]);
  TEST_ASSERT_NULL(edc_client_operational(&g_c, NULL, NULL));
  teardown();
}

static void test_expired_operational_falls_back_to_bootstrap(void) {
  int64_t next = 0;
  setup(1);
  enroll_first();
  g_port.now += 91 * DAY; /* the device was off through the whole renewal window */
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(EDC_EST_SIMPLEENROLL, g_srv.last_op);
  TEST_ASSERT_TRUE(g_srv.last_client_cert == &g_c.boot_crt);
  teardown();
}

static void test_restart_loads_committed_state(void) {
  int64_t na1 = 0, na2 = 0;
  edc_client_t c2;
  edc_client_config_t cfg;
  static unsigned char work2[8192];
  setup(1);
  enroll_first();
  edc_client_operational(&g_c, NULL, &na1);
  edc_client_config_default(&cfg);
  TEST_ASSERT_EQUAL_INT(0, edc_client_init(&c2, &g_port.port, &cfg, work2, sizeof(work2), "t2"));
  TEST_ASSERT_EQUAL_INT(0, edc_client_load(&c2));
  TEST_ASSERT_NOT_NULL(edc_client_operational(&c2, NULL, &na2));
  TEST_ASSERT_EQUAL_INT64(na1, na2);
  TEST_ASSERT_TRUE(c2.have_trust);
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_ecp_point_cmp(&mbedtls_pk_ec(c2.op_pk)->Q, &mbedtls_pk_ec(g_c.op_pk)->Q));
  edc_client_free(&c2);
  teardown();
}

static void test_token_enrollment_sends_basic_and_challenge_password(void) {
  int64_t next = 0;
  setup(0);
  g_c.cfg.basic = "DEMO-0001:otp-123";
  g_c.cfg.challenge_password = 1;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_NULL(g_srv.last_client_cert);
  TEST_ASSERT_EQUAL_STRING("DEMO-0001:otp-123", g_srv.last_basic);
  TEST_ASSERT_EQUAL_STRING("dGxzLXVuaXF1ZSEh", g_srv.last_challenge); /* base64("tls-unique!!") */
  teardown();
}

static void test_without_bootstrap_or_token_nothing_is_sent(void) {
  setup(0);
  TEST_ASSERT_EQUAL_INT(0, edc_client_cacerts(&g_c));
  g_srv.exchanges = 0;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_NOT_FOUND, edc_client_enroll(&g_c));
  TEST_ASSERT_EQUAL_INT(0, g_srv.exchanges);
  teardown();
}

/* An explicit trust anchor (the root only, no fingerprint) and a server that answers with the
 * leaf alone, issued by an intermediate: the first step fetches /cacerts over the session
 * authenticated by the anchor, and the issuing CA it brings completes the chain. */
static void test_explicit_anchor_fetches_cacerts_to_complete_a_leaf_only_answer(void) {
  int64_t next = 0;
  setup(1);
  g_c.cfg.have_fingerprint = 0;
  g_srv.from_issuing = 1;
  TEST_ASSERT_EQUAL_INT(0, edc_client_set_trust(&g_c, vec_root_der, vec_root_der_len));
  /* without /cacerts the root alone cannot chain the leaf: refused, nothing stored */
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_enroll(&g_c));
  TEST_ASSERT_EQUAL_size_t(0, g_port.slot_len[EDC_SLOT_OPERATIONAL]);
  g_srv.exchanges = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(2, g_srv.exchanges); /* /cacerts, then /simpleenroll */
  TEST_ASSERT_EQUAL_INT(EDC_EST_SIMPLEENROLL, g_srv.last_op);
  TEST_ASSERT_NOT_NULL(edc_client_operational(&g_c, NULL, NULL));
  /* the stored CA slot is the server's set: issuing CA then root */
  TEST_ASSERT_EQUAL_size_t(g_srv.issuing_crt.raw.len + vec_root_der_len,
                           g_port.slot_len[EDC_SLOT_CA]);
  TEST_ASSERT_EQUAL_MEMORY(vec_root_der, g_port.slot[EDC_SLOT_CA] + g_srv.issuing_crt.raw.len,
                           vec_root_der_len);
  /* the next renewal needs no second /cacerts */
  g_srv.exchanges = 0;
  g_port.now = next;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(1, g_srv.exchanges);
  TEST_ASSERT_EQUAL_INT(EDC_EST_SIMPLEREENROLL, g_srv.last_op);
  teardown();
}

/* A /cacerts answer that does not chain to the explicit anchor is refused and not stored. */
static void test_explicit_anchor_refuses_cacerts_that_do_not_chain_to_it(void) {
  int64_t next = 0;
  setup(1);
  g_c.cfg.have_fingerprint = 0;
  /* anchor: the issuing CA; the answer holds the root, which the issuing CA did not sign */
  TEST_ASSERT_EQUAL_INT(0, edc_client_set_trust(&g_c, vec_issuing_pem, vec_issuing_pem_len + 1));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_cacerts(&g_c));
  TEST_ASSERT_EQUAL_size_t(0, g_port.slot_len[EDC_SLOT_CA]);
  g_srv.exchanges = 0;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(1, g_srv.exchanges); /* /cacerts only: no CSR went out */
  TEST_ASSERT_NULL(edc_client_operational(&g_c, NULL, NULL));
  teardown();
}

/* A CA certificate of a man in the middle: a fresh P-256 key, self-signed under @p name (the
 * real root's own name in one test), put by the fake server next to the real set. */
static void add_rogue_ca(const char *name) {
  mbedtls_pk_context key;
  mbedtls_x509write_cert w;
  mbedtls_mpi serial;
  unsigned char der[600];
  int len;
  mbedtls_pk_init(&key);
  mbedtls_x509write_crt_init(&w);
  mbedtls_mpi_init(&serial);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)));
  TEST_ASSERT_EQUAL_INT(0, mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                                               mbedtls_ctr_drbg_random, &g_srv.rng));
  TEST_ASSERT_EQUAL_INT(0, mbedtls_mpi_lset(&serial, 666));
  mbedtls_x509write_crt_set_serial(&w, &serial);
  mbedtls_x509write_crt_set_validity(&w, "20250101000000", "20450101000000");
  mbedtls_x509write_crt_set_subject_name(&w, name);
  mbedtls_x509write_crt_set_issuer_name(&w, name);
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_issuer_key(&w, &key);
  mbedtls_x509write_crt_set_subject_key(&w, &key);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_x509write_crt_set_basic_constraints(&w, 1, -1));
  len = mbedtls_x509write_crt_der(&w, der, sizeof(der), mbedtls_ctr_drbg_random, &g_srv.rng);
  TEST_ASSERT_TRUE(len > 0 && (size_t)len <= sizeof(g_srv.extra_ca));
  memcpy(g_srv.extra_ca, der + sizeof(der) - len, (size_t)len);
  g_srv.extra_ca_len = (size_t)len;
  mbedtls_x509write_crt_free(&w);
  mbedtls_mpi_free(&serial);
  mbedtls_pk_free(&key);
}

/* RFC 7030 4.1.1, pinned fingerprint and no trust yet: a man in the middle of the provisional
 * session answers with the real root (which matches the pin) and its own CA next to it. The
 * whole answer is refused, nothing is stored or trusted, and no CSR goes out. */
static void test_pinned_cacerts_with_an_extra_ca_is_refused_and_nothing_stored(void) {
  int64_t next = 0;
  const char *names[2] = {"O=evil,CN=rogue CA", "O=edc test,CN=edc test root"};
  int i;
  for (i = 0; i < 2; i++) { /* a CA of its own name, and one that takes the real root's name */
    setup(1);
    g_srv.from_issuing = i; /* root + rogue, then issuing + root + rogue */
    add_rogue_ca(names[i]);
    TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_cacerts(&g_c));
    TEST_ASSERT_EQUAL_size_t(0, g_port.slot_len[EDC_SLOT_CA]);
    TEST_ASSERT_EQUAL_INT(0, g_port.commits);
    TEST_ASSERT_FALSE(edc_client_has_trust(&g_c));
    TEST_ASSERT_NULL(edc_client_trust(&g_c));
    g_srv.exchanges = 0;
    TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_step(&g_c, &next));
    TEST_ASSERT_EQUAL_INT(1, g_srv.exchanges); /* /cacerts only: no CSR went out */
    TEST_ASSERT_EQUAL_INT(0, g_port.commits);
    TEST_ASSERT_NULL(edc_client_operational(&g_c, NULL, NULL));
    teardown();
  }
}

/* The honest answer of the same shape (issuing CA + pinned root) is kept whole and enrolls. */
static void test_pinned_cacerts_with_issuing_ca_and_root_is_kept(void) {
  int64_t next = 0;
  setup(1);
  g_srv.from_issuing = 1;
  TEST_ASSERT_EQUAL_INT(0, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_size_t(g_srv.issuing_crt.raw.len + vec_root_der_len,
                           g_port.slot_len[EDC_SLOT_CA]);
  TEST_ASSERT_EQUAL_MEMORY(g_srv.issuing_crt.raw.p, g_port.slot[EDC_SLOT_CA],
                           g_srv.issuing_crt.raw.len);
  TEST_ASSERT_NOT_NULL(edc_client_operational(&g_c, NULL, NULL));
  teardown();
}

/* The pin must be the root of the set: pinning the issuing CA, which the root above it does
 * not chain to (and which is not self-signed, so Mbed TLS does not take it as an anchor of
 * itself), refuses enrolld's set of issuing CA + root. */
static void test_pinned_issuing_ca_refuses_the_set(void) {
  setup(1);
  g_srv.from_issuing = 1;
  TEST_ASSERT_EQUAL_INT(0, mbedtls_sha256_ret(g_srv.issuing_crt.raw.p, g_srv.issuing_crt.raw.len,
                                              g_c.cfg.ca_fingerprint, 0));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_cacerts(&g_c));
  TEST_ASSERT_EQUAL_size_t(0, g_port.slot_len[EDC_SLOT_CA]);
  TEST_ASSERT_FALSE(edc_client_has_trust(&g_c));
  teardown();
}

/* The same man in the middle against an explicit anchor (enroll-device --ca-file, RFC 7030
 * 4.1.3): the set holds the issuing CA and the root, which chain to the anchor, and a rogue
 * CA, which does not: refused whole, nothing stored, the anchor alone stays trusted. */
static void test_explicit_anchor_refuses_cacerts_with_an_extra_ca(void) {
  int64_t next = 0;
  setup(1);
  g_c.cfg.have_fingerprint = 0;
  g_srv.from_issuing = 1;
  add_rogue_ca("O=evil,CN=rogue CA");
  TEST_ASSERT_EQUAL_INT(0, edc_client_set_trust(&g_c, vec_root_der, vec_root_der_len));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_cacerts(&g_c));
  TEST_ASSERT_EQUAL_size_t(0, g_port.slot_len[EDC_SLOT_CA]);
  TEST_ASSERT_EQUAL_INT(0, g_port.commits);
  TEST_ASSERT_NOT_NULL(edc_client_trust(&g_c));
  TEST_ASSERT_NULL(edc_client_trust(&g_c)->next); /* still the anchor alone */
  g_srv.exchanges = 0;
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNTRUSTED, edc_client_step(&g_c, &next));
  TEST_ASSERT_EQUAL_INT(1, g_srv.exchanges); /* /cacerts only: no CSR went out */
  TEST_ASSERT_NULL(edc_client_operational(&g_c, NULL, NULL));
  teardown();
}

void ucx_group_client(void) {
  UCX_GROUP("Client");
  RUN_TEST(test_cacerts_with_pinned_fingerprint_installs_and_stores_trust);
  RUN_TEST(test_cacerts_with_wrong_fingerprint_is_untrusted_and_stores_nothing);
  RUN_TEST(test_first_step_enrolls_with_bootstrap_and_commits);
  RUN_TEST(test_waits_until_renewal_time_then_reenrolls_with_operational_cert);
  RUN_TEST(test_retry_after_is_honoured_and_old_certificate_kept);
  RUN_TEST(test_server_down_backs_off_within_bounds);
  RUN_TEST(test_failed_commit_keeps_working_certificate);
  RUN_TEST(test_certificate_for_another_key_is_refused);
  RUN_TEST(test_expired_operational_falls_back_to_bootstrap);
  RUN_TEST(test_restart_loads_committed_state);
  RUN_TEST(test_token_enrollment_sends_basic_and_challenge_password);
  RUN_TEST(test_without_bootstrap_or_token_nothing_is_sent);
  RUN_TEST(test_explicit_anchor_fetches_cacerts_to_complete_a_leaf_only_answer);
  RUN_TEST(test_explicit_anchor_refuses_cacerts_that_do_not_chain_to_it);
  RUN_TEST(test_pinned_cacerts_with_an_extra_ca_is_refused_and_nothing_stored);
  RUN_TEST(test_pinned_cacerts_with_issuing_ca_and_root_is_kept);
  RUN_TEST(test_pinned_issuing_ca_refuses_the_set);
  RUN_TEST(test_explicit_anchor_refuses_cacerts_with_an_extra_ca);
}
