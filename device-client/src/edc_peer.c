/* Server certificate checks shared by the HTTPS and CoAPS transports. */
#include <string.h>

#include "edc/edc_error.h"
#include "edc_internal.h"

int edc_parse_ipv4(const char *s, unsigned char ip[4]) {
  int i;
  for (i = 0; i < 4; i++) {
    unsigned v = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) {
      v = v * 10 + (unsigned)(*s++ - '0');
      digits++;
    }
    if (digits == 0 || digits > 3 || v > 255) return 0;
    ip[i] = (unsigned char)v;
    if (i < 3 && *s++ != '.') return 0;
  }
  return *s == '\0';
}

int edc_check_ip_san(const mbedtls_x509_crt *crt, const unsigned char ip[4]) {
  const mbedtls_x509_sequence *san;
  for (san = &crt->subject_alt_names; san != NULL; san = san->next) {
    if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && san->buf.len == 4 &&
        memcmp(san->buf.p, ip, 4) == 0)
      return 0;
  }
  return EDC_ERR_UNTRUSTED;
}

int edc_verify_peer_cert(const mbedtls_x509_crt *peer, const mbedtls_x509_crt *trust,
                         const char *host) {
  unsigned char ip[4];
  uint32_t flags = 0;
  int is_ip;
  if (peer == NULL || trust == NULL || host == NULL) return EDC_ERR_UNTRUSTED;
  is_ip = edc_parse_ipv4(host, ip);
  if (mbedtls_x509_crt_verify((mbedtls_x509_crt *)peer, (mbedtls_x509_crt *)trust, NULL,
                              is_ip ? NULL : host, &flags, NULL, NULL) != 0)
    return EDC_ERR_UNTRUSTED;
  if (is_ip && edc_check_ip_san(peer, ip) != 0) return EDC_ERR_UNTRUSTED;
  return EDC_OK;
}
