/* CoAP message codec (RFC 7252 3 and 3.1) and block options (RFC 7959 2.2). */
#include "edc/edc_coap.h"

#include <string.h>

#include "edc/edc_config.h"

void edc_coap_msg_init(edc_coap_msg_t *m, uint8_t type, uint8_t code, uint16_t mid,
                       const unsigned char *token, uint8_t token_len) {
  if (m == NULL) return;
  memset(m, 0, sizeof(*m));
  m->type = type;
  m->code = code;
  m->mid = mid;
  if (token != NULL && token_len <= 8) {
    memcpy(m->token, token, token_len);
    m->token_len = token_len;
  }
}

int edc_coap_add_option(edc_coap_msg_t *m, uint16_t number, const void *value, size_t len) {
  size_t i;
  if (m == NULL || (value == NULL && len) || len > 1034) return EDC_ERR_INVALID_ARG;
  if (m->n_options == EDC_COAP_MAX_OPTIONS) return EDC_ERR_BUFFER_TOO_SMALL;
  i = m->n_options;
  while (i > 0 && m->options[i - 1].number > number) {
    m->options[i] = m->options[i - 1];
    i--;
  }
  m->options[i].number = number;
  m->options[i].len = (uint16_t)len;
  m->options[i].value = (const unsigned char *)value;
  m->n_options++;
  return EDC_OK;
}

int edc_coap_add_uint(edc_coap_msg_t *m, uint16_t number, uint32_t value) {
  unsigned char *b;
  size_t n = 0, i;
  if (m == NULL) return EDC_ERR_INVALID_ARG;
  while (n < 4 && (value >> (8 * n)) != 0) n++; /* shortest form: 0 is the empty value */
  if (m->scratch_used + n > sizeof(m->scratch)) return EDC_ERR_BUFFER_TOO_SMALL;
  b = m->scratch + m->scratch_used;
  for (i = n; i-- > 0; value >>= 8) b[i] = (unsigned char)value;
  m->scratch_used += n;
  return edc_coap_add_option(m, number, b, n);
}

int edc_coap_add_block(edc_coap_msg_t *m, uint16_t number, const edc_coap_block_t *b) {
  if (b == NULL || b->szx > 6 || b->num > 0xFFFFF) return EDC_ERR_INVALID_ARG;
  return edc_coap_add_uint(m, number, (b->num << 4) | (b->more ? 8u : 0u) | b->szx);
}

/* Option delta/length nibble (RFC 7252 3.1). */
EDC_NOINLINE static unsigned nibble(uint32_t v) { return v < 13 ? v : (v < 269 ? 13u : 14u); }

/* Append @p len bytes at offset *n of @p out (counted only when @p out is NULL). */
static void put(unsigned char *out, size_t *n, const void *src, size_t len) {
  if (out != NULL && len) memcpy(out + *n, src, len);
  *n += len;
}

/* The extension bytes of a delta or length of nibble 13 or 14. */
static void put_ext(unsigned char *out, size_t *n, uint32_t v) {
  unsigned char b[2];
  unsigned nb = nibble(v);
  if (nb == 14) {
    v -= 269;
    b[0] = (unsigned char)(v >> 8);
    b[1] = (unsigned char)v;
    put(out, n, b, 2);
  } else if (nb == 13) {
    b[0] = (unsigned char)(v - 13);
    put(out, n, b, 1);
  }
}

int edc_coap_write(const edc_coap_msg_t *m, unsigned char *buf, size_t size, size_t *olen) {
  unsigned char *out = NULL;
  int pass;
  if (m == NULL || olen == NULL || m->token_len > 8 || m->type > 3) return EDC_ERR_INVALID_ARG;
  /* pass 0 measures (out == NULL), pass 1 writes the same bytes */
  for (pass = 0; pass < 2; pass++) {
    size_t i, n = 0;
    uint16_t prev = 0;
    unsigned char b[4];
    b[0] = (unsigned char)(0x40 | (m->type << 4) | m->token_len); /* version 1 */
    b[1] = m->code;
    b[2] = (unsigned char)(m->mid >> 8);
    b[3] = (unsigned char)m->mid;
    put(out, &n, b, 4);
    put(out, &n, m->token, m->token_len);
    for (i = 0; i < m->n_options; i++) {
      const edc_coap_option_t *o = &m->options[i];
      uint32_t delta = (uint32_t)(o->number - prev);
      if (o->number < prev) return EDC_ERR_INVALID_ARG;
      b[0] = (unsigned char)((nibble(delta) << 4) | nibble(o->len));
      put(out, &n, b, 1);
      put_ext(out, &n, delta);
      put_ext(out, &n, o->len);
      put(out, &n, o->value, o->len);
      prev = o->number;
    }
    if (m->payload_len > 0) {
      b[0] = 0xFF;
      put(out, &n, b, 1);
      put(out, &n, m->payload, m->payload_len);
    }
    *olen = n;
    if (buf == NULL || size < n) return EDC_ERR_BUFFER_TOO_SMALL;
    out = buf;
  }
  return EDC_OK;
}

