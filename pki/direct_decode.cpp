// d2i_EC_PUBKEY, d2i_RSA_PUBKEY and EVP_PKEY_assign are deprecated in OpenSSL 3.0 but they are
// the only way to a public key without an OSSL_DECODER (see direct_decode.h). This file only.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "pki/direct_decode.h"

#include <openssl/asn1t.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace enroll::pki::direct {
namespace {

// A PKCS#10 request (RFC 2986 4) and an X.509 certificate (RFC 5280 4.1) as OpenSSL's generic
// ASN.1 decoder reads them, with the SubjectPublicKeyInfo kept as its DER bytes (ANY).
struct RawRequestInfo {
  ASN1_INTEGER* version;
  X509_NAME* subject;
  ASN1_TYPE* spki;
  STACK_OF(X509_ATTRIBUTE) * attributes;
};
struct RawRequest {
  RawRequestInfo* info;
  X509_ALGOR* signature_algorithm;
  ASN1_BIT_STRING* signature;
};
struct RawCertificateInfo {
  ASN1_INTEGER* version;
  ASN1_INTEGER* serial;
  X509_ALGOR* signature;
  X509_NAME* issuer;
  X509_VAL* validity;
  X509_NAME* subject;
  ASN1_TYPE* spki;
  ASN1_BIT_STRING* issuer_uid;
  ASN1_BIT_STRING* subject_uid;
  STACK_OF(X509_EXTENSION) * extensions;
};
struct RawCertificate {
  RawCertificateInfo* info;
  X509_ALGOR* signature_algorithm;
  ASN1_BIT_STRING* signature;
};

// clang-format off
// NOLINTBEGIN: OpenSSL's template macros.
ASN1_SEQUENCE(RawRequestInfo) = {
    ASN1_SIMPLE(RawRequestInfo, version, ASN1_INTEGER),
    ASN1_SIMPLE(RawRequestInfo, subject, X509_NAME),
    ASN1_SIMPLE(RawRequestInfo, spki, ASN1_ANY),
    ASN1_IMP_SET_OF_OPT(RawRequestInfo, attributes, X509_ATTRIBUTE, 0)
} ASN1_SEQUENCE_END(RawRequestInfo)

ASN1_SEQUENCE(RawRequest) = {
    ASN1_SIMPLE(RawRequest, info, RawRequestInfo),
    ASN1_SIMPLE(RawRequest, signature_algorithm, X509_ALGOR),
    ASN1_SIMPLE(RawRequest, signature, ASN1_BIT_STRING)
} ASN1_SEQUENCE_END(RawRequest)

ASN1_SEQUENCE(RawCertificateInfo) = {
    ASN1_EXP_OPT(RawCertificateInfo, version, ASN1_INTEGER, 0),
    ASN1_SIMPLE(RawCertificateInfo, serial, ASN1_INTEGER),
    ASN1_SIMPLE(RawCertificateInfo, signature, X509_ALGOR),
    ASN1_SIMPLE(RawCertificateInfo, issuer, X509_NAME),
    ASN1_SIMPLE(RawCertificateInfo, validity, X509_VAL),
    ASN1_SIMPLE(RawCertificateInfo, subject, X509_NAME),
    ASN1_SIMPLE(RawCertificateInfo, spki, ASN1_ANY),
    ASN1_IMP_OPT(RawCertificateInfo, issuer_uid, ASN1_BIT_STRING, 1),
    ASN1_IMP_OPT(RawCertificateInfo, subject_uid, ASN1_BIT_STRING, 2),
    ASN1_EXP_SEQUENCE_OF_OPT(RawCertificateInfo, extensions, X509_EXTENSION, 3)
} ASN1_SEQUENCE_END(RawCertificateInfo)

ASN1_SEQUENCE(RawCertificate) = {
    ASN1_SIMPLE(RawCertificate, info, RawCertificateInfo),
    ASN1_SIMPLE(RawCertificate, signature_algorithm, X509_ALGOR),
    ASN1_SIMPLE(RawCertificate, signature, ASN1_BIT_STRING)
} ASN1_SEQUENCE_END(RawCertificate)
// NOLINTEND

template <typename T>
struct RawFree;
template <>
struct RawFree<RawRequest> {
  void operator()(RawRequest* r) const {
    ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(r), ASN1_ITEM_rptr(RawRequest));
  }
};
template <>
struct RawFree<RawCertificate> {
  void operator()(RawCertificate* r) const {
    ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(r), ASN1_ITEM_rptr(RawCertificate));
  }
};
// clang-format on

