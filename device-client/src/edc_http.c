#include "edc/edc_http.h"

#include <stdio.h>
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

/* Does [v, v+vlen) contain token @p tok (case-insensitive, comma-separated list)? */
static int has_token(const char *v, size_t vlen, const char *tok) {
  size_t i = 0;
  while (i < vlen) {
    size_t s, e;
    while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
    s = i;
    while (i < vlen && v[i] != ',') i++;
    e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
    if (e > s && ieq(v + s, e - s, tok)) return 1;
  }
  return 0;
}

/* Parse a decimal number; returns 0 and *out, or -1 when not all digits or overflow. */
static int parse_dec(const char *s, size_t n, size_t *out) {
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
    if ((size_t)(end - r) < size + 2) return EDC_ERR_INCOMPLETE;
    if (r[size] != '\r' || r[size + 1] != '\n') return EDC_ERR_MALFORMED;
    if (apply) memmove(w, r, size);
    w += size;
    r += size + 2;
  }
}

int edc_http_response_parse(unsigned char *buf, size_t len, int eof, edc_http_response_t *out) {
  unsigned char *end = buf + len, *p, *hdr_end;
  long l;
  size_t content_length = 0;
  int has_cl = 0, chunked = 0, st;
  if (buf == NULL || out == NULL) return EDC_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  /* Find the end of the header block. */
  hdr_end = NULL;
  for (p = buf; p + 3 < end; p++) {
    if (p[0] == '\r' && p[1] == '\n' && p[2] == '\r' && p[3] == '\n') {
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
  if (l < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
    return EDC_ERR_MALFORMED;
  if (buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
      buf[11] > '9' || (l > 12 && buf[12] != ' '))
    return EDC_ERR_MALFORMED;
  st = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
  out->status = st;
  p = buf + l + 2;
  /* Header fields */
  while (p < hdr_end) {
    const char *name, *val;
    size_t nlen, vlen;
    unsigned char *colon;
    l = find_crlf(p, hdr_end + 2);
    if (l <= 0) return EDC_ERR_MALFORMED;
    if (p[0] == ' ' || p[0] == '\t') return EDC_ERR_MALFORMED; /* obsolete folding */
    colon = memchr(p, ':', (size_t)l);
    if (colon == NULL || colon == p) return EDC_ERR_MALFORMED;
    name = (const char *)p;
    nlen = (size_t)(colon - p);
    if (memchr(name, ' ', nlen) != NULL || memchr(name, '\t', nlen) != NULL)
      return EDC_ERR_MALFORMED;
    val = (const char *)colon + 1;
    vlen = (size_t)(p + l - (colon + 1));
    while (vlen && (*val == ' ' || *val == '\t')) {
      val++;
      vlen--;
    }
    while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t')) vlen--;
    if (ieq(name, nlen, "content-length")) {
      size_t v;
      if (parse_dec(val, vlen, &v) != 0) return EDC_ERR_MALFORMED;
      if (has_cl && v != content_length) return EDC_ERR_MALFORMED;
      content_length = v;
      has_cl = 1;
    } else if (ieq(name, nlen, "transfer-encoding")) {
      if (has_token(val, vlen, "chunked"))
        chunked = 1;
      else if (!has_token(val, vlen, "identity"))
        return EDC_ERR_MALFORMED;
    } else if (ieq(name, nlen, "retry-after")) {
      size_t v;
      /* RFC 7030 4.2.3 uses delta-seconds; an HTTP-date is ignored (treated as absent). */
      if (parse_dec(val, vlen, &v) == 0) {
        out->retry_after_s = v > 0xffffffffUL ? 0xffffffffUL : (uint32_t)v;
        out->has_retry_after = 1;
      }
    } else if (ieq(name, nlen, "content-type")) {
      size_t n = 0;
      while (n < vlen && val[n] != ';' && val[n] != ' ') n++;
      out->content_type = val;
      out->content_type_len = n;
    } else if (ieq(name, nlen, "content-transfer-encoding")) {
      out->cte_base64 = ieq(val, vlen, "base64");
    } else if (ieq(name, nlen, "connection")) {
      out->connection_close = has_token(val, vlen, "close");
    }
    p += l + 2;
  }
  p = hdr_end + 2;
  /* RFC 7230 3.3.3: no body for 1xx, 204, 304. */
  if ((st >= 100 && st < 200) || st == 204 || st == 304) {
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

int edc_http_status_to_error(const edc_http_response_t *resp) {
  if (resp == NULL) return EDC_ERR_INVALID_ARG;
  if (resp->status == 200) return EDC_OK;
  if (resp->status == 202) return EDC_ERR_RETRY_LATER;
  if (resp->status == 401 || resp->status == 403) return EDC_ERR_UNAUTHORIZED;
  if (resp->status >= 400 && resp->status < 500) return EDC_ERR_REJECTED;
  if (resp->status == 503 && resp->has_retry_after) return EDC_ERR_RETRY_LATER;
  if (resp->status >= 500) return EDC_ERR_SERVER;
  return EDC_ERR_HTTP;
}

int edc_http_request_write(char *buf, size_t size, size_t *olen, const char *method,
                           const char *host, uint16_t port, const char *path,
                           const char *content_type, size_t body_len, const char *auth_basic) {
  char auth[200];
  size_t alen = 0;
  int n;
  if (olen == NULL || method == NULL || host == NULL || path == NULL) return EDC_ERR_INVALID_ARG;
  if (strpbrk(host, "\r\n") || strpbrk(path, "\r\n ")) return EDC_ERR_INVALID_ARG;
  auth[0] = '\0';
  if (auth_basic != NULL) {
    int ret = edc_base64_encode(auth, sizeof(auth), &alen, (const unsigned char *)auth_basic,
                                strlen(auth_basic));
    if (ret != 0) return EDC_ERR_INVALID_ARG;
  }
  n = snprintf(buf, buf ? size : 0,
               "%s %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: edc/0.1\r\nAccept: */*\r\n"
               "%s%s%s"
               "%s%s%s"
               "Connection: close\r\n\r\n",
               method, path, host, (unsigned)port, auth_basic ? "Authorization: Basic " : "", auth,
               auth_basic ? "\r\n" : "", content_type ? "Content-Type: " : "",
               content_type ? content_type : "", content_type ? "\r\n" : "");
  mbedtls_platform_zeroize(auth, sizeof(auth)); /* the encoded credentials */
  if (n < 0) return EDC_ERR_INVALID_ARG;
  if (content_type != NULL) {
    /* Content-Length appended separately to keep the format above readable. */
    char cl[40];
    int m = snprintf(cl, sizeof(cl), "Content-Length: %lu\r\n", (unsigned long)body_len);
    size_t need = (size_t)n + (size_t)m + 1;
    if (buf == NULL || need > size) {
      *olen = need;
      return EDC_ERR_BUFFER_TOO_SMALL;
    }
    /* insert before the final "Connection: close\r\n\r\n" */
    {
      size_t tail = strlen("Connection: close\r\n\r\n");
      memmove(buf + n - tail + m, buf + n - tail, tail + 1);
      memcpy(buf + n - tail, cl, (size_t)m);
      n += m;
    }
  } else if (buf == NULL || (size_t)n + 1 > size) {
    *olen = (size_t)n + 1;
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  *olen = (size_t)n;
  return EDC_OK;
}
