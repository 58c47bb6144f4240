/**
 * @file edc_port.h
 * The port layer the integrator fills in: network, clocks, entropy and persistent storage.
 * The library keeps no global state; every call reaches the platform through one of these
 * tables. A POSIX port is in port/posix/.
 */
#ifndef EDC_PORT_H
#define EDC_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "edc/edc_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Storage slots. Each slot is committed atomically as a whole. */
typedef enum edc_slot {
  EDC_SLOT_OPERATIONAL = 0, /**< operational key + certificate chain (edc_bundle format) */
  EDC_SLOT_CA = 1,          /**< trusted EST CA certificates, concatenated DER */
  EDC_SLOT_COUNT
} edc_slot_t;

/** One network connection, owned by the port. */
typedef struct edc_conn edc_conn_t;

/** The platform. Function pointers may be NULL where noted. */
typedef struct edc_port {
  void *ctx; /**< passed back to every function */

  /** Open a TCP (udp = 0) or UDP (udp = 1) connection; *conn receives the handle. */
  int (*net_connect)(void *ctx, const char *host, uint16_t port, int udp, uint32_t timeout_ms,
                     edc_conn_t **conn);
  /** Send up to len bytes; returns bytes sent (> 0) or a negative EDC_ERR_*. */
  int (*net_send)(edc_conn_t *conn, const unsigned char *buf, size_t len);
  /** Receive up to len bytes within timeout_ms; returns bytes (> 0), 0 at end of stream,
   *  EDC_ERR_TIMEOUT or another negative EDC_ERR_*. */
  int (*net_recv)(edc_conn_t *conn, unsigned char *buf, size_t len, uint32_t timeout_ms);
  /** Close and release a connection (NULL-safe). */
  void (*net_close)(edc_conn_t *conn);

  /** Monotonic milliseconds (for timeouts and sleeping). */
  uint64_t (*monotonic_ms)(void *ctx);
  /** Wall clock, seconds since 1970-01-01 UTC; negative when unknown. */
  int64_t (*wall_time_s)(void *ctx);
  /** Sleep (used only by the renewal loop); may be NULL. */
  void (*sleep_ms)(void *ctx, uint32_t ms);

  /** Fill buf with len bytes of true entropy (seed for CTR_DRBG). Returns 0 or < 0. */
  int (*entropy)(void *ctx, unsigned char *buf, size_t len);

  /** Read a slot: *olen gets the length (or the size needed on EDC_ERR_BUFFER_TOO_SMALL);
   *  EDC_ERR_NOT_FOUND when empty. */
  int (*store_read)(void *ctx, edc_slot_t slot, unsigned char *buf, size_t size, size_t *olen);
  /** Replace a slot atomically: after a crash at any point the slot holds either the old or
   *  the new content, never a mix. */
  int (*store_commit)(void *ctx, edc_slot_t slot, const unsigned char *buf, size_t len);
} edc_port_t;

#ifdef __cplusplus
}
#endif
#endif /* EDC_PORT_H */
