/* libFuzzer target: the HTTP/1.1 response parser (edc_http_response_parse), complete and
 * incomplete, with the body view checked against the input. */
#include <stdlib.h>
#include <string.h>

#include "edc/edc_http.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  unsigned char *buf = (unsigned char *)malloc(size ? size : 1);
  edc_http_response_t r;
  int eof;
  if (buf == NULL) return 0;
  for (eof = 0; eof < 2; eof++) {
    memcpy(buf, data, size); /* the parser joins chunks in place */
    if (edc_http_response_parse(buf, size, eof, &r) == 0) {
      if (r.body == NULL || r.body < buf || r.body + r.body_len > buf + size) abort();
      if (r.consumed > size) abort();
    }
  }
  free(buf);
  return 0;
}
