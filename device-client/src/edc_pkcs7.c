/* A certs-only PKCS#7 parser (RFC 2315 / RFC 5652 SignedData, "degenerate" form used by EST,
 * RFC 7030 4.1.3). Mbed TLS 2.28 has none; this one is written on its ASN.1 primitives, which
 * check every length against the end pointer. */
#include <string.h>

#include "edc/edc_codec.h"
#include "mbedtls/asn1.h"

/* 1.2.840.113549.1.7.2 signedData, 1.2.840.113549.1.7.1 data */
static const unsigned char kOidSignedData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                               0x0d, 0x01, 0x07, 0x02};
static const unsigned char kOidData[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};

static int get_oid(unsigned char **p, const unsigned char *end, const unsigned char *oid,
                   size_t oid_len) {
  size_t len;
  if (mbedtls_asn1_get_tag(p, end, &len, MBEDTLS_ASN1_OID) != 0) return EDC_ERR_MALFORMED;
  if (len != oid_len || memcmp(*p, oid, oid_len) != 0) return EDC_ERR_MALFORMED;
  *p += len;
  return 0;
}

/* Walk a run of DER SEQUENCEs filling [p, end) exactly; returns their count or an error. */
static int count_certs(unsigned char *p, const unsigned char *end, size_t *count) {
  size_t n = 0, len;
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
        0) {
      return EDC_ERR_MALFORMED;
    }
    if (len == 0) return EDC_ERR_MALFORMED;
    p += len;
    n++;
  }
  *count = n;
  return 0;
}

#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define SET (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET)
#define CTX(n) (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | (n))

/* Read the header of a @p tag element that must fill [*p, end) exactly. */
static int get_whole(unsigned char **p, const unsigned char *end, int tag) {
  size_t len;
  return mbedtls_asn1_get_tag(p, end, &len, tag) != 0 || *p + len != end;
}

int edc_pkcs7_parse_certs(const unsigned char *der, size_t der_len, edc_pkcs7_certs_t *out) {
  unsigned char *p = (unsigned char *)der; /* Mbed TLS takes non-const; we never write */
  const unsigned char *end, *eci_end;
  size_t len;
  int version;
  if (der == NULL || out == NULL) return EDC_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  end = der + der_len;

  /* ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }, no trailing bytes;
   * SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo,
   *   certificates [0] IMPLICIT OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos SET } */
  if (get_whole(&p, end, SEQ) || get_oid(&p, end, kOidSignedData, sizeof(kOidSignedData)) != 0 ||
      get_whole(&p, end, CTX(0)) || get_whole(&p, end, SEQ) ||
      mbedtls_asn1_get_int(&p, end, &version) != 0 || version < 1 || version > 5 ||
      mbedtls_asn1_get_tag(&p, end, &len, SET) != 0)
    return EDC_ERR_MALFORMED;
  p += len; /* digestAlgorithms: empty for certs-only, ignored otherwise */
  if (mbedtls_asn1_get_tag(&p, end, &len, SEQ) != 0) return EDC_ERR_MALFORMED;
  eci_end = p + len;
  if (get_oid(&p, eci_end, kOidData, sizeof(kOidData)) != 0) return EDC_ERR_MALFORMED;
  p = (unsigned char *)eci_end; /* any (absent) eContent is skipped */

  /* (a tag present must parse: get_tag may have moved p when it fails) */
  if (p < end && *p == CTX(0)) {
    if (mbedtls_asn1_get_tag(&p, end, &len, CTX(0)) != 0 || count_certs(p, p + len, &out->count))
      return EDC_ERR_MALFORMED;
    out->p = p;
    out->len = len;
    p += len;
  }
  if (p < end && *p == CTX(1)) {
    if (mbedtls_asn1_get_tag(&p, end, &len, CTX(1)) != 0) return EDC_ERR_MALFORMED;
    p += len; /* CRLs: unused by EST */
  }
  /* signerInfos: empty in certs-only; ignored */
  if (get_whole(&p, end, SET)) return EDC_ERR_MALFORMED;
  if (out->count == 0) {
    memset(out, 0, sizeof(*out));
    return EDC_ERR_NOT_FOUND;
  }
  return EDC_OK;
}

