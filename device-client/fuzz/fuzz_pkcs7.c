/* libFuzzer target: the certs-only PKCS#7 parser (edc_certs_parse, edc_pkcs7_parse_certs) and
 * the certificate walk over what it accepts. Every view it returns must lie inside the input. */
#include <stdlib.h>
#include <string.h>

#include "edc/edc_codec.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  /* a private copy: ASan then reports any read past the input */
  unsigned char *buf = (unsigned char *)malloc(size ? size : 1);
  edc_pkcs7_certs_t certs;
  size_t iter = 0, clen, n = 0;
  const unsigned char *cert;
  if (buf == NULL) return 0;
  memcpy(buf, data, size);
  if (edc_certs_parse(buf, size, &certs) == 0) {
    if (certs.p < buf || certs.p + certs.len > buf + size || certs.count == 0) abort();
    while (edc_pkcs7_next_cert(&certs, &iter, &cert, &clen) == 0) {
      if (cert < certs.p || cert + clen > certs.p + certs.len) abort();
      n++;
    }
    if (n != certs.count) abort(); /* the count and the walk agree */
  }
  free(buf);
  return 0;
}
