#include <string.h>

#include "edc/edc_codec.h"
#include "mbedtls/base64.h"

int edc_base64_encode(char *dst, size_t dst_size, size_t *olen, const unsigned char *src,
                      size_t slen) {
  size_t need;
  if (olen == NULL || (src == NULL && slen != 0)) return EDC_ERR_INVALID_ARG;
  need = 4 * ((slen + 2) / 3) + 1;
  if (dst == NULL || dst_size < need) {
    *olen = need;
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  dst[0] = '\0'; /* Mbed TLS writes nothing at all for empty input */
  *olen = 0;
  if (slen > 0 && mbedtls_base64_encode((unsigned char *)dst, dst_size, olen, src, slen) != 0) {
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  return EDC_OK;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int edc_base64_decode(unsigned char *dst, size_t dst_size, size_t *olen, const char *src,
                      size_t slen) {
  size_t i, out = 0;
  unsigned char quad[4], tmp[3];
  size_t q = 0, got = 3;
  if (olen == NULL || (src == NULL && slen != 0)) return EDC_ERR_INVALID_ARG;
  /* One pass, a quad at a time through Mbed TLS, which rejects stray characters and padding
   * anywhere but at the end of a quad; whitespace is skipped here, anywhere (RFC 8951). */
  for (i = 0; i < slen; i++) {
    if (is_space(src[i])) continue;
    quad[q++] = (unsigned char)src[i];
    if (q < 4) continue;
    q = 0;
    /* nothing may follow a padded quad */
    if (got < 3 || mbedtls_base64_decode(tmp, sizeof(tmp), &got, quad, 4) != 0)
      return EDC_ERR_MALFORMED;
    if (dst != NULL && out + got <= dst_size) memcpy(dst + out, tmp, got);
    out += got;
  }
  if (q != 0) return EDC_ERR_MALFORMED;
  *olen = out;
  return dst == NULL || out > dst_size ? EDC_ERR_BUFFER_TOO_SMALL : EDC_OK;
}
