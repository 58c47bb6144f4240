/**
 * @file edc_https.h
 * EST over HTTPS (RFC 7030): TLS 1.2 with Mbed TLS and a minimal HTTP/1.1 client; one
 * connection per session.
 */
#ifndef EDC_HTTPS_H
#define EDC_HTTPS_H

#include "edc/edc_channel.h"
#include "edc/edc_config.h"
#include "edc/edc_port.h"
#include "edc/edc_transport.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ssl.h"

#ifdef __cplusplus
extern "C" {
#endif

#if EDC_WITH_EST_HTTPS

/** HTTPS transport state. Fields are private. */
typedef struct edc_https {
  edc_channel_t ch;  /**< first: the channel functions take the transport as their self */
  const char *label; /**< EST label (RFC 7030 3.2.2), or NULL */
  unsigned char *io; /**< caller-owned buffer for the HTTP response */
  size_t io_size;
  const char *basic;
} edc_https_t;

/** Prepare @p h. @p io (caller-owned, e.g. 4-16 KB) holds one HTTP response. */
int edc_https_init(edc_https_t *h, const edc_port_t *port, mbedtls_ctr_drbg_context *drbg,
                   const char *host, uint16_t tcp_port, const char *label, uint32_t timeout_ms,
                   unsigned char *io, size_t io_size);
/** Close and zeroize (NULL-safe). */
void edc_https_free(edc_https_t *h);
/** The edc_transport_t view of @p h. */
edc_transport_t edc_https_transport(edc_https_t *h);
/** Write the request path of @p op (with the label) into @p buf. */
int edc_https_path(const char *label, edc_est_op_t op, char *buf, size_t size, size_t *olen);

#endif /* EDC_WITH_EST_HTTPS */

#ifdef __cplusplus
}
#endif
#endif /* EDC_HTTPS_H */
