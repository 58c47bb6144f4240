/* Device key and PKCS#10 writer (edc_csr.c): checked with Mbed TLS's CSR parser and against
 * openssl-made encodings of the same key. */
#include <string.h>

#include "edc/edc_csr.h"
#include "edc_test_vectors.h"
#include "mbedtls/asn1.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_csr.h"
#include "test_support.h"
#include "unity_compat.h"

static mbedtls_ctr_drbg_context g_rng;
static unsigned char g_csr[700];

static void load_device_key(edc_key_t *key) {
  mbedtls_pk_context pk;
  unsigned char d[32];
  mbedtls_pk_init(&pk);
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_pk_parse_key(&pk, vec_device_key_der, vec_device_key_der_len, NULL, 0));
  TEST_ASSERT_EQUAL_INT(0, mbedtls_mpi_write_binary(&mbedtls_pk_ec(pk)->d, d, 32));
  mbedtls_pk_free(&pk);
  TEST_ASSERT_EQUAL_INT(0, edc_key_import_private(key, d, 32, mbedtls_ctr_drbg_random, &g_rng));
}

/* Step into the outer SEQUENCE; sets [cri, cri_end) and the TLV after it. */
static void split_csr(const unsigned char *csr, size_t len, const unsigned char **cri,
                      size_t *cri_len, const unsigned char **alg, size_t *alg_len) {
  unsigned char *p = (unsigned char *)csr, *end = (unsigned char *)csr + len, *q;
  size_t l;
  TEST_ASSERT_EQUAL_INT(0, mbedtls_asn1_get_tag(&p, end, &l, 0x30));
  TEST_ASSERT_TRUE(p + l == end);
  *cri = p;
  q = p;
  TEST_ASSERT_EQUAL_INT(0, mbedtls_asn1_get_tag(&q, end, &l, 0x30));
  *cri_len = (size_t)(q + l - p);
  *alg = q + l;
  q = (unsigned char *)*alg;
  TEST_ASSERT_EQUAL_INT(0, mbedtls_asn1_get_tag(&q, end, &l, 0x30));
  *alg_len = (size_t)(q + l - *alg);
}

static void test_imported_key_has_openssl_public_point(void) {
  edc_key_t key;
  unsigned char pub[65];
  edc_key_init(&key);
  load_device_key(&key);
  TEST_ASSERT_EQUAL_INT(0, edc_key_public(&key, pub, sizeof(pub)));
  /* SubjectPublicKeyInfo from openssl: 26 header bytes, then 04||X||Y */
  TEST_ASSERT_EQUAL_size_t(91, vec_device_pub_der_len);
  TEST_ASSERT_EQUAL_MEMORY(vec_device_pub_der + 26, pub, 65);
  edc_key_free(&key);
}

static void test_csr_parses_and_its_signature_verifies(void) {
  edc_key_t key;
  edc_csr_subject_t subj = {NULL, NULL, "DEMO-0001", "DEMO-0001", NULL, 0};
  mbedtls_x509_csr csr;
  unsigned char hash[32];
  size_t len = 0;
  char dn[128];
  edc_key_init(&key);
  load_device_key(&key);
  TEST_ASSERT_EQUAL_INT(0, edc_csr_write_der(&key, &subj, NULL, g_csr, sizeof(g_csr), &len,
                                             mbedtls_ctr_drbg_random, &g_rng));
  mbedtls_x509_csr_init(&csr);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_x509_csr_parse_der(&csr, g_csr, len));
  TEST_ASSERT_EQUAL_INT(MBEDTLS_MD_SHA256, csr.sig_md);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_sha256_ret(csr.cri.p, csr.cri.len, hash, 0));
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, 32, csr.sig.p, csr.sig.len));
  TEST_ASSERT_TRUE(mbedtls_x509_dn_gets(dn, sizeof(dn), &csr.subject) > 0);
  TEST_ASSERT_EQUAL_STRING("CN=DEMO-0001, serialNumber=DEMO-0001", dn);
  /* a flipped signature byte must not verify */
  csr.sig.p[csr.sig.len - 3] ^= 1;
  TEST_ASSERT_NOT_EQUAL(
      0, mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, 32, csr.sig.p, csr.sig.len));
  mbedtls_x509_csr_free(&csr);
  edc_key_free(&key);
}

