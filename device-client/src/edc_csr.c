#include "edc/edc_csr.h"

#include <string.h>

#include "mbedtls/asn1write.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#if EDC_WITH_EXTERNAL_KEY
#include "mbedtls/pk_internal.h"
#endif

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

#if EDC_WITH_EXTERNAL_KEY
/* An external key as an Mbed TLS pk context, for TLS/DTLS client authentication. Mbed TLS 2.28
 * offers mbedtls_pk_setup_rsa_alt() for RSA only; for ECDSA we give the pk layer its own
 * mbedtls_pk_info_t (pk_internal.h). Its context starts with an mbedtls_ecp_keypair holding the
 * public point (the private scalar stays zero), so code that reads mbedtls_pk_ec() on an
 * "EC key" finds what it expects; signing goes to the callback. */
typedef struct ext_pk {
  mbedtls_ecp_keypair kp; /* first: what mbedtls_pk_ec() returns */
  edc_sign_fn sign;
  void *sign_ctx;
} ext_pk_t;

static size_t ext_bitlen(const void *ctx) { return ((const ext_pk_t *)ctx)->kp.grp.pbits; }

static int ext_can_do(mbedtls_pk_type_t type) {
  return type == MBEDTLS_PK_ECKEY || type == MBEDTLS_PK_ECDSA;
}

static int ext_sign(void *ctx, mbedtls_md_type_t md_alg, const unsigned char *hash, size_t hash_len,
                    unsigned char *sig, size_t *sig_len,
                    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng) {
  const ext_pk_t *e = (const ext_pk_t *)ctx;
  unsigned char h[32];
  (void)md_alg;
  (void)f_rng;
  (void)p_rng;
  /* ECDSA on P-256 signs the leftmost 256 bits of the hash (SEC 1 4.1.3 step 5), so a SHA-384
   * handshake hash is cut to 32 bytes; a shorter one is the same integer left-padded. */
  memset(h, 0, sizeof(h));
  if (hash_len >= sizeof(h))
    memcpy(h, hash, sizeof(h));
  else
    memcpy(h + sizeof(h) - hash_len, hash, hash_len);
  /* the caller's buffer holds MBEDTLS_PK_SIGNATURE_MAX_SIZE >= EDC_P256_SIG_MAX_LEN bytes */
  if (e->sign(e->sign_ctx, h, sig, EDC_P256_SIG_MAX_LEN, sig_len) != 0)
    return MBEDTLS_ERR_PK_HW_ACCEL_FAILED;
  return 0;
}

static void *ext_alloc(void) {
  ext_pk_t *e = (ext_pk_t *)mbedtls_calloc(1, sizeof(ext_pk_t));
  if (e != NULL) mbedtls_ecp_keypair_init(&e->kp);
  return e;
}

static void ext_free(void *ctx) {
  ext_pk_t *e = (ext_pk_t *)ctx;
  mbedtls_ecp_keypair_free(&e->kp);
  mbedtls_platform_zeroize(e, sizeof(*e));
  mbedtls_free(e);
}

static const mbedtls_pk_info_t kExternalInfo = {
    .type = MBEDTLS_PK_ECKEY,
    .name = "EDC_EXTERNAL",
    .get_bitlen = ext_bitlen,
    .can_do = ext_can_do,
    .sign_func = ext_sign,
    .ctx_alloc_func = ext_alloc,
    .ctx_free_func = ext_free,
};
#endif /* EDC_WITH_EXTERNAL_KEY */

int edc_key_to_pk(const edc_key_t *key, mbedtls_pk_context *pk) {
  mbedtls_ecp_keypair *ec;
  if (key == NULL || pk == NULL) return EDC_ERR_INVALID_ARG;
#if EDC_WITH_EXTERNAL_KEY
  if (key->sign != NULL) {
    if (mbedtls_pk_setup(pk, &kExternalInfo) != 0) return EDC_ERR_ALLOC;
    ((ext_pk_t *)pk->pk_ctx)->sign = key->sign;
    ((ext_pk_t *)pk->pk_ctx)->sign_ctx = key->sign_ctx;
  } else
#endif
  {
    if (!key->has_private) return EDC_ERR_UNSUPPORTED;
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
      return EDC_ERR_ALLOC;
  }
  ec = mbedtls_pk_ec(*pk); /* the keypair at the start of either context */
  if (mbedtls_ecp_group_copy(&ec->grp, &key->kp.grp) != 0 ||
      (key->has_private && mbedtls_mpi_copy(&ec->d, &key->kp.d) != 0) ||
      mbedtls_ecp_copy(&ec->Q, &key->kp.Q) != 0) {
    return EDC_ERR_ALLOC;
  }
  return EDC_OK;
}

