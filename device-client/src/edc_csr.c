#include "edc/edc_csr.h"

#include <string.h>

#include "mbedtls/asn1write.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"

void edc_key_init(edc_key_t *key) {
  if (key == NULL) return;
  memset(key, 0, sizeof(*key));
  mbedtls_ecp_keypair_init(&key->kp);
}

void edc_key_free(edc_key_t *key) {
  if (key == NULL) return;
  mbedtls_ecp_keypair_free(&key->kp);
  mbedtls_platform_zeroize(key, sizeof(*key));
}

static int load_group(edc_key_t *key) {
  if (key->kp.grp.id == MBEDTLS_ECP_DP_SECP256R1) return 0;
  return mbedtls_ecp_group_load(&key->kp.grp, MBEDTLS_ECP_DP_SECP256R1) == 0 ? 0 : EDC_ERR_CRYPTO;
}

int edc_key_generate(edc_key_t *key, edc_rng_fn f_rng, void *p_rng) {
  if (key == NULL || f_rng == NULL) return EDC_ERR_INVALID_ARG;
  mbedtls_ecp_keypair_free(&key->kp);
  mbedtls_ecp_keypair_init(&key->kp);
  key->sign = NULL;
  key->has_private = 0;
  if (mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &key->kp, f_rng, p_rng) != 0)
    return EDC_ERR_CRYPTO;
  key->has_private = 1;
  return EDC_OK;
}

int edc_key_import_private(edc_key_t *key, const unsigned char *d, size_t d_len, edc_rng_fn f_rng,
                           void *p_rng) {
  int ret;
  if (key == NULL || d == NULL || d_len != EDC_P256_PRIVATE_LEN || f_rng == NULL)
    return EDC_ERR_INVALID_ARG;
  mbedtls_ecp_keypair_free(&key->kp);
  mbedtls_ecp_keypair_init(&key->kp);
  key->sign = NULL;
  key->has_private = 0;
  if ((ret = load_group(key)) != 0) return ret;
  if (mbedtls_mpi_read_binary(&key->kp.d, d, d_len) != 0 ||
      mbedtls_ecp_check_privkey(&key->kp.grp, &key->kp.d) != 0) {
    return EDC_ERR_MALFORMED;
  }
  if (mbedtls_ecp_mul(&key->kp.grp, &key->kp.Q, &key->kp.d, &key->kp.grp.G, f_rng, p_rng) != 0)
    return EDC_ERR_CRYPTO;
  key->has_private = 1;
  return EDC_OK;
}

int edc_key_export_private(const edc_key_t *key, unsigned char *d, size_t d_size) {
  if (key == NULL || d == NULL) return EDC_ERR_INVALID_ARG;
  if (!key->has_private) return EDC_ERR_UNSUPPORTED;
  if (d_size < EDC_P256_PRIVATE_LEN) return EDC_ERR_BUFFER_TOO_SMALL;
  return mbedtls_mpi_write_binary(&key->kp.d, d, EDC_P256_PRIVATE_LEN) == 0 ? EDC_OK
                                                                            : EDC_ERR_CRYPTO;
}

int edc_key_set_external(edc_key_t *key, const unsigned char *pub, size_t pub_len, edc_sign_fn sign,
                         void *sign_ctx) {
  int ret;
  if (key == NULL || pub == NULL || sign == NULL) return EDC_ERR_INVALID_ARG;
  mbedtls_ecp_keypair_free(&key->kp);
  mbedtls_ecp_keypair_init(&key->kp);
  key->has_private = 0;
  if ((ret = load_group(key)) != 0) return ret;
  if (pub_len != EDC_P256_PUBLIC_LEN ||
      mbedtls_ecp_point_read_binary(&key->kp.grp, &key->kp.Q, pub, pub_len) != 0 ||
      mbedtls_ecp_check_pubkey(&key->kp.grp, &key->kp.Q) != 0) {
    return EDC_ERR_MALFORMED;
  }
  key->sign = sign;
  key->sign_ctx = sign_ctx;
  return EDC_OK;
}

