/**
 * @file edc_codec.h
 * Codecs used by EST (RFC 7030): base64 in and out, and a certs-only PKCS#7 parser.
 * No allocation: outputs go to caller-owned buffers, and the parser returns views into the
 * caller's input.
 */
#ifndef EDC_CODEC_H
#define EDC_CODEC_H

#include <stddef.h>

#include "edc/edc_config.h"
#include "edc/edc_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Base64-encode @p src into @p dst as one line, NUL-terminated. *olen receives the length
 * written (without the NUL), or the size needed (with the NUL) on EDC_ERR_BUFFER_TOO_SMALL.
 */
int edc_base64_encode(char *dst, size_t dst_size, size_t *olen, const unsigned char *src,
                      size_t slen);

/**
 * Base64-decode @p src, skipping any whitespace (CR, LF, space, tab) anywhere, as RFC 8951
 * asks of EST peers. *olen receives the bytes written, or the size needed on
 * EDC_ERR_BUFFER_TOO_SMALL. Returns EDC_ERR_MALFORMED for any other stray character or bad
 * padding.
 */
int edc_base64_decode(unsigned char *dst, size_t dst_size, size_t *olen, const char *src,
                      size_t slen);

/** A view of the certificates inside a certs-only PKCS#7 (points into the parsed buffer). */
typedef struct edc_pkcs7_certs {
  const unsigned char *p; /**< first certificate's tag byte */
  size_t len;             /**< bytes of all certificates together */
  size_t count;           /**< number of certificates */
} edc_pkcs7_certs_t;

/**
 * Parse a DER certs-only PKCS#7 ContentInfo (SignedData with certificates and no signers, the
 * EST /cacerts and /simpleenroll response, RFC 7030 4.1.3 and 4.2.3). Checks every length
 * against the buffer and rejects trailing bytes. Certificates are checked to be well-formed
 * SEQUENCEs only; parse them with mbedtls_x509_crt_parse_der(). Returns EDC_ERR_MALFORMED on
 * any structural error, and EDC_ERR_NOT_FOUND if the SignedData carries no certificate.
 */
int edc_pkcs7_parse_certs(const unsigned char *der, size_t len, edc_pkcs7_certs_t *out);

/**
 * What an EST response may carry: a certs-only PKCS#7 as edc_pkcs7_parse_certs(), or one DER
 * certificate (the application/pkix-cert answer of EST-coaps, RFC 9148 4.3), viewed as a set
 * of one. Same return codes.
 */
int edc_certs_parse(const unsigned char *der, size_t len, edc_pkcs7_certs_t *out);

/**
 * Step through the certificates: *iter starts at 0; each call sets *cert and *cert_len to the next
 * DER certificate. Returns 0, or EDC_ERR_NOT_FOUND after the last one.
 */
int edc_pkcs7_next_cert(const edc_pkcs7_certs_t *certs, size_t *iter, const unsigned char **cert,
                        size_t *cert_len);

/**
 * Wrap one DER certificate, which sits at the start of @p buf (cert_len bytes), into a
 * certs-only PKCS#7 in place (e.g. to hand an EST-coaps application/pkix-cert answer,
 * RFC 9148 4.3, to a tool that expects PKCS#7; the client itself reads it with
 * edc_certs_parse()). *olen gets the new length, or the size needed.
 */
int edc_pkcs7_wrap_cert(unsigned char *buf, size_t size, size_t cert_len, size_t *olen);

#ifdef __cplusplus
}
#endif
#endif /* EDC_CODEC_H */