/* RFC 7030 4.2.2: a renewal CSR carries the renewed certificate's subject, byte for byte. */
static void test_csr_takes_a_der_name_verbatim(void) {
  edc_key_t key;
  edc_csr_subject_t subj = {NULL, NULL, "ignored", "ignored", NULL, 0};
  mbedtls_x509_crt crt;
  mbedtls_x509_csr csr;
  size_t len = 0;
  edc_key_init(&key);
  load_device_key(&key);
  mbedtls_x509_crt_init(&crt);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_x509_crt_parse_der(&crt, vec_device_der, vec_device_der_len));
  subj.name_der = crt.subject_raw.p;
  subj.name_der_len = crt.subject_raw.len;
  TEST_ASSERT_EQUAL_INT(0, edc_csr_write_der(&key, &subj, NULL, g_csr, sizeof(g_csr), &len,
                                             mbedtls_ctr_drbg_random, &g_rng));
  mbedtls_x509_csr_init(&csr);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_x509_csr_parse_der(&csr, g_csr, len));
  TEST_ASSERT_EQUAL_size_t(crt.subject_raw.len, csr.subject_raw.len);
  TEST_ASSERT_EQUAL_MEMORY(crt.subject_raw.p, csr.subject_raw.p, csr.subject_raw.len);
  mbedtls_x509_csr_free(&csr);
  mbedtls_x509_crt_free(&crt);
  edc_key_free(&key);
}

static void test_signature_algorithm_has_no_parameters_like_openssl(void) {
  edc_key_t key;
  edc_csr_subject_t subj = {NULL, NULL, "DEMO-0001", NULL, NULL, 0};
  const unsigned char *cri, *alg, *ocri, *oalg;
  size_t len = 0, cri_len, alg_len, ocri_len, oalg_len;
  static const unsigned char strict[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                         0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
  edc_key_init(&key);
  load_device_key(&key);
  TEST_ASSERT_EQUAL_INT(0, edc_csr_write_der(&key, &subj, NULL, g_csr, sizeof(g_csr), &len,
                                             mbedtls_ctr_drbg_random, &g_rng));
  split_csr(g_csr, len, &cri, &cri_len, &alg, &alg_len);
  split_csr(vec_openssl_csr_der, vec_openssl_csr_der_len, &ocri, &ocri_len, &oalg, &oalg_len);
  TEST_ASSERT_EQUAL_size_t(sizeof(strict), alg_len);
  TEST_ASSERT_EQUAL_MEMORY(strict, alg, alg_len);
  TEST_ASSERT_EQUAL_size_t(oalg_len, alg_len);
  TEST_ASSERT_EQUAL_MEMORY(oalg, alg, alg_len);
  /* Same key, same one-CN subject, no attributes: the whole request info equals openssl's. */
  TEST_ASSERT_EQUAL_size_t(ocri_len, cri_len);
  TEST_ASSERT_EQUAL_MEMORY(ocri, cri, cri_len);
  edc_key_free(&key);
}

static int contains(const unsigned char *hay, size_t n, const void *needle, size_t m) {
  size_t i;
  for (i = 0; i + m <= n; i++)
    if (memcmp(hay + i, needle, m) == 0) return 1;
  return 0;
}

static void test_writes_challenge_password_attribute(void) {
  edc_key_t key;
  edc_csr_subject_t subj = {"Acme", "Line 3", "dev", NULL, NULL, 0};
  static const unsigned char attr[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                       0x01, 0x09, 0x07, 0x31, 0x0e, 0x13, 0x0c};
  mbedtls_x509_csr csr;
  size_t len = 0;
  edc_key_init(&key);
  TEST_ASSERT_EQUAL_INT(0, edc_key_generate(&key, mbedtls_ctr_drbg_random, &g_rng));
  TEST_ASSERT_EQUAL_INT(0, edc_csr_write_der(&key, &subj, "pRLu/9lXtw==", g_csr, sizeof(g_csr),
                                             &len, mbedtls_ctr_drbg_random, &g_rng));
  TEST_ASSERT_TRUE(contains(g_csr, len, attr, sizeof(attr)));
  TEST_ASSERT_TRUE(contains(g_csr, len, "pRLu/9lXtw==", 12));
  mbedtls_x509_csr_init(&csr);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_x509_csr_parse_der(&csr, g_csr, len));
  mbedtls_x509_csr_free(&csr);
  edc_key_free(&key);
}

static void test_reports_small_buffer(void) {
  edc_key_t key;
  edc_csr_subject_t subj = {NULL, NULL, "dev", NULL, NULL, 0};
  size_t len = 0;
  edc_key_init(&key);
  TEST_ASSERT_EQUAL_INT(0, edc_key_generate(&key, mbedtls_ctr_drbg_random, &g_rng));
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_BUFFER_TOO_SMALL,
      edc_csr_write_der(&key, &subj, NULL, g_csr, 150, &len, mbedtls_ctr_drbg_random, &g_rng));
  TEST_ASSERT_TRUE(len >= 200 && len <= sizeof(g_csr));
  TEST_ASSERT_EQUAL_INT(
      0, edc_csr_write_der(&key, &subj, NULL, g_csr, len, &len, mbedtls_ctr_drbg_random, &g_rng));
  len = 0; /* far too small: still a size that is enough */
  TEST_ASSERT_EQUAL_INT(
      EDC_ERR_BUFFER_TOO_SMALL,
      edc_csr_write_der(&key, &subj, NULL, g_csr, 10, &len, mbedtls_ctr_drbg_random, &g_rng));
  TEST_ASSERT_TRUE(len >= 200 && len <= sizeof(g_csr));
  edc_key_free(&key);
}

