/**
 * @file se_double.h A secure-element double for the tests on the host and on the target: it keeps
 * its P-256 key in its own struct and only ever signs a hash, as a real element does. The client
 * sees the public point and the signing callback (edc_key_set_external); everything around it
 * (CSR, the TLS/DTLS CertificateVerify, the server's check of it) is the real code.
 */
#ifndef EDC_SE_DOUBLE_H
#define EDC_SE_DOUBLE_H
#include <stddef.h>

#include "edc/edc_csr.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct se_double {
  mbedtls_ecp_keypair kp;
  mbedtls_ctr_drbg_context rng;
  unsigned signs; /**< signatures made so far */
} se_double_t;

/**
 * Puts @p der (a private key) into the element, or generates one in it when @p der is NULL
 * (random numbers seeded from @p entropy), and makes @p key an external key that signs through
 * it. Writes the public point to @p pub when it is not NULL. 0, or -1 on any failure.
 */
int se_double_init(se_double_t *se, const unsigned char *der, size_t der_len,
                   int (*entropy)(void *, unsigned char *, size_t), void *entropy_ctx,
                   edc_key_t *key, unsigned char pub[EDC_P256_PUBLIC_LEN]);
void se_double_free(se_double_t *se, edc_key_t *key);

#ifdef __cplusplus
}
#endif
#endif