/* ---- PKCS#10 ---- */

/* SEQUENCE { SEQUENCE { id-ecPublicKey 1.2.840.10045.2.1, prime256v1 1.2.840.10045.3.1.7 },
 * BIT STRING (66 bytes: no unused bits, then the 65-byte point) } */
static const unsigned char kSpkiP256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
/* AlgorithmIdentifier { ecdsa-with-SHA256 1.2.840.10045.4.3.2 } with the parameters field
 * absent (RFC 5758 3.2; Mbed TLS 2.28 would add a NULL) */
static const unsigned char kAlgEcdsaSha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                                0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
/* challengePassword 1.2.840.113549.1.9.7 */
static const char kOidChallenge[] = "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x07";

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

EDC_NOINLINE static size_t slen(const char *s) { return s != NULL ? strlen(s) : 0; }

/* Prefix the @p len bytes just written with their length and @p tag. */
static int wrap(unsigned char **p, unsigned char *start, size_t len, unsigned char tag) {
  int l = mbedtls_asn1_write_len(p, start, len), t;
  if (l < 0) return l;
  t = mbedtls_asn1_write_tag(p, start, tag);
  return t < 0 ? t : l + t;
}

#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define SET (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET)

/* A DirectoryString: PrintableString when @p s allows it (required when @p printable is 2),
 * UTF8String otherwise (@p printable 0 asks for UTF8String). */
static int write_string(unsigned char **p, unsigned char *start, const char *s, int printable) {
  size_t len = strlen(s);
  if (printable && is_printable(s)) return mbedtls_asn1_write_printable_string(p, start, s, len);
  if (printable == 2) return MBEDTLS_ERR_ASN1_INVALID_DATA;
  return mbedtls_asn1_write_utf8_string(p, start, s, len);
}

/* Write SEQUENCE { OID, value } wrapped in a SET: an RDN of one attribute, or an Attribute
 * with one value (the value in its SET when @p inner_set). */
static int write_attr(unsigned char **p, unsigned char *start, const char *oid, size_t oid_len,
                      const char *value, int printable, int inner_set) {
  size_t len = 0;
  CHK(write_string(p, start, value, printable));
  if (inner_set) CHK(wrap(p, start, len, SET));
  CHK(mbedtls_asn1_write_oid(p, start, oid, oid_len));
  CHK(wrap(p, start, len, SEQ));
  if (!inner_set) CHK(wrap(p, start, len, SET));
  return (int)len;
}

