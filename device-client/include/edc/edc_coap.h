/**
 * @file edc_coap.h
 * A minimal CoAP message codec (RFC 7252) with block-wise options (RFC 7959), as EST-coaps
 * (RFC 9148) needs: no allocation, options kept sorted, views into the parsed datagram.
 */
#ifndef EDC_COAP_H
#define EDC_COAP_H

#include <stddef.h>
#include <stdint.h>

#include "edc/edc_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Message types (RFC 7252 3). */
#define EDC_COAP_CON 0
#define EDC_COAP_NON 1
#define EDC_COAP_ACK 2
#define EDC_COAP_RST 3

/** Codes as class*32 + detail: EDC_COAP_CODE(2, 5) is 2.05. */
#define EDC_COAP_CODE(c, d) ((uint8_t)(((c) << 5) | (d)))
#define EDC_COAP_GET EDC_COAP_CODE(0, 1)
#define EDC_COAP_POST EDC_COAP_CODE(0, 2)

/** Option numbers used by EST-coaps. */
#define EDC_COAP_OPT_URI_HOST 3
#define EDC_COAP_OPT_URI_PORT 7
#define EDC_COAP_OPT_URI_PATH 11
#define EDC_COAP_OPT_CONTENT_FORMAT 12
#define EDC_COAP_OPT_MAX_AGE 14
#define EDC_COAP_OPT_ACCEPT 17
#define EDC_COAP_OPT_BLOCK2 23
#define EDC_COAP_OPT_BLOCK1 27
#define EDC_COAP_OPT_SIZE2 28
#define EDC_COAP_OPT_SIZE1 60

/** Content-Formats of RFC 9148. */
#define EDC_COAP_CF_PKCS7_CERTS 281 /**< application/pkcs7-mime; smime-type=certs-only */
#define EDC_COAP_CF_PKCS10 286      /**< application/pkcs10 */
#define EDC_COAP_CF_PKIX_CERT 287   /**< application/pkix-cert */

#ifndef EDC_COAP_MAX_OPTIONS
#define EDC_COAP_MAX_OPTIONS 12
#endif

/** One option: number and a view of its value. */
typedef struct edc_coap_option {
  uint16_t number;
  uint16_t len;
  const unsigned char *value;
} edc_coap_option_t;

/** A CoAP message (parsed or being built). */
typedef struct edc_coap_msg {
  uint8_t type;
  uint8_t code;
  uint16_t mid;
  uint8_t token_len;
  unsigned char token[8];
  size_t n_options;
  edc_coap_option_t options[EDC_COAP_MAX_OPTIONS];
  const unsigned char *payload;
  size_t payload_len;
  unsigned char scratch[24]; /**< storage for integer option values added with add_uint */
  size_t scratch_used;
} edc_coap_msg_t;

/** Block1/Block2 value (RFC 7959 2.2): block number, more flag, size = 2^(szx+4). */
typedef struct edc_coap_block {
  uint32_t num;
  int more;
  unsigned szx;
} edc_coap_block_t;

/** Start an empty message. */
void edc_coap_msg_init(edc_coap_msg_t *m, uint8_t type, uint8_t code, uint16_t mid,
                       const unsigned char *token, uint8_t token_len);
/** Add an option, keeping the list sorted by number (stable for repeated options). The value
 *  is borrowed. */
int edc_coap_add_option(edc_coap_msg_t *m, uint16_t number, const void *value, size_t len);
/** Add an unsigned integer option in its shortest form (0 is the empty value). */
int edc_coap_add_uint(edc_coap_msg_t *m, uint16_t number, uint32_t value);
/** Add a Block1/Block2 option. */
int edc_coap_add_block(edc_coap_msg_t *m, uint16_t number, const edc_coap_block_t *b);
/** Serialize; *olen gets the length or the size needed on EDC_ERR_BUFFER_TOO_SMALL. */
int edc_coap_write(const edc_coap_msg_t *m, unsigned char *buf, size_t size, size_t *olen);
/** Parse one datagram; EDC_ERR_MALFORMED for anything RFC 7252 forbids or we cannot hold. */
int edc_coap_parse(const unsigned char *buf, size_t len, edc_coap_msg_t *m);
/** The first option with this number, or NULL. */
const edc_coap_option_t *edc_coap_find(const edc_coap_msg_t *m, uint16_t number);
/** Decode an unsigned integer option value (at most 4 bytes). */
int edc_coap_get_uint(const edc_coap_option_t *o, uint32_t *value);
/** Decode a Block1/Block2 option. */
int edc_coap_get_block(const edc_coap_option_t *o, edc_coap_block_t *b);

#ifdef __cplusplus
}
#endif
#endif /* EDC_COAP_H */