int edc_key_public(const edc_key_t *key, unsigned char *pub, size_t pub_size) {
  size_t olen;
  if (key == NULL || pub == NULL) return EDC_ERR_INVALID_ARG;
  if (pub_size < EDC_P256_PUBLIC_LEN) return EDC_ERR_BUFFER_TOO_SMALL;
  if (mbedtls_ecp_point_write_binary(&key->kp.grp, &key->kp.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                     pub, pub_size) != 0 ||
      olen != EDC_P256_PUBLIC_LEN) {
    return EDC_ERR_INVALID_ARG; /* no key loaded */
  }
  return EDC_OK;
}

int edc_key_sign(edc_key_t *key, const unsigned char hash[32], unsigned char *sig, size_t sig_size,
                 size_t *sig_len, edc_rng_fn f_rng, void *p_rng) {
  unsigned char tmp[MBEDTLS_ECDSA_MAX_LEN];
  size_t len = 0;
  if (key == NULL || hash == NULL || sig == NULL || sig_len == NULL) return EDC_ERR_INVALID_ARG;
  if (key->sign != NULL) return key->sign(key->sign_ctx, hash, sig, sig_size, sig_len);
  if (!key->has_private || f_rng == NULL) return EDC_ERR_INVALID_ARG;
  if (mbedtls_ecdsa_write_signature(&key->kp, MBEDTLS_MD_SHA256, hash, 32, tmp, &len, f_rng,
                                    p_rng) != 0) {
    return EDC_ERR_CRYPTO;
  }
  if (len > sig_size) return EDC_ERR_BUFFER_TOO_SMALL;
  memcpy(sig, tmp, len);
  *sig_len = len;
  return EDC_OK;
}

int edc_key_to_pk(const edc_key_t *key, mbedtls_pk_context *pk) {
  mbedtls_ecp_keypair *ec;
  if (key == NULL || pk == NULL) return EDC_ERR_INVALID_ARG;
  if (!key->has_private) return EDC_ERR_UNSUPPORTED;
  if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0) return EDC_ERR_ALLOC;
  ec = mbedtls_pk_ec(*pk);
  if (mbedtls_ecp_group_copy(&ec->grp, &key->kp.grp) != 0 ||
      mbedtls_mpi_copy(&ec->d, &key->kp.d) != 0 || mbedtls_ecp_copy(&ec->Q, &key->kp.Q) != 0) {
    return EDC_ERR_ALLOC;
  }
  return EDC_OK;
}

/* ---- PKCS#10 ---- */

/* id-ecPublicKey 1.2.840.10045.2.1, prime256v1 1.2.840.10045.3.1.7,
 * ecdsa-with-SHA256 1.2.840.10045.4.3.2, challengePassword 1.2.840.113549.1.9.7 */
static const char kOidEcPub[] = "\x2a\x86\x48\xce\x3d\x02\x01";
static const char kOidP256[] = "\x2a\x86\x48\xce\x3d\x03\x01\x07";
static const char kOidEcdsaSha256[] = "\x2a\x86\x48\xce\x3d\x04\x03\x02";
static const char kOidChallenge[] = "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x07";
static const char kOidCn[] = "\x55\x04\x03";
static const char kOidSerial[] = "\x55\x04\x05";
static const char kOidO[] = "\x55\x04\x0a";
static const char kOidOu[] = "\x55\x04\x0b";

#define CHK(expr)          \
  do {                     \
    int r_ = (expr);       \
    if (r_ < 0) return r_; \
    len += (size_t)r_;     \
  } while (0)

static int is_printable(const char *s) {
  for (; *s; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          strchr(" '()+,-./:=?", c) != NULL)) {
      return 0;
    }
  }
  return 1;
}