/** Reads the whole of der with a raw template; nullptr unless it is exactly one value. */
template <typename T>
std::unique_ptr<T, RawFree<T>> readRaw(const uint8_t* der, size_t len, const ASN1_ITEM* item) {
  const unsigned char* p = der;
  std::unique_ptr<T, RawFree<T>> raw(
      reinterpret_cast<T*>(ASN1_item_d2i(nullptr, &p, static_cast<long>(len), item)));
  if (!raw || p != der + len) return nullptr;
  return raw;
}

/** An RSA or named-curve EC SubjectPublicKeyInfo as a legacy key (OpenSSL's direct decoder). */
UniquePtr<EVP_PKEY> legacyPublicKey(const ASN1_TYPE* any) {
  if (any->type != V_ASN1_SEQUENCE) return nullptr;
  const ASN1_STRING* spki = any->value.sequence;
  const unsigned char* p = spki->data;
  long content = 0;
  int tag = 0;
  int cls = 0;
  if (ASN1_get_object(&p, &content, &tag, &cls, spki->length) & 0x80) return nullptr;
  UniquePtr<X509_ALGOR> alg(d2i_X509_ALGOR(nullptr, &p, content));
  if (!alg) return nullptr;
  UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!key) return nullptr;
  p = spki->data;
  switch (OBJ_obj2nid(alg->algorithm)) {
    case NID_X9_62_id_ecPublicKey: {
      EC_KEY* ec = d2i_EC_PUBKEY(nullptr, &p, spki->length);
      if (ec == nullptr || EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)) == NID_undef ||
          EVP_PKEY_assign_EC_KEY(key.get(), ec) != 1) {
        EC_KEY_free(ec);
        return nullptr;
      }
      return key;
    }
    case NID_rsaEncryption: {
      RSA* rsa = d2i_RSA_PUBKEY(nullptr, &p, spki->length);
      if (rsa == nullptr || EVP_PKEY_assign_RSA(key.get(), rsa) != 1) {
        RSA_free(rsa);
        return nullptr;
      }
      return key;
    }
    default:
      return nullptr;
  }
}

/** True when i2d writes exactly the len bytes at der for the rebuilt object. */
template <typename T>
bool encodesTo(const T* object, int (*i2d)(const T*, unsigned char**), const uint8_t* der,
               size_t len) {
  unsigned char* again = nullptr;
  int n = i2d(object, &again);
  const bool same = n == static_cast<int>(len) && std::memcmp(again, der, len) == 0;
  OPENSSL_free(again);
  return same;
}

UniquePtr<X509_REQ> rebuildRequest(const uint8_t* der, size_t len) {
  auto raw = readRaw<RawRequest>(der, len, ASN1_ITEM_rptr(RawRequest));
  if (!raw) return nullptr;
  UniquePtr<EVP_PKEY> key = legacyPublicKey(raw->info->spki);
  if (!key) return nullptr;
  UniquePtr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), ASN1_INTEGER_get(raw->info->version)) != 1 ||
      X509_REQ_set_subject_name(req.get(), raw->info->subject) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_set1_signature_algo(req.get(), raw->signature_algorithm) != 1)
    return nullptr;
  for (int i = 0; i < sk_X509_ATTRIBUTE_num(raw->info->attributes); ++i) {
    if (X509_REQ_add1_attr(req.get(), sk_X509_ATTRIBUTE_value(raw->info->attributes, i)) != 1)
      return nullptr;
  }
  X509_REQ_set0_signature(req.get(), raw->signature);
  raw->signature = nullptr;  // now the request's
  return encodesTo<X509_REQ>(req.get(), i2d_X509_REQ, der, len) ? std::move(req) : nullptr;
}

