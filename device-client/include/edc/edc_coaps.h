/**
 * @file edc_coaps.h
 * EST over secure CoAP (RFC 9148): DTLS 1.2 with Mbed TLS and a minimal CoAP client
 * (confirmable requests with retransmission, RFC 7252 4.2; Block1 uploads and Block2
 * downloads, RFC 7959). One DTLS session per EST session, like the HTTPS transport.
 */
#ifndef EDC_COAPS_H
#define EDC_COAPS_H

#include "edc/edc_channel.h"
#include "edc/edc_config.h"
#include "edc/edc_port.h"
#include "edc/edc_transport.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ssl.h"

#ifdef __cplusplus
extern "C" {
#endif

#if EDC_WITH_EST_COAPS

/** CoAP transmission parameters (RFC 7252 4.8). */
#ifndef EDC_COAP_ACK_TIMEOUT_MS
#define EDC_COAP_ACK_TIMEOUT_MS 2000
#endif
#ifndef EDC_COAP_MAX_RETRANSMIT
#define EDC_COAP_MAX_RETRANSMIT 4
#endif

/** EST-coaps transport state. Fields are private. */
typedef struct edc_coaps {
  edc_channel_t ch;  /**< first: the channel functions take the transport as their self */
  const char *label; /**< EST label: /est/<label>/sen, or NULL */
  unsigned szx;      /**< block size 2^(szx+4), 0..6 */
  unsigned char *io; /**< caller-owned: one datagram out and one in */
  size_t io_size;
  uint16_t mid;
} edc_coaps_t;

/**
 * Prepare @p h. @p io must hold two datagrams of a block plus headers: with the default
 * szx 5 (512-byte blocks) 1,280 bytes are enough. @p szx 0..6 chooses the block size.
 */
int edc_coaps_init(edc_coaps_t *h, const edc_port_t *port, mbedtls_ctr_drbg_context *drbg,
                   const char *host, uint16_t udp_port, const char *label, uint32_t timeout_ms,
                   unsigned szx, unsigned char *io, size_t io_size);
/** Close and zeroize (NULL-safe). */
void edc_coaps_free(edc_coaps_t *h);
/** The edc_transport_t view of @p h. */
edc_transport_t edc_coaps_transport(edc_coaps_t *h);

#endif /* EDC_WITH_EST_COAPS */

#ifdef __cplusplus
}
#endif
#endif /* EDC_COAPS_H */
