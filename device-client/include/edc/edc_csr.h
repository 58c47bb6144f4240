/**
 * @file edc_csr.h
 * The device key (P-256, generated on the device or held by a secure element behind a sign
 * callback) and the PKCS#10 request (RFC 2986) EST sends to /simpleenroll.
 */
#ifndef EDC_CSR_H
#define EDC_CSR_H

#include <stddef.h>

#include "edc/edc_config.h"
#include "edc/edc_error.h"
#include "mbedtls/ecp.h"
#include "mbedtls/pk.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A random generator in Mbed TLS's shape (mbedtls_ctr_drbg_random and friends). */
typedef int (*edc_rng_fn)(void *p_rng, unsigned char *out, size_t len);

/**
 * A secure element's signer: sign the SHA-256 @p hash and write a DER ECDSA-Sig-Value
 * (RFC 5480) into @p sig. Returns 0 or a negative EDC_ERR_*.
 */
typedef int (*edc_sign_fn)(void *ctx, const unsigned char hash[32], unsigned char *sig,
                           size_t sig_size, size_t *sig_len);

/** Uncompressed P-256 point: 0x04 || X || Y. */
#define EDC_P256_PUBLIC_LEN 65
/** Raw P-256 private scalar. */
#define EDC_P256_PRIVATE_LEN 32
/** Longest DER ECDSA-Sig-Value for P-256. */
#define EDC_P256_SIG_MAX_LEN 72

/** A P-256 key: a software key pair, or an external one (public point + sign callback). */
typedef struct edc_key {
  mbedtls_ecp_keypair kp; /**< software key; Q is always set */
  int has_private;        /**< 1 when kp.d holds the private scalar */
  edc_sign_fn sign;       /**< external signer, or NULL */
  void *sign_ctx;
} edc_key_t;

/** Prepare @p key for use. */
void edc_key_init(edc_key_t *key);
/** Release and zeroize @p key (NULL-safe). */
void edc_key_free(edc_key_t *key);
/** Generate a fresh P-256 key pair on the device. */
int edc_key_generate(edc_key_t *key, edc_rng_fn f_rng, void *p_rng);
/** Load a software key from its 32-byte private scalar (the public point is recomputed). */
int edc_key_import_private(edc_key_t *key, const unsigned char *d, size_t d_len, edc_rng_fn f_rng,
                           void *p_rng);
/** Write the 32-byte private scalar (EDC_ERR_UNSUPPORTED for external keys). */
int edc_key_export_private(const edc_key_t *key, unsigned char *d, size_t d_size);
/** Use a key held elsewhere: its public point (65 bytes, uncompressed) and a sign callback. */
int edc_key_set_external(edc_key_t *key, const unsigned char *pub, size_t pub_len, edc_sign_fn sign,
                         void *sign_ctx);
/** Write the uncompressed public point (65 bytes). */
int edc_key_public(const edc_key_t *key, unsigned char *pub, size_t pub_size);
/** Sign a SHA-256 hash: DER ECDSA-Sig-Value into @p sig (EDC_P256_SIG_MAX_LEN is enough). */
int edc_key_sign(edc_key_t *key, const unsigned char hash[32], unsigned char *sig, size_t sig_size,
                 size_t *sig_len, edc_rng_fn f_rng, void *p_rng);
/**
 * Fill an initialised, empty @p pk with @p key for TLS client authentication: a copy of a
 * software key, or (EDC_WITH_EXTERNAL_KEY) a sign-only pk that hands every signature to the
 * external key's callback (a SHA-384 handshake hash is cut to its leftmost 256 bits, as ECDSA
 * on P-256 does). The callback and its context must outlive @p pk.
 */
int edc_key_to_pk(const edc_key_t *key, mbedtls_pk_context *pk);

/** Subject of the request; NULL fields are left out. Written in the order O, OU, CN, serialNumber.
 */
typedef struct edc_csr_subject {
  const char *organization;
  const char *org_unit;
  const char *common_name;
  const char *serial_number;
  /** A complete DER Name to use instead of the four strings (e.g. the subject of the
   *  certificate being renewed, which RFC 7030 4.2.2 asks to keep), or NULL. */
  const unsigned char *name_der;
  size_t name_der_len;
} edc_csr_subject_t;

/**
 * Write a DER PKCS#10 request into the start of @p buf. Signature algorithm
 * ecdsa-with-SHA256 with the parameters field absent (RFC 5758 3.2). @p challenge (may be
 * NULL) becomes a challengePassword attribute (RFC 2985 5.4.1; EST binds it to tls-unique in
 * RFC 7030 3.5). *olen receives the length written, or on EDC_ERR_BUFFER_TOO_SMALL a size that
 * is enough.
 */
int edc_csr_write_der(edc_key_t *key, const edc_csr_subject_t *subject, const char *challenge,
                      unsigned char *buf, size_t size, size_t *olen, edc_rng_fn f_rng, void *p_rng);

#ifdef __cplusplus
}
#endif
#endif /* EDC_CSR_H */