static void test_rejects_non_printable_serial_number(void) {
  edc_key_t key;
  edc_csr_subject_t subj = {NULL, NULL, "dev", "bad*serial", NULL, 0};
  size_t len = 0;
  edc_key_init(&key);
  TEST_ASSERT_EQUAL_INT(0, edc_key_generate(&key, mbedtls_ctr_drbg_random, &g_rng));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_INVALID_ARG,
                        edc_csr_write_der(&key, &subj, NULL, g_csr, sizeof(g_csr), &len,
                                          mbedtls_ctr_drbg_random, &g_rng));
  edc_key_free(&key);
}

/* A "secure element": a software key behind the sign callback. */
static edc_key_t g_se;
static int g_se_calls;
static int se_sign(void *ctx, const unsigned char hash[32], unsigned char *sig, size_t sig_size,
                   size_t *sig_len) {
  (void)ctx;
  g_se_calls++;
  return edc_key_sign(&g_se, hash, sig, sig_size, sig_len, mbedtls_ctr_drbg_random, &g_rng);
}

static void test_external_signer_makes_a_valid_csr(void) {
  edc_key_t key;
  unsigned char pub[65], d[32];
  edc_csr_subject_t subj = {NULL, NULL, "se-dev", NULL, NULL, 0};
  mbedtls_x509_csr csr;
  unsigned char hash[32];
  size_t len = 0;
  edc_key_init(&g_se);
  edc_key_init(&key);
  g_se_calls = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_key_generate(&g_se, mbedtls_ctr_drbg_random, &g_rng));
  TEST_ASSERT_EQUAL_INT(0, edc_key_public(&g_se, pub, sizeof(pub)));
  TEST_ASSERT_EQUAL_INT(0, edc_key_set_external(&key, pub, sizeof(pub), se_sign, NULL));
  TEST_ASSERT_EQUAL_INT(EDC_ERR_UNSUPPORTED, edc_key_export_private(&key, d, sizeof(d)));
  TEST_ASSERT_EQUAL_INT(
      0, edc_csr_write_der(&key, &subj, NULL, g_csr, sizeof(g_csr), &len, NULL, NULL));
  TEST_ASSERT_EQUAL_INT(1, g_se_calls);
  mbedtls_x509_csr_init(&csr);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_x509_csr_parse_der(&csr, g_csr, len));
  TEST_ASSERT_EQUAL_INT(0, mbedtls_sha256_ret(csr.cri.p, csr.cri.len, hash, 0));
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, 32, csr.sig.p, csr.sig.len));
  mbedtls_x509_csr_free(&csr);
  pub[10] ^= 1; /* not on the curve any more */
  TEST_ASSERT_EQUAL_INT(EDC_ERR_MALFORMED,
                        edc_key_set_external(&key, pub, sizeof(pub), se_sign, NULL));
  edc_key_free(&key);
  edc_key_free(&g_se);
}

static void test_free_zeroizes_and_accepts_null(void) {
  edc_key_t key;
  size_t i;
  const unsigned char *b = (const unsigned char *)&key;
  edc_key_init(&key);
  TEST_ASSERT_EQUAL_INT(0, edc_key_generate(&key, mbedtls_ctr_drbg_random, &g_rng));
  edc_key_free(&key);
  for (i = 0; i < sizeof(key); i++) TEST_ASSERT_EQUAL_INT(0, b[i]);
  edc_key_free(NULL);
}

void ucx_group_csr(void) {
  UCX_GROUP("Csr");
  test_rng_init(&g_rng, 7);
  RUN_TEST(test_imported_key_has_openssl_public_point);
  RUN_TEST(test_csr_parses_and_its_signature_verifies);
  RUN_TEST(test_csr_takes_a_der_name_verbatim);
  RUN_TEST(test_signature_algorithm_has_no_parameters_like_openssl);
  RUN_TEST(test_writes_challenge_password_attribute);
  RUN_TEST(test_reports_small_buffer);
  RUN_TEST(test_rejects_non_printable_serial_number);
  RUN_TEST(test_external_signer_makes_a_valid_csr);
  RUN_TEST(test_free_zeroizes_and_accepts_null);
}
