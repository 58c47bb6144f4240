/**
 * @file edc_client.h
 * The EST client: trust bootstrap (/cacerts against a pinned fingerprint), enrollment with the
 * bootstrap certificate or a one-time token, re-enrollment with the operational certificate,
 * atomic commit to storage, and the renewal step driven by the scheduler.
 *
 * Start here: edc_client_init(), edc_client_set_transport(), then edc_client_step() in a loop.
 */
#ifndef EDC_CLIENT_H
#define EDC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "edc/edc_config.h"
#include "edc/edc_csr.h"
#include "edc/edc_error.h"
#include "edc/edc_port.h"
#include "edc/edc_sched.h"
#include "edc/edc_transport.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Client configuration. Strings are borrowed and must outlive the client. */
typedef struct edc_client_config {
  edc_csr_subject_t subject;        /**< subject written into every CSR */
  const char *basic;                /**< one-time token as "user:password" (HTTP Basic), or NULL */
  int challenge_password;           /**< put tls-unique into the CSR (RFC 7030 3.5) */
  int have_fingerprint;             /**< ca_fingerprint is set */
  unsigned char ca_fingerprint[32]; /**< SHA-256 of the root CA certificate in /cacerts */
  edc_sched_config_t sched;         /**< renewal policy */
} edc_client_config_t;

/** Client state. Fields are private; read them through the functions below. */
typedef struct edc_client {
  const edc_port_t *port;
  edc_client_config_t cfg;
  edc_transport_t tr;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_x509_crt trust;
  int have_trust;
  mbedtls_x509_crt boot_crt;
  mbedtls_pk_context boot_key;
  int have_boot;
  mbedtls_x509_crt op_crt;
  mbedtls_pk_context op_pk;
  edc_key_t *dev_key; /* borrowed: the secure element's key, or NULL (fresh keys) */
  int have_op;
  int64_t op_not_before, op_not_after;
  edc_sched_t sched;
  uint32_t last_retry_after_s;
  int last_has_retry_after;
  unsigned char *work;
  size_t work_size;
} edc_client_t;

/** Defaults: empty subject, no token, default schedule. */
void edc_client_config_default(edc_client_config_t *cfg);

/**
 * Prepare @p c: seeds a CTR_DRBG from port->entropy (with @p pers as personalisation).
 * @p work (caller-owned; about 6 KB for a 3-certificate chain) holds CSRs and responses.
 */
int edc_client_init(edc_client_t *c, const edc_port_t *port, const edc_client_config_t *cfg,
                    unsigned char *work, size_t work_size, const char *pers);
/** Release and zeroize (NULL-safe). */
void edc_client_free(edc_client_t *c);
/** The DRBG the transport should use. */
mbedtls_ctr_drbg_context *edc_client_drbg(edc_client_t *c);
/** Use this transport (borrowed). */
void edc_client_set_transport(edc_client_t *c, edc_transport_t tr);
/** Trust these CA certificates (PEM or DER) for the EST server and for issued certificates. */
int edc_client_set_trust(edc_client_t *c, const unsigned char *buf, size_t len);
/** Bootstrap (manufacturer) certificate and key, PEM or DER. */
int edc_client_set_bootstrap(edc_client_t *c, const unsigned char *crt, size_t crt_len,
                             const unsigned char *key, size_t key_len);

/**
 * Bootstrap certificate with its key given as an edc_key_t: a software key, or one a secure
 * element holds (edc_key_set_external), which then signs the TLS/DTLS CertificateVerify.
 * EDC_ERR_INVALID_ARG when the certificate is not for that key. @p key is copied (its sign
 * callback and context must stay valid).
 */
int edc_client_set_bootstrap_key(edc_client_t *c, const unsigned char *crt, size_t crt_len,
                                 const edc_key_t *key);