/* Write one SEQUENCE { OID, string } (optionally wrapped in a SET for an RDN). */
static int write_atv(unsigned char **p, unsigned char *start, const char *oid, size_t oid_len,
                     const char *value, int printable, int wrap_set) {
  size_t len = 0;
  size_t vlen = strlen(value);
  /* RFC 5280 4.1.2.6: UTF8String, except serialNumber which X.520 makes a PrintableString. */
  if (printable) {
    if (!is_printable(value)) return MBEDTLS_ERR_ASN1_INVALID_DATA;
    CHK(mbedtls_asn1_write_printable_string(p, start, value, vlen));
  } else {
    CHK(mbedtls_asn1_write_utf8_string(p, start, value, vlen));
  }
  CHK(mbedtls_asn1_write_oid(p, start, oid, oid_len));
  CHK(mbedtls_asn1_write_len(p, start, len));
  CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  if (wrap_set) {
    CHK(mbedtls_asn1_write_len(p, start, len));
    CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET));
  }
  return (int)len;
}

static int write_cri(unsigned char **p, unsigned char *start, const edc_key_t *key,
                     const edc_csr_subject_t *s, const char *challenge) {
  size_t len = 0, sub;
  unsigned char pub[EDC_P256_PUBLIC_LEN];
  int ret;
  /* attributes [0] IMPLICIT SET OF Attribute */
  sub = len;
  if (challenge != NULL) {
    /* Attribute ::= SEQUENCE { type OID, values SET OF DirectoryString } */
    size_t a = len;
    size_t clen = strlen(challenge);
    if (is_printable(challenge))
      CHK(mbedtls_asn1_write_printable_string(p, start, challenge, clen));
    else
      CHK(mbedtls_asn1_write_utf8_string(p, start, challenge, clen));
    CHK(mbedtls_asn1_write_len(p, start, len - a));
    CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET));
    CHK(mbedtls_asn1_write_oid(p, start, kOidChallenge, sizeof(kOidChallenge) - 1));
    CHK(mbedtls_asn1_write_len(p, start, len - a));
    CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  }
  CHK(mbedtls_asn1_write_len(p, start, len - sub));
  CHK(mbedtls_asn1_write_tag(p, start,
                             MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
  /* SubjectPublicKeyInfo (RFC 5480) */
  if ((ret = edc_key_public(key, pub, sizeof(pub))) != 0) return ret;
  sub = len;
  CHK(mbedtls_asn1_write_bitstring(p, start, pub, 8 * sizeof(pub)));
  {
    size_t alg = len;
    CHK(mbedtls_asn1_write_oid(p, start, kOidP256, sizeof(kOidP256) - 1));
    CHK(mbedtls_asn1_write_oid(p, start, kOidEcPub, sizeof(kOidEcPub) - 1));
    CHK(mbedtls_asn1_write_len(p, start, len - alg));
    CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  }
  CHK(mbedtls_asn1_write_len(p, start, len - sub));
  CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  /* Name: RDNs written last-first */
  sub = len;
  if (s->serial_number) CHK(write_atv(p, start, kOidSerial, 3, s->serial_number, 1, 1));
  if (s->common_name) CHK(write_atv(p, start, kOidCn, 3, s->common_name, 0, 1));
  if (s->org_unit) CHK(write_atv(p, start, kOidOu, 3, s->org_unit, 0, 1));
  if (s->organization) CHK(write_atv(p, start, kOidO, 3, s->organization, 0, 1));
  CHK(mbedtls_asn1_write_len(p, start, len - sub));
  CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  /* version INTEGER 0 */
  CHK(mbedtls_asn1_write_int(p, start, 0));
  CHK(mbedtls_asn1_write_len(p, start, len));
  CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  return (int)len;
}

static int map_asn1(int ret) {
  if (ret == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL) return EDC_ERR_BUFFER_TOO_SMALL;
  if (ret <= -0x100 || ret == MBEDTLS_ERR_ASN1_INVALID_DATA) return EDC_ERR_INVALID_ARG;
  return ret;
}

int edc_csr_write_der(edc_key_t *key, const edc_csr_subject_t *subject, const char *challenge,
                      unsigned char *buf, size_t size, size_t *olen, edc_rng_fn f_rng,
                      void *p_rng) {
  unsigned char *p, *cri;
  unsigned char hash[32], sig[EDC_P256_SIG_MAX_LEN];
  size_t len = 0, cri_len, sig_len = 0;
  int ret;
  if (key == NULL || subject == NULL || buf == NULL || olen == NULL) return EDC_ERR_INVALID_ARG;
  /* Generous bound for the error report: fixed parts plus the strings. */
  *olen = 300 + (challenge ? strlen(challenge) : 0) +
          (subject->common_name ? strlen(subject->common_name) : 0) +
          (subject->serial_number ? strlen(subject->serial_number) : 0) +
          (subject->organization ? strlen(subject->organization) : 0) +
          (subject->org_unit ? strlen(subject->org_unit) : 0);
  /* Write the CertificationRequestInfo at the end of buf, leaving room for the signature
   * and outer headers (at most 12 + 72 + 16 bytes) before it. */
  if (size < 128) return EDC_ERR_BUFFER_TOO_SMALL;
  p = buf + size;
  ret = write_cri(&p, buf + 100, key, subject, challenge);
  if (ret < 0) return map_asn1(ret);
  cri = p;
  cri_len = (size_t)ret;
  if (mbedtls_sha256_ret(cri, cri_len, hash, 0) != 0) return EDC_ERR_CRYPTO;
  if ((ret = edc_key_sign(key, hash, sig, sizeof(sig), &sig_len, f_rng, p_rng)) != 0) return ret;
  mbedtls_platform_zeroize(hash, sizeof(hash));
  /* Tail after the CRI: AlgorithmIdentifier { ecdsa-with-SHA256 } with NO parameters
   * (RFC 5758 3.2), then BIT STRING signature. Write them into the gap before the CRI,
   * then move the CRI in front. Layout built: [hdr][CRI][alg][sig]. */
  {
    unsigned char tail[128];
    unsigned char *t = tail + sizeof(tail);
    size_t tlen = 0, total, hdr_len;
    unsigned char hdr[8];
    unsigned char *h = hdr + sizeof(hdr);
    int r;
    r = mbedtls_asn1_write_bitstring(&t, tail, sig, 8 * sig_len);
    if (r < 0) return map_asn1(r);
    tlen += (size_t)r;
    {
      size_t alen = 0;
      r = mbedtls_asn1_write_oid(&t, tail, kOidEcdsaSha256, sizeof(kOidEcdsaSha256) - 1);
      if (r < 0) return map_asn1(r);
      alen += (size_t)r;
      r = mbedtls_asn1_write_len(&t, tail, alen);
      if (r < 0) return map_asn1(r);
      alen += (size_t)r;
      r = mbedtls_asn1_write_tag(&t, tail, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
      if (r < 0) return map_asn1(r);
      alen += (size_t)r;
      tlen += alen;
    }
    total = cri_len + tlen;
    r = mbedtls_asn1_write_len(&h, hdr, total);
    if (r < 0) return map_asn1(r);
    hdr_len = (size_t)r;
    r = mbedtls_asn1_write_tag(&h, hdr, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (r < 0) return map_asn1(r);
    hdr_len += (size_t)r;
    if (hdr_len + total > size) return EDC_ERR_BUFFER_TOO_SMALL;
    memmove(buf + hdr_len, cri, cri_len);
    memcpy(buf, h, hdr_len);
    memcpy(buf + hdr_len + cri_len, t, tlen);
    len = hdr_len + total;
  }
  *olen = len;
  return EDC_OK;
}
