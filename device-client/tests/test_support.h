/** @file test_support.h Deterministic random numbers for tests (a fixed-seed CTR_DRBG). */
#ifndef EDC_TEST_SUPPORT_H
#define EDC_TEST_SUPPORT_H
#include <stddef.h>

#include "mbedtls/ctr_drbg.h"

#ifdef __cplusplus
extern "C" {
#endif
/** An entropy source that always gives the same bytes for the unsigned seed @p ctx points to. */
int test_fixed_entropy(void *ctx, unsigned char *buf, size_t len);
/** Seed @p drbg from a counter, so every run sees the same numbers. */
void test_rng_init(mbedtls_ctr_drbg_context *drbg, unsigned seed);
#ifdef __cplusplus
}
#endif
#endif
