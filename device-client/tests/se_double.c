#include "se_double.h"

#include <string.h>

#include "mbedtls/ecdsa.h"
#include "mbedtls/pk.h"

static int se_sign(void *ctx, const unsigned char hash[32], unsigned char *sig, size_t size,
                   size_t *len) {
  se_double_t *se = (se_double_t *)ctx;
  unsigned char tmp[MBEDTLS_ECDSA_MAX_LEN];
  se->signs++;
  if (mbedtls_ecdsa_write_signature(&se->kp, MBEDTLS_MD_SHA256, hash, 32, tmp, len,
                                    mbedtls_ctr_drbg_random, &se->rng) != 0)
    return EDC_ERR_CRYPTO;
  if (*len > size) return EDC_ERR_BUFFER_TOO_SMALL;
  memcpy(sig, tmp, *len);
  return 0;
}

int se_double_init(se_double_t *se, const unsigned char *der, size_t der_len,
                   int (*entropy)(void *, unsigned char *, size_t), void *entropy_ctx,
                   edc_key_t *key, unsigned char pub[EDC_P256_PUBLIC_LEN]) {
  unsigned char point[EDC_P256_PUBLIC_LEN];
  size_t n = 0;
  int ret;
  memset(se, 0, sizeof(*se));
  mbedtls_ecp_keypair_init(&se->kp);
  mbedtls_ctr_drbg_init(&se->rng);
  edc_key_init(key);
  ret = mbedtls_ctr_drbg_seed(&se->rng, entropy, entropy_ctx, (const unsigned char *)"se", 2);
  if (ret == 0 && der != NULL) {
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    ret = mbedtls_pk_parse_key(&pk, der, der_len, NULL, 0);
    if (ret == 0) ret = mbedtls_ecp_group_copy(&se->kp.grp, &mbedtls_pk_ec(pk)->grp);
    if (ret == 0) ret = mbedtls_mpi_copy(&se->kp.d, &mbedtls_pk_ec(pk)->d);
    if (ret == 0) ret = mbedtls_ecp_copy(&se->kp.Q, &mbedtls_pk_ec(pk)->Q);
    mbedtls_pk_free(&pk);
  } else if (ret == 0) {
    ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &se->kp, mbedtls_ctr_drbg_random, &se->rng);
  }
  if (ret == 0)
    ret = mbedtls_ecp_point_write_binary(&se->kp.grp, &se->kp.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n,
                                         point, sizeof(point));
  if (ret == 0 && pub != NULL) memcpy(pub, point, n);
  return ret != 0 ? -1 : edc_key_set_external(key, point, n, se_sign, se);
}

void se_double_free(se_double_t *se, edc_key_t *key) {
  edc_key_free(key);
  mbedtls_ecp_keypair_free(&se->kp);
  mbedtls_ctr_drbg_free(&se->rng);
}
