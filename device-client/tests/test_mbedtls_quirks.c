/* What Mbed TLS 2.28 itself does, recorded as tests so an upgrade that changes it is noticed.
 * Finding: mbedtls_x509write_csr_der() writes ecdsa-with-SHA256 WITH a NULL parameter
 * (30 0c 06 08 2a8648ce3d040302 05 00), against RFC 5758 3.2 which says the parameters field
 * MUST be absent. That is why edc_csr.c writes the request itself with asn1write. */
#include <string.h>

#include "edc_test_vectors.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_csr.h"
#include "test_support.h"
#include "unity_compat.h"

#if defined(MBEDTLS_X509_CSR_WRITE_C)
static void test_mbedtls_228_writes_null_parameter_for_ecdsa(void) {
  mbedtls_ctr_drbg_context rng;
  mbedtls_pk_context pk;
  mbedtls_x509write_csr w;
  unsigned char buf[600];
  static const unsigned char with_null[] = {0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x04, 0x03, 0x02, 0x05, 0x00};
  const unsigned char *der;
  size_t i;
  int len, found = 0;
  test_rng_init(&rng, 3);
  mbedtls_pk_init(&pk);
  TEST_ASSERT_EQUAL_INT(
      0, mbedtls_pk_parse_key(&pk, vec_device_key_der, vec_device_key_der_len, NULL, 0));
  mbedtls_x509write_csr_init(&w);
  mbedtls_x509write_csr_set_key(&w, &pk);
  mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
  TEST_ASSERT_EQUAL_INT(0, mbedtls_x509write_csr_set_subject_name(&w, "CN=DEMO-0001"));
  len = mbedtls_x509write_csr_der(&w, buf, sizeof(buf), mbedtls_ctr_drbg_random, &rng);
  TEST_ASSERT_TRUE(len > 0);
  der = buf + sizeof(buf) - len;
  for (i = 0; i + sizeof(with_null) <= (size_t)len; i++)
    if (memcmp(der + i, with_null, sizeof(with_null)) == 0) found = 1;
  TEST_ASSERT_TRUE_MESSAGE(found,
                           "Mbed TLS no longer writes the NULL: edc_csr.c could use it again");
  mbedtls_x509write_csr_free(&w);
  mbedtls_pk_free(&pk);
  mbedtls_ctr_drbg_free(&rng);
}
#endif

void ucx_group_mbedtls_quirks(void) {
  UCX_GROUP("MbedTls228");
#if defined(MBEDTLS_X509_CSR_WRITE_C)
  RUN_TEST(test_mbedtls_228_writes_null_parameter_for_ecdsa);
#endif
}