int edc_certs_parse(const unsigned char *der, size_t len, edc_pkcs7_certs_t *out) {
  int ret = edc_pkcs7_parse_certs(der, len, out);
  unsigned char *p = (unsigned char *)der;
  /* RFC 9148 4.3: one DER Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, ... } filling the
   * buffer; a ContentInfo starts with an OID instead. */
  if (ret == EDC_ERR_MALFORMED && !get_whole(&p, der + len, SEQ) && p < der + len && *p == SEQ) {
    out->p = der;
    out->len = len;
    out->count = 1;
    ret = EDC_OK;
  }
  return ret;
}

int edc_pkcs7_next_cert(const edc_pkcs7_certs_t *certs, size_t *iter, const unsigned char **cert,
                        size_t *cert_len) {
  unsigned char *p;
  const unsigned char *end;
  size_t len;
  if (certs == NULL || iter == NULL || cert == NULL || cert_len == NULL) return EDC_ERR_INVALID_ARG;
  if (certs->p == NULL || *iter >= certs->len) return EDC_ERR_NOT_FOUND;
  p = (unsigned char *)certs->p + *iter;
  end = certs->p + certs->len;
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
    return EDC_ERR_MALFORMED;
  *cert = certs->p + *iter;
  *cert_len = (size_t)(p + len - *cert);
  *iter += *cert_len;
  return EDC_OK;
}

/* Write a DER length at p (returns bytes written: 1, 2 or 3 for lengths below 65536). */
static size_t put_len(unsigned char *p, size_t len) {
  if (len < 0x80) {
    p[0] = (unsigned char)len;
    return 1;
  }
  if (len < 0x100) {
    p[0] = 0x81;
    p[1] = (unsigned char)len;
    return 2;
  }
  p[0] = 0x82;
  p[1] = (unsigned char)(len >> 8);
  p[2] = (unsigned char)len;
  return 3;
}

static size_t len_len(size_t len) { return len < 0x80 ? 1 : (len < 0x100 ? 2 : 3); }

int edc_pkcs7_wrap_cert(unsigned char *buf, size_t size, size_t cert_len, size_t *olen) {
  /* ContentInfo { signedData, [0] { SignedData { 1, {}, { data }, [0] { cert }, {} } } } */
  static const unsigned char eci[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48,
                                      0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
  size_t certs = 1 + len_len(cert_len) + cert_len;
  size_t sd_body = 3 + 2 + sizeof(eci) + certs + 2;
  size_t sd = 1 + len_len(sd_body) + sd_body;
  size_t ex = 1 + len_len(sd) + sd;
  size_t ci_body = 2 + sizeof(kOidSignedData) + ex;
  size_t total = 1 + len_len(ci_body) + ci_body, off = 0;
  if (buf == NULL || olen == NULL || cert_len == 0 || cert_len > 60000) return EDC_ERR_INVALID_ARG;
  if (total > size) {
    *olen = total;
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  memmove(buf + total - 2 - cert_len, buf, cert_len);
  buf[off++] = 0x30;
  off += put_len(buf + off, ci_body);
  buf[off++] = 0x06;
  buf[off++] = (unsigned char)sizeof(kOidSignedData);
  memcpy(buf + off, kOidSignedData, sizeof(kOidSignedData));
  off += sizeof(kOidSignedData);
  buf[off++] = 0xa0;
  off += put_len(buf + off, sd);
  buf[off++] = 0x30;
  off += put_len(buf + off, sd_body);
  buf[off++] = 0x02;
  buf[off++] = 0x01;
  buf[off++] = 0x01; /* version 1 */
  buf[off++] = 0x31;
  buf[off++] = 0x00; /* digestAlgorithms */
  memcpy(buf + off, eci, sizeof(eci));
  off += sizeof(eci);
  buf[off++] = 0xa0;
  off += put_len(buf + off, cert_len);
  off += cert_len; /* the certificate was moved here */
  buf[off++] = 0x31;
  buf[off++] = 0x00; /* signerInfos */
  *olen = off;
  return off == total ? EDC_OK : EDC_ERR_INVALID_ARG;
}