/* Read an extended delta or length; returns -1 on error (15 or truncated). */
static long get_ext(unsigned n, const unsigned char **p, const unsigned char *end) {
  if (n < 13) return (long)n;
  if (n == 13) {
    if (*p + 1 > end) return -1;
    return 13 + *(*p)++;
  }
  if (n == 14) {
    long v;
    if (*p + 2 > end) return -1;
    v = ((long)(*p)[0] << 8 | (*p)[1]) + 269;
    *p += 2;
    return v;
  }
  return -1;
}

int edc_coap_parse(const unsigned char *buf, size_t len, edc_coap_msg_t *m) {
  const unsigned char *p = buf, *end = buf + len;
  uint32_t number = 0;
  if (buf == NULL || m == NULL) return EDC_ERR_INVALID_ARG;
  memset(m, 0, sizeof(*m));
  if (len < 4 || (buf[0] >> 6) != 1) return EDC_ERR_MALFORMED;
  m->type = (uint8_t)((buf[0] >> 4) & 3);
  m->token_len = (uint8_t)(buf[0] & 0x0f);
  m->code = buf[1];
  m->mid = (uint16_t)(buf[2] << 8 | buf[3]);
  if (m->token_len > 8) return EDC_ERR_MALFORMED;
  p += 4;
  if ((size_t)(end - p) < m->token_len) return EDC_ERR_MALFORMED;
  memcpy(m->token, p, m->token_len);
  p += m->token_len;
  if (m->code == 0 && (m->token_len != 0 || p != end)) return EDC_ERR_MALFORMED; /* empty msg */
  while (p < end) {
    unsigned d, l;
    long delta, olen;
    if (*p == 0xFF) {
      p++;
      if (p == end) return EDC_ERR_MALFORMED; /* marker without payload */
      m->payload = p;
      m->payload_len = (size_t)(end - p);
      return EDC_OK;
    }
    d = *p >> 4;
    l = *p & 0x0f;
    p++;
    delta = get_ext(d, &p, end);
    olen = get_ext(l, &p, end);
    if (delta < 0 || olen < 0 || (size_t)(end - p) < (size_t)olen) return EDC_ERR_MALFORMED;
    number += (uint32_t)delta;
    if (number > 0xFFFF) return EDC_ERR_MALFORMED;
    if (m->n_options == EDC_COAP_MAX_OPTIONS) return EDC_ERR_MALFORMED;
    m->options[m->n_options].number = (uint16_t)number;
    m->options[m->n_options].len = (uint16_t)olen;
    m->options[m->n_options].value = p;
    m->n_options++;
    p += olen;
  }
  return EDC_OK;
}

const edc_coap_option_t *edc_coap_find(const edc_coap_msg_t *m, uint16_t number) {
  size_t i;
  if (m == NULL) return NULL;
  for (i = 0; i < m->n_options; i++)
    if (m->options[i].number == number) return &m->options[i];
  return NULL;
}

int edc_coap_get_uint(const edc_coap_option_t *o, uint32_t *value) {
  uint32_t v = 0;
  size_t i;
  if (o == NULL || value == NULL) return EDC_ERR_INVALID_ARG;
  if (o->len > 4) return EDC_ERR_MALFORMED;
  for (i = 0; i < o->len; i++) v = (v << 8) | o->value[i];
  *value = v;
  return EDC_OK;
}

int edc_coap_get_block(const edc_coap_option_t *o, edc_coap_block_t *b) {
  uint32_t v;
  int ret;
  if (b == NULL) return EDC_ERR_INVALID_ARG;
  if ((ret = edc_coap_get_uint(o, &v)) != 0) return ret;
  if (o->len > 3 || (v & 7) == 7) return EDC_ERR_MALFORMED; /* szx 7 is reserved */
  b->num = v >> 4;
  b->more = (v & 8) != 0;
  b->szx = v & 7;
  return EDC_OK;
}