/**
 * Keep the device key in a secure element: every CSR is signed by @p key (borrowed; NULL goes
 * back to a fresh P-256 key per enrollment) instead of a new key, re-enrollment authenticates
 * TLS/DTLS with it, and the stored bundle holds no private key; at load the stored leaf must
 * certify this key. Call before edc_client_load(). Renewals keep the same key (RFC 7030 4.2.2).
 */
void edc_client_set_device_key(edc_client_t *c, edc_key_t *key);

/** Subject for the next CSRs (strings borrowed). */
void edc_client_set_subject(edc_client_t *c, const edc_csr_subject_t *subject);

/** Load trust and the operational credentials from storage (EDC_ERR_NOT_FOUND if none). */
int edc_client_load(edc_client_t *c);

/**
 * GET /cacerts and install the returned certificates as trust, then store them. Without
 * trust yet, the TLS server is accepted provisionally and the response must contain a
 * certificate whose SHA-256 equals the pinned fingerprint; the server's certificate must then
 * verify against the returned certificates (RFC 7030 4.1.1). With trust (an explicit anchor,
 * or the set stored before), the server is verified against it (RFC 7030 4.1.3). Either way
 * every certificate of the response must chain to the anchor (the pinned certificate alone,
 * or the trust held): one that does not, such as a CA a man in the middle added next to the
 * real root, refuses the whole response with EDC_ERR_UNTRUSTED; nothing is stored or trusted.
 * Pin the root of the set: a pinned certificate that is not self-signed anchors nothing.
 */
int edc_client_cacerts(edc_client_t *c);
/** New key + CSR, /simpleenroll with the bootstrap certificate and/or token; commit on success. */
int edc_client_enroll(edc_client_t *c);
/** New key + CSR, /simplereenroll with the operational certificate; commit on success. */
int edc_client_reenroll(edc_client_t *c);

/**
 * One scheduler step at the port's wall-clock time: do nothing, re-enroll, or enroll with the
 * bootstrap credentials when the operational certificate is absent or expired. *next_s gets
 * the time of the next step. Returns the result of the attempt (0 when none was due).
 */
int edc_client_step(edc_client_t *c, int64_t *next_s);

/** The operational certificate (leaf first) or NULL; its validity in *not_before and *not_after. */
const mbedtls_x509_crt *edc_client_operational(const edc_client_t *c, int64_t *not_before,
                                               int64_t *not_after);

/** 1 when CA certificates are trusted (from storage, edc_client_set_trust or /cacerts). */
int edc_client_has_trust(const edc_client_t *c);
/** The trusted CA certificates, or NULL. */
const mbedtls_x509_crt *edc_client_trust(const edc_client_t *c);
/** The bootstrap certificate, or NULL. */
const mbedtls_x509_crt *edc_client_bootstrap(const edc_client_t *c);
/** Planned renewal time of the operational certificate (0 if none). */
int64_t edc_client_renew_at(const edc_client_t *c);
/** Retry-After of the last refused attempt in seconds (0 if the server gave none). */
uint32_t edc_client_retry_after(const edc_client_t *c);

/** Seconds since the epoch for an X.509 time (UTC). */
int64_t edc_x509_time_to_epoch(const mbedtls_x509_time *t);

/**
 * Storage format of the operational slot: "EDC1", flags (bit 0: private key present), index
 * of the leaf certificate, the 32-byte P-256 private scalar if present, then the certificates
 * as concatenated DER. Writes into @p buf; *olen gets the length or the size needed.
 */
int edc_bundle_write(unsigned char *buf, size_t size, size_t *olen, const unsigned char *d,
                     unsigned leaf_index, const unsigned char *certs, size_t certs_len);
/** Parse a bundle: views into @p buf. *d is NULL when no private key is stored. */
int edc_bundle_parse(const unsigned char *buf, size_t len, const unsigned char **d,
                     unsigned *leaf_index, const unsigned char **certs, size_t *certs_len);

#ifdef __cplusplus
}
#endif
#endif /* EDC_CLIENT_H */