/** Copies a BIT STRING's bytes and its unused-bits flags. */
bool copyBitString(ASN1_BIT_STRING* to, const ASN1_BIT_STRING* from) {
  if (ASN1_STRING_set(to, from->data, from->length) != 1) return false;
  to->flags = from->flags;
  return true;
}

UniquePtr<X509> rebuildCertificate(const uint8_t* der, size_t len) {
  auto raw = readRaw<RawCertificate>(der, len, ASN1_ITEM_rptr(RawCertificate));
  if (!raw) return nullptr;
  const RawCertificateInfo* info = raw->info;
  if (info->issuer_uid != nullptr || info->subject_uid != nullptr) return nullptr;
  UniquePtr<EVP_PKEY> key = legacyPublicKey(info->spki);
  if (!key) return nullptr;
  UniquePtr<X509> x(X509_new());
  const long version = info->version != nullptr ? ASN1_INTEGER_get(info->version) : 0;
  if (!x || X509_set_version(x.get(), version) != 1 ||
      X509_set_serialNumber(x.get(), info->serial) != 1 ||
      X509_set_issuer_name(x.get(), info->issuer) != 1 ||
      X509_set1_notBefore(x.get(), info->validity->notBefore) != 1 ||
      X509_set1_notAfter(x.get(), info->validity->notAfter) != 1 ||
      X509_set_subject_name(x.get(), info->subject) != 1 ||
      X509_set_pubkey(x.get(), key.get()) != 1)
    return nullptr;
  for (int i = 0; i < sk_X509_EXTENSION_num(info->extensions); ++i) {
    if (X509_add_ext(x.get(), sk_X509_EXTENSION_value(info->extensions, i), -1) != 1)
      return nullptr;
  }
  // X509 has no setters for its signature fields (X509_REQ has X509_REQ_set0_signature and
  // X509_REQ_set1_signature_algo). The getters hand out the new X509's own fields, filled here
  // the way X509_sign fills them.
  const ASN1_BIT_STRING* signature = nullptr;
  const X509_ALGOR* algorithm = nullptr;
  X509_get0_signature(&signature, &algorithm, x.get());
  // NOLINTBEGIN(cppcoreguidelines-pro-type-const-cast): see above.
  if (X509_ALGOR_copy(const_cast<X509_ALGOR*>(X509_get0_tbs_sigalg(x.get())), info->signature) !=
          1 ||
      X509_ALGOR_copy(const_cast<X509_ALGOR*>(algorithm), raw->signature_algorithm) != 1 ||
      !copyBitString(const_cast<ASN1_BIT_STRING*>(signature), raw->signature))
    return nullptr;
  // NOLINTEND(cppcoreguidelines-pro-type-const-cast)
  return encodesTo<X509>(x.get(), i2d_X509, der, len) ? std::move(x) : nullptr;
}

/** One definite-length DER element: where it starts, where its content starts and ends. */
struct Element {
  const uint8_t* start;
  const uint8_t* content;
  const uint8_t* end;
  int tag;
  int cls;
  bool constructed;
};

/** The element at p (which must end by end), or nothing for an error or an indefinite length. */
std::optional<Element> element(const uint8_t* p, const uint8_t* end) {
  if (p >= end) return std::nullopt;
  const unsigned char* q = p;
  long length = 0;
  int tag = 0;
  int cls = 0;
  const int flags = ASN1_get_object(&q, &length, &tag, &cls, end - p);
  if ((flags & 0x80) != 0 || flags == 0x21 || length > end - q) return std::nullopt;
  return Element{p, q, q + length, tag, cls, (flags & 0x20) != 0};
}

bool isUniversal(const std::optional<Element>& e, int tag) {
  return e && e->cls == V_ASN1_UNIVERSAL && e->tag == tag;
}

