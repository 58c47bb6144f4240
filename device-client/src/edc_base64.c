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

static int is_b64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

int edc_base64_decode(unsigned char *dst, size_t dst_size, size_t *olen, const char *src,
                      size_t slen) {
  size_t i, n = 0, pad = 0, need, out = 0;
  char quad[4];
  size_t q = 0;
  if (olen == NULL || (src == NULL && slen != 0)) return EDC_ERR_INVALID_ARG;
  /* First pass: validate and size. '=' only at the very end, at most two. */
  for (i = 0; i < slen; i++) {
    char c = src[i];
    if (is_space(c)) continue;
    if (c == '=') {
      pad++;
      if (pad > 2) return EDC_ERR_MALFORMED;
    } else if (is_b64(c) && pad == 0) {
      n++;
    } else {
      return EDC_ERR_MALFORMED;
    }
  }
  if ((n + pad) % 4 != 0 || (pad > 0 && (n % 4) + pad != 4)) return EDC_ERR_MALFORMED;
  need = (n / 4) * 3 + (pad ? 3 - pad : 0);
  if (dst == NULL || dst_size < need) {
    *olen = need;
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  /* Second pass: decode one quad at a time through Mbed TLS. */
  for (i = 0; i < slen; i++) {
    size_t got;
    if (is_space(src[i])) continue;
    quad[q++] = src[i];
    if (q == 4) {
      if (mbedtls_base64_decode(dst + out, dst_size - out, &got, (const unsigned char *)quad, 4) !=
          0) {
        return EDC_ERR_MALFORMED;
      }
      out += got;
      q = 0;
    }
  }
  *olen = out;
  return EDC_OK;
}
