/**
 * @file edc_transport.h
 * The interface between the EST client and a transport. A transport maps the three EST
 * operations onto its wire (HTTPS paths and base64 bodies; later CoAP URIs and raw DER,
 * RFC 9148) and hands DER back. The client never sees HTTP or TLS details.
 */
#ifndef EDC_TRANSPORT_H
#define EDC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "edc/edc_config.h"
#include "edc/edc_error.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** EST operations used by the device (RFC 7030 3.2.2). */
typedef enum edc_est_op {
  EDC_EST_CACERTS = 0,   /**< GET  cacerts        (coaps: crts) */
  EDC_EST_SIMPLEENROLL,  /**< POST simpleenroll   (coaps: sen)  */
  EDC_EST_SIMPLEREENROLL /**< POST simplereenroll (coaps: sren) */
} edc_est_op_t;

/** Credentials and trust for one session. Borrowed, not copied. */
typedef struct edc_est_auth {
  mbedtls_x509_crt *trust; /**< server trust anchors; NULL = provisional (see verify_peer) */
  mbedtls_x509_crt *cert;  /**< client certificate chain, or NULL */
  mbedtls_pk_context *key; /**< its key, or NULL */
  const char *basic;       /**< "user:password" for HTTP Basic, or NULL */
} edc_est_auth_t;

/** A transport's functions. */
typedef struct edc_transport_ops {
  /** Open a secure session (TCP+TLS or UDP+DTLS) with these credentials. */
  int (*open)(void *self, const edc_est_auth_t *auth);
  /** tls-unique of the open session (RFC 5929), for the CSR challengePassword
   *  (RFC 7030 3.5). EDC_ERR_UNSUPPORTED when not available. */
  int (*channel_binding)(void *self, unsigned char *out, size_t size, size_t *olen);
  /** After a provisional open: verify the server's certificate against @p trust. */
  int (*verify_peer)(void *self, const mbedtls_x509_crt *trust);
  /** One request/response. @p req is DER (or empty); the DER response lands in @p resp.
   *  EDC_ERR_RETRY_LATER sets *retry_after_s (0 if the server gave none). @p resp, @p resp_len
   *  and @p retry_after_s are never NULL (the client's own; transports do not check them). */
  int (*exchange)(void *self, edc_est_op_t op, const unsigned char *req, size_t req_len,
                  unsigned char *resp, size_t resp_size, size_t *resp_len, uint32_t *retry_after_s);
  /** Close the session (safe when not open). */
  void (*close)(void *self);
} edc_transport_ops_t;

/** A transport: its functions and its state. */
typedef struct edc_transport {
  const edc_transport_ops_t *ops;
  void *self;
} edc_transport_t;

#ifdef __cplusplus
}
#endif
#endif /* EDC_TRANSPORT_H */
