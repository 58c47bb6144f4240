/**
 * @file edc_channel.h
 * The secure channel both transports stand on: a TLS 1.2 session over the port's TCP
 * (EST over HTTPS) or a DTLS 1.2 session over its UDP (EST-coaps), with the same trust,
 * client-certificate and server-name rules. A transport embeds an edc_channel_t as its first
 * member, so the channel functions below also serve as its transport operations
 * (channel_binding, verify_peer, close).
 */
#ifndef EDC_CHANNEL_H
#define EDC_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "edc/edc_config.h"
#include "edc/edc_port.h"
#include "edc/edc_transport.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ssl.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Channel state. Fields are private. */
typedef struct edc_channel {
  const edc_port_t *port;
  mbedtls_ctr_drbg_context *drbg;
  const char *host;
  edc_conn_t *conn;
  uint32_t timeout_ms; /**< connect, handshake and read limit */
  uint16_t net_port;
  uint8_t datagram; /**< 1: DTLS over UDP, 0: TLS over TCP */
  uint8_t open;
  uint8_t is_ip; /**< host is an IPv4 literal (then ip holds it) */
  unsigned char ip[4];
#if EDC_WITH_EST_COAPS
  uint32_t timer_start; /**< DTLS retransmission timer on the port's monotonic clock (ms,
                           differences taken modulo 2^32) */
  uint32_t timer_int, timer_fin;
#endif
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
} edc_channel_t;

/**
 * Prepare @p ch for @p host : @p net_port; @p datagram selects DTLS over UDP (needs
 * EDC_WITH_EST_COAPS and port->monotonic_ms). @p timeout_ms 0 means 30 s.
 */
int edc_channel_init(edc_channel_t *ch, const edc_port_t *port, mbedtls_ctr_drbg_context *drbg,
                     const char *host, uint16_t net_port, uint32_t timeout_ms, int datagram);
/**
 * Connect and run the handshake. With auth->trust the server must verify against it (name or
 * IPv4 iPAddress SAN included); without, it is accepted provisionally until
 * edc_channel_verify_peer() (RFC 7030 4.1.1). auth->cert/key authenticate the client.
 */
int edc_channel_open(edc_channel_t *ch, const edc_est_auth_t *auth);
/** tls-unique of the open session (RFC 5929 3.1); @p self is the channel. */
int edc_channel_binding(void *self, unsigned char *out, size_t size, size_t *olen);
/** After a provisional open: verify the server certificate against @p trust. */
int edc_channel_verify_peer(void *self, const mbedtls_x509_crt *trust);
/** Send close_notify and release the session (safe when not open); @p self is the channel. */
void edc_channel_close(void *self);
/** Close and release everything (NULL-safe); the caller zeroizes the embedding struct. */
void edc_channel_free(edc_channel_t *ch);

#ifdef __cplusplus
}
#endif
#endif /* EDC_CHANNEL_H */
