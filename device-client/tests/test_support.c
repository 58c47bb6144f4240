#include "test_support.h"

#include <string.h>

int test_fixed_entropy(void *ctx, unsigned char *buf, size_t len) {
  unsigned *seed = (unsigned *)ctx;
  size_t i;
  for (i = 0; i < len; i++) buf[i] = (unsigned char)(*seed * 131u + i * 7u + 1u);
  return 0;
}

void test_rng_init(mbedtls_ctr_drbg_context *drbg, unsigned seed) {
  mbedtls_ctr_drbg_init(drbg);
  (void)mbedtls_ctr_drbg_seed(drbg, test_fixed_entropy, &seed, (const unsigned char *)"edc-test",
                              8);
}