bool isContext(const std::optional<Element>& e, int tag) {
  return e && e->cls == V_ASN1_CONTEXT_SPECIFIC && e->tag == tag && e->constructed;
}

}  // namespace

UniquePtr<X509_REQ> decodeRequest(const uint8_t* der, size_t len) {
  ERR_set_mark();
  UniquePtr<X509_REQ> req = rebuildRequest(der, len);
  ERR_pop_to_mark();  // a request declined here leaves no error behind
  return req;
}

UniquePtr<X509> decodeCertificate(const uint8_t* der, size_t len) {
  ERR_set_mark();
  UniquePtr<X509> x = rebuildCertificate(der, len);
  ERR_pop_to_mark();
  return x;
}

std::optional<SignedDataParts> splitSignedData(const uint8_t* der, size_t len) {
  // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
  // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE,
  //                           certificates [0] IMPLICIT SET OF CertificateChoices OPTIONAL, ... }
  static const uint8_t kSignedDataOid[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02};
  ERR_set_mark();
  const uint8_t* end = der + len;
  auto info = element(der, end);
  auto type = info ? element(info->content, info->end) : std::nullopt;
  auto explicit0 = type ? element(type->end, info->end) : std::nullopt;
  auto signed_data = explicit0 ? element(explicit0->content, explicit0->end) : std::nullopt;
  auto version = signed_data ? element(signed_data->content, signed_data->end) : std::nullopt;
  auto digests = version ? element(version->end, signed_data->end) : std::nullopt;
  auto encapsulated = digests ? element(digests->end, signed_data->end) : std::nullopt;
  auto certificates = encapsulated ? element(encapsulated->end, signed_data->end) : std::nullopt;
  ERR_pop_to_mark();
  if (!isUniversal(info, V_ASN1_SEQUENCE) || info->end != end ||
      !isUniversal(type, V_ASN1_OBJECT) ||
      static_cast<size_t>(type->end - type->content) != sizeof kSignedDataOid ||
      std::memcmp(type->content, kSignedDataOid, sizeof kSignedDataOid) != 0 ||
      !isContext(explicit0, 0) || explicit0->end != info->end ||
      !isUniversal(signed_data, V_ASN1_SEQUENCE) || signed_data->end != explicit0->end ||
      !isUniversal(encapsulated, V_ASN1_SEQUENCE) || !isContext(certificates, 0))
    return std::nullopt;

  SignedDataParts parts;
  ERR_set_mark();
  for (const uint8_t* p = certificates->content; p < certificates->end;) {
    auto certificate = element(p, certificates->end);
    if (!isUniversal(certificate, V_ASN1_SEQUENCE)) {  // another CertificateChoices, or damage
      ERR_pop_to_mark();
      return std::nullopt;
    }
    parts.certificates.emplace_back(p, certificate->end - p);
    p = certificate->end;
  }
  ERR_pop_to_mark();

  // The same ContentInfo, its three enclosing lengths written again without the certificates.
  const long kept =
      (signed_data->end - signed_data->content) - (certificates->end - certificates->start);
  const int signed_size = ASN1_object_size(1, kept, V_ASN1_SEQUENCE);
  const int explicit_size = ASN1_object_size(1, signed_size, 0);
  const long info_content = (type->end - type->start) + explicit_size;
  const int total = ASN1_object_size(1, info_content, V_ASN1_SEQUENCE);
  if (signed_size < 0 || explicit_size < 0 || total < 0) return std::nullopt;
  parts.without_certificates.resize(static_cast<size_t>(total));
  unsigned char* out = parts.without_certificates.data();
  ASN1_put_object(&out, 1, info_content, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
  out = std::copy(type->start, type->end, out);
  ASN1_put_object(&out, 1, signed_size, 0, V_ASN1_CONTEXT_SPECIFIC);
  ASN1_put_object(&out, 1, kept, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
  out = std::copy(signed_data->content, certificates->start, out);
  out = std::copy(certificates->end, signed_data->end, out);
  if (out != parts.without_certificates.data() + total) return std::nullopt;
  return parts;
}

}  // namespace enroll::pki::direct