static int write_cri(unsigned char **p, unsigned char *start, const edc_key_t *key,
                     const edc_csr_subject_t *s, const char *challenge, size_t *need) {
  /* RDNs written last-first: RFC 5280 4.1.2.6 UTF8String, except serialNumber which X.520
   * makes a PrintableString */
  static const struct {
    char oid[3];
    unsigned char field, printable;
  } kRdns[] = {{{0x55, 0x04, 0x05}, 3, 2},
               {{0x55, 0x04, 0x03}, 2, 0},
               {{0x55, 0x04, 0x0b}, 1, 0},
               {{0x55, 0x04, 0x0a}, 0, 0}};
  const char *const fields[4] = {s->organization, s->org_unit, s->common_name, s->serial_number};
  size_t len = 0, sub, i;
  int ret;
  /* a generous bound, for the error report: fixed parts plus the strings */
  *need = 300 + s->name_der_len + slen(challenge);
  for (i = 0; i < 4; i++) *need += slen(fields[i]);
  /* attributes [0] IMPLICIT SET OF Attribute; Attribute ::= SEQUENCE { type, SET OF value } */
  if (challenge != NULL)
    CHK(write_attr(p, start, kOidChallenge, sizeof(kOidChallenge) - 1, challenge, 1, 1));
  CHK(wrap(p, start, len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
  /* SubjectPublicKeyInfo (RFC 5480) of an uncompressed P-256 point: a fixed prefix */
  if (*p - start < EDC_P256_PUBLIC_LEN) return MBEDTLS_ERR_ASN1_BUF_TOO_SMALL;
  *p -= EDC_P256_PUBLIC_LEN;
  len += EDC_P256_PUBLIC_LEN;
  if ((ret = edc_key_public(key, *p, EDC_P256_PUBLIC_LEN)) != 0) return ret;
  CHK(mbedtls_asn1_write_raw_buffer(p, start, kSpkiP256, sizeof(kSpkiP256)));
  /* Name: as given in DER, or from the strings */
  if (s->name_der != NULL) {
    CHK(mbedtls_asn1_write_raw_buffer(p, start, s->name_der, s->name_der_len));
  } else {
    sub = len;
    for (i = 0; i < 4; i++)
      if (fields[kRdns[i].field] != NULL)
        CHK(write_attr(p, start, kRdns[i].oid, 3, fields[kRdns[i].field], kRdns[i].printable, 0));
    CHK(wrap(p, start, len - sub, SEQ));
  }
  /* version INTEGER 0 */
  CHK(mbedtls_asn1_write_int(p, start, 0));
  CHK(wrap(p, start, len, SEQ));
  return (int)len;
}

/* AlgorithmIdentifier, BIT STRING header and signature after the CRI */
#define TAIL_MAX (sizeof(kAlgEcdsaSha256) + 3 + EDC_P256_SIG_MAX_LEN)

/* An error of the CRI writer: our own codes pass; of Mbed TLS's (ASN.1 writing, -0x60 and
 * below), running out of room is reported as such, anything else (a string we cannot
 * encode) as a bad argument. */
static int map_asn1(int ret) {
  if (ret == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL) return EDC_ERR_BUFFER_TOO_SMALL;
  return ret < -0x20 ? EDC_ERR_INVALID_ARG : ret;
}

int edc_csr_write_der(edc_key_t *key, const edc_csr_subject_t *subject, const char *challenge,
                      unsigned char *buf, size_t size, size_t *olen, edc_rng_fn f_rng,
                      void *p_rng) {
  unsigned char *p, *cri, *q;
  unsigned char hash[32];
  size_t len = 0, cri_len, sig_len = 0;
  int ret;
  if (key == NULL || subject == NULL || buf == NULL || olen == NULL) return EDC_ERR_INVALID_ARG;
  /* Write the CertificationRequestInfo at the end of buf, leaving room after it for the
   * AlgorithmIdentifier and the signature BIT STRING (12 + 3 + at most 72 bytes) and before
   * it for the outer header (at most 4 bytes). */
  p = size > TAIL_MAX + 4 ? buf + size - TAIL_MAX : buf + 4; /* else write_cri finds no room */
  ret = write_cri(&p, buf + 4, key, subject, challenge, olen);
  if (ret < 0) return map_asn1(ret);
  cri = p;
  cri_len = (size_t)ret;
  if (mbedtls_sha256_ret(cri, cri_len, hash, 0) != 0) return EDC_ERR_CRYPTO;
  ret = edc_key_sign(key, hash, cri + cri_len + sizeof(kAlgEcdsaSha256) + 3, EDC_P256_SIG_MAX_LEN,
                     &sig_len, f_rng, p_rng);
  mbedtls_platform_zeroize(hash, sizeof(hash));
  if (ret != 0) return ret;
  /* CertificationRequest ::= SEQUENCE { CRI, AlgorithmIdentifier, BIT STRING signature } */
  q = cri + cri_len;
  memcpy(q, kAlgEcdsaSha256, sizeof(kAlgEcdsaSha256));
  q += sizeof(kAlgEcdsaSha256);
  q[0] = MBEDTLS_ASN1_BIT_STRING;
  q[1] = (unsigned char)(sig_len + 1); /* at most 73: one length byte */
  q[2] = 0;                            /* no unused bits */
  len = cri_len + sizeof(kAlgEcdsaSha256) + 3 + sig_len;
  if ((ret = wrap(&p, buf, len, SEQ)) < 0) return map_asn1(ret);
  len += (size_t)ret;
  memmove(buf, p, len);
  *olen = len;
  return EDC_OK;
}
