#include "edc/edc_http.h"

#include <string.h>

#include "edc/edc_codec.h"
#include "mbedtls/platform_util.h"

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int ieq(const char *a, size_t alen, const char *b) {
  size_t i;
  if (alen != strlen(b)) return 0;
  for (i = 0; i < alen; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
  return 1;
}

/* Strip spaces and tabs from both ends of [*v, *v + *n). */
EDC_NOINLINE static void trim(const char **v, size_t *n) {
  while (*n && (**v == ' ' || **v == '\t')) {
    ++*v;
    --*n;
  }
  while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t')) --*n;
}

/* Does [v, v+vlen) contain token @p tok (case-insensitive, comma-separated list)? */
static int has_token(const char *v, size_t vlen, const char *tok) {
  size_t i = 0;
  while (i < vlen) {
    const char *t = v + i;
    size_t n = 0;
    for (; i < vlen && v[i] != ','; i++) n++;
    i++; /* the comma */
    trim(&t, &n);
    if (ieq(t, n, tok)) return 1;
  }
  return 0;
}

/* Parse a decimal number; returns 0 and *out, or -1 when not all digits or overflow. */
EDC_NOINLINE static int parse_dec(const char *s, size_t n, size_t *out) {
  size_t v = 0, i;
  if (n == 0) return -1;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    if (v > ((size_t)-1 - 9) / 10) return -1;
    v = v * 10 + (size_t)(s[i] - '0');
  }
  *out = v;
  return 0;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Find "\r\n" in [p, end); returns its offset or -1. */
static long find_crlf(const unsigned char *p, const unsigned char *end) {
  const unsigned char *q;
  for (q = p; q + 1 < end; q++)
    if (q[0] == '\r' && q[1] == '\n') return (long)(q - p);
  return -1;
}

/* Walk the chunked body in [body, end). With apply = 0 nothing is written (the response may
 * still be incomplete and will be parsed again); with apply = 1 the chunks are joined in
 * place. Returns 0 with *body_len and *consumed_end, or an error. */
static int dechunk(unsigned char *body, unsigned char *end, int apply, size_t *body_len,
                   unsigned char **consumed_end) {
  unsigned char *r = body, *w = body;
  for (;;) {
    long l = find_crlf(r, end);
    size_t size = 0, i;
    int any = 0;
    if (l < 0) return (end - r > 64) ? EDC_ERR_MALFORMED : EDC_ERR_INCOMPLETE;
    for (i = 0; i < (size_t)l; i++) {
      int h = hexval(r[i]);
      if (h < 0) {
        if (r[i] == ';' || r[i] == ' ' || r[i] == '\t') break; /* chunk extension */
        return EDC_ERR_MALFORMED;
      }
      if (size > ((size_t)-1 >> 4)) return EDC_ERR_MALFORMED;
      size = (size << 4) | (size_t)h;
      any = 1;
    }
    if (!any) return EDC_ERR_MALFORMED;
    r += l + 2;
    if (size == 0) {
      /* Trailer section: header lines until an empty line. */
      for (;;) {
        long t = find_crlf(r, end);
        if (t < 0) return EDC_ERR_INCOMPLETE;
        r += t + 2;
        if (t == 0) break;
      }
      *body_len = (size_t)(w - body);
      *consumed_end = r;
      return 0;
    }
    /* (not size + 2: a chunk size near SIZE_MAX would wrap) */
    if ((size_t)(end - r) < 2 || (size_t)(end - r) - 2 < size) return EDC_ERR_INCOMPLETE;
    if (r[size] != '\r' || r[size + 1] != '\n') return EDC_ERR_MALFORMED;
    if (apply) memmove(w, r, size);
    w += size;
    r += size + 2;
  }
}

/* The header fields the client reads, in the order of the switch below. */
static const char *const kFields[] = {"content-length", "transfer-encoding",         "retry-after",
                                      "content-type",   "content-transfer-encoding", "connection"};

int edc_http_response_parse(unsigned char *buf, size_t len, int eof, edc_http_response_t *out) {
  unsigned char *end = buf + len, *p, *hdr_end;
  long l;
  size_t content_length = 0, st;
  int has_cl = 0, chunked = 0;
  if (buf == NULL || out == NULL) return EDC_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  /* Find the end of the header block. */
  hdr_end = NULL;
  for (p = buf; p + 3 < end; p++) {
    if (memcmp(p, "\r\n\r\n", 4) == 0) {
      hdr_end = p + 2; /* points at the final empty line */
      break;
    }
  }
  if (hdr_end == NULL) {
    if (len > EDC_HTTP_MAX_HEADER) return EDC_ERR_BUFFER_TOO_SMALL;
    return eof ? EDC_ERR_MALFORMED : EDC_ERR_INCOMPLETE;
  }
  if ((size_t)(hdr_end - buf) > EDC_HTTP_MAX_HEADER) return EDC_ERR_BUFFER_TOO_SMALL;
  /* Status line: HTTP/1.x SP 3DIGIT SP reason */
  l = find_crlf(buf, hdr_end + 2);
  if (l < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
      buf[8] != ' ' || parse_dec((const char *)buf + 9, 3, &st) != 0 || st < 100 || st > 599 ||
      (l > 12 && buf[12] != ' '))
    return EDC_ERR_MALFORMED;
  out->status = (int)st;
  p = buf + l + 2;
  /* Header fields */
  while (p < hdr_end) {
    const char *name = (const char *)p, *val;
    size_t nlen, vlen, v, f;
    unsigned char *colon;
    l = find_crlf(p, hdr_end + 2);
    if (l <= 0) return EDC_ERR_MALFORMED;
    colon = memchr(p, ':', (size_t)l);
    if (colon == NULL) return EDC_ERR_MALFORMED;
    nlen = (size_t)(colon - p);
    /* an empty name, whitespace in it, or obsolete line folding */
    if (nlen == 0 || memchr(name, ' ', nlen) != NULL || memchr(name, '\t', nlen) != NULL)
      return EDC_ERR_MALFORMED;
    val = (const char *)colon + 1;
    vlen = (size_t)(p + l - (colon + 1));
    trim(&val, &vlen);
    for (f = 0; f < sizeof(kFields) / sizeof(kFields[0]) && !ieq(name, nlen, kFields[f]); f++) {
    }
    switch (f) {
      case 0: /* Content-Length */
        if (parse_dec(val, vlen, &v) != 0 || (has_cl && v != content_length))
          return EDC_ERR_MALFORMED;
        content_length = v;
        has_cl = 1;
        break;
      case 1: /* Transfer-Encoding */
        if (has_token(val, vlen, "chunked"))
          chunked = 1;
        else if (!has_token(val, vlen, "identity"))
          return EDC_ERR_MALFORMED;
        break;
      case 2: /* Retry-After */
        /* RFC 7030 4.2.3 uses delta-seconds; an HTTP-date is ignored (treated as absent). */
        if (parse_dec(val, vlen, &v) == 0) {
          out->retry_after_s = v > 0xffffffffUL ? 0xffffffffUL : (uint32_t)v;
          out->has_retry_after = 1;
        }
        break;
      case 3: /* Content-Type */
        out->content_type = val;
        for (v = 0; v < vlen && val[v] != ';' && val[v] != ' ';) v++;
        out->content_type_len = v;
        break;
      case 4: /* Content-Transfer-Encoding */
        out->cte_base64 = ieq(val, vlen, "base64");
        break;
      case 5: /* Connection */
        out->connection_close = has_token(val, vlen, "close");
        break;
      default:
        break;
    }
    p += l + 2;
  }
  p = hdr_end + 2;
  /* RFC 7230 3.3.3: no body for 1xx, 204, 304. */
  if (st < 200 || st == 204 || st == 304) {
    out->body = p;
    out->consumed = (size_t)(p - buf);
    return EDC_OK;
  }
  if (chunked) {
    unsigned char *cend;
    size_t blen;
    int ret = dechunk(p, end, 0, &blen, &cend);
    if (ret == EDC_ERR_INCOMPLETE && eof) return EDC_ERR_MALFORMED;
    if (ret != 0) return ret;
    (void)dechunk(p, end, 1, &blen, &cend); /* complete: now join the chunks */
    out->body = p;
    out->body_len = blen;
    out->consumed = (size_t)(cend - buf);
    return EDC_OK;
  }
  if (has_cl) {
    if ((size_t)(end - p) < content_length) return eof ? EDC_ERR_MALFORMED : EDC_ERR_INCOMPLETE;
    out->body = p;
    out->body_len = content_length;
    out->consumed = (size_t)(p - buf) + content_length;
    return EDC_OK;
  }
  if (!eof) return EDC_ERR_INCOMPLETE;
  out->body = p;
  out->body_len = (size_t)(end - p);
  out->consumed = len;
  return EDC_OK;
}

int edc_status_class_to_error(unsigned cls, unsigned detail) {
  if (cls == 4) return (detail == 1 || detail == 3) ? EDC_ERR_UNAUTHORIZED : EDC_ERR_REJECTED;
  return cls == 5 ? EDC_ERR_SERVER : EDC_ERR_HTTP;
}

int edc_http_status_to_error(const edc_http_response_t *resp) {
  unsigned st;
  if (resp == NULL) return EDC_ERR_INVALID_ARG;
  st = (unsigned)resp->status;
  if (st == 200) return EDC_OK;
  /* RFC 7030 4.2.3: 202 (and a 503 with Retry-After) means come back later */
  if (st == 202 || (st == 503 && resp->has_retry_after)) return EDC_ERR_RETRY_LATER;
  return edc_status_class_to_error(st / 100, st % 100);
}

int edc_str_join(char *buf, size_t size, size_t *olen, const char *const *parts) {
  const char *const *s;
  size_t n = 0;
  for (s = parts; *s != NULL; s++) n += strlen(*s);
  if (buf == NULL || n + 1 > size) {
    *olen = n + 1;
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  *olen = n;
  for (s = parts; *s != NULL; s++) {
    size_t l = strlen(*s);
    memcpy(buf, *s, l);
    buf += l;
  }
  *buf = '\0';
  return EDC_OK;
}

/* Decimal digits of @p v, written backwards ending at @p end (NUL-terminated); returns the
 * first digit. @p end must leave room for 20 digits and the NUL. */
EDC_NOINLINE static const char *dec(char *end, unsigned long v) {
  *--end = '\0';
  do {
    *--end = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return end;
}

int edc_http_request_write(char *buf, size_t size, size_t *olen, const char *method,
                           const char *host, uint16_t port, const char *path,
                           const char *content_type, size_t body_len, const char *auth_basic) {
  char auth[200], port_s[8], cl_s[24];
  const char *parts[20], **q = parts;
  size_t alen = 0;
  int ret;
  if (olen == NULL || method == NULL || host == NULL || path == NULL) return EDC_ERR_INVALID_ARG;
  if (strpbrk(host, "\r\n") || strpbrk(path, "\r\n ")) return EDC_ERR_INVALID_ARG;
  *q++ = method;
  *q++ = " ";
  *q++ = path;
  *q++ = " HTTP/1.1\r\nHost: ";
  *q++ = host;
  *q++ = ":";
  *q++ = dec(port_s + sizeof(port_s), port);
  *q++ = "\r\nUser-Agent: edc/0.1\r\nAccept: */*\r\n";
  if (auth_basic != NULL) {
    if (edc_base64_encode(auth, sizeof(auth), &alen, (const unsigned char *)auth_basic,
                          strlen(auth_basic)) != 0)
      return EDC_ERR_INVALID_ARG;
    *q++ = "Authorization: Basic ";
    *q++ = auth;
    *q++ = "\r\n";
  }
  if (content_type != NULL) {
    *q++ = "Content-Type: ";
    *q++ = content_type;
    *q++ = "\r\nContent-Length: ";
    *q++ = dec(cl_s + sizeof(cl_s), body_len);
    *q++ = "\r\n";
  }
  *q++ = "Connection: close\r\n\r\n";
  *q = NULL;
  ret = edc_str_join(buf, size, olen, parts);
  mbedtls_platform_zeroize(auth, sizeof(auth)); /* the encoded credentials */
  return ret;
}
