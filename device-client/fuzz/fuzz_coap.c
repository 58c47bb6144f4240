/* libFuzzer target: the CoAP message parser (edc_coap_parse): options and payload must point
 * into the datagram, and what parses is written back to the same length. */
#include <stdlib.h>
#include <string.h>

#include "edc/edc_coap.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  unsigned char *buf = (unsigned char *)malloc(size ? size : 1), out[2048];
  edc_coap_msg_t m;
  size_t i, n = 0;
  if (buf == NULL) return 0;
  memcpy(buf, data, size);
  if (edc_coap_parse(buf, size, &m) == 0) {
    for (i = 0; i < m.n_options; i++)
      if (m.options[i].len > 0 &&
          (m.options[i].value < buf || m.options[i].value + m.options[i].len > buf + size))
        abort();
    if (m.payload_len > 0 && (m.payload < buf || m.payload + m.payload_len > buf + size)) abort();
    if (size <= sizeof(out) && edc_coap_write(&m, out, sizeof(out), &n) == 0 && n > size) abort();
  }
  free(buf);
  return 0;
}
