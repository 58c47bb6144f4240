// d2i_EC_PUBKEY, d2i_RSA_PUBKEY and EVP_PKEY_assign are deprecated in OpenSSL 3.0 but they are
// the only way to a public key without an OSSL_DECODER (see decodeWithoutKeyDecoder). This file.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "pki/certificate_request.h"

#include <openssl/asn1t.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>

#include "pki/private_key.h"

namespace enroll::pki {
namespace {

// A PKCS#10 request (RFC 2986 4) as OpenSSL's generic ASN.1 decoder reads it, with the
// SubjectPublicKeyInfo kept as its DER bytes (ANY) instead of decoded into a key.
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
// NOLINTEND

struct RawRequestFree {
  void operator()(RawRequest* r) const {
    ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(r), ASN1_ITEM_rptr(RawRequest));
  }
};
// clang-format on

/** An RSA or named-curve EC SubjectPublicKeyInfo as a legacy key (OpenSSL's direct decoder). */
UniquePtr<EVP_PKEY> legacyPublicKey(const ASN1_STRING* spki) {
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

/**
 * The request decoded without OpenSSL 3.0's OSSL_DECODER for its public key, or nullptr to take
 * the general path. d2i_X509_REQ builds a decoder context for the key every time: about 150 us,
 * a tenth of an enrollment's server CPU, where the direct RSA and EC decoders take a few. The
 * request is rebuilt from its parts around a legacy key and kept only if it encodes back to
 * exactly the bytes received, so its signature covers what it says; anything else (Ed25519,
 * explicit curve parameters, BER, an omitted attribute set) takes d2i_X509_REQ.
 */
UniquePtr<X509_REQ> decodeWithoutKeyDecoder(const uint8_t* der, size_t len) {
  const unsigned char* p = der;
  std::unique_ptr<RawRequest, RawRequestFree> raw(reinterpret_cast<RawRequest*>(
      ASN1_item_d2i(nullptr, &p, static_cast<long>(len), ASN1_ITEM_rptr(RawRequest))));
  if (!raw || p != der + len || raw->info->spki->type != V_ASN1_SEQUENCE) return nullptr;
  UniquePtr<EVP_PKEY> key = legacyPublicKey(raw->info->spki->value.sequence);
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
  unsigned char* again = nullptr;
  int n = i2d_X509_REQ(req.get(), &again);
  const bool same = n == static_cast<int>(len) && std::memcmp(again, der, len) == 0;
  OPENSSL_free(again);
  return same ? std::move(req) : nullptr;
}

}  // namespace

Result<CertificateRequest> CertificateRequest::fromDer(const uint8_t* der, size_t len) {
  ERR_set_mark();
  UniquePtr<X509_REQ> fast = decodeWithoutKeyDecoder(der, len);
  ERR_pop_to_mark();  // a request the fast path declined leaves no error behind
  if (fast) return CertificateRequest(std::move(fast));
  const unsigned char* p = der;
  X509_REQ* raw = d2i_X509_REQ(nullptr, &p, static_cast<long>(len));
  if (!raw) return opensslError(ErrorCode::kMalformed, "not a DER PKCS#10 request");
  UniquePtr<X509_REQ> r(raw);
  if (p != der + len)
    return makeError(ErrorCode::kMalformed, "trailing bytes after the PKCS#10 request");
  if (!X509_REQ_get0_pubkey(r.get())) {
    return opensslError(ErrorCode::kMalformed, "the PKCS#10 request has an unreadable public key");
  }
  return CertificateRequest(std::move(r));
}

Result<CertificateRequest> CertificateRequest::fromPem(std::string_view pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509_REQ* raw = PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr);
  if (!raw) return opensslError(ErrorCode::kMalformed, "not a PEM PKCS#10 request");
  return CertificateRequest(UniquePtr<X509_REQ>(raw));
}

Result<CertificateRequest> CertificateRequest::create(const PrivateKey& key,
                                                      const std::string& common_name) {
  UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                  -1, 0) ||
      !X509_REQ_set_pubkey(req.get(), key.native()) ||
      X509_REQ_sign(req.get(), key.native(), EVP_sha256()) <= 0) {
    return opensslError(ErrorCode::kInternal, "cannot build the certificate request");
  }
  return CertificateRequest(std::move(req));
}

CertificateRequest::CertificateRequest(const CertificateRequest& o)
    : req_(X509_REQ_dup(o.req_.get())) {}

CertificateRequest& CertificateRequest::operator=(const CertificateRequest& o) {
  if (this != &o) req_.reset(X509_REQ_dup(o.req_.get()));
  return *this;
}

Result<void> CertificateRequest::verifySignature() const {
  EVP_PKEY* key = X509_REQ_get0_pubkey(req_.get());
  if (!key) return opensslError(ErrorCode::kMalformed, "the request has no usable public key");
  if (X509_REQ_verify(req_.get(), key) != 1) {
    return opensslError(ErrorCode::kInvalidArgument,
                        "the request's signature does not verify (no proof of possession)");
  }
  return ok();
}

std::string CertificateRequest::signatureAlgorithm() const {
  return OBJ_nid2ln(X509_REQ_get_signature_nid(req_.get()));
}

int CertificateRequest::signatureDigestNid() const {
  int md = NID_undef;
  int pk = NID_undef;
  if (!OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req_.get()), &md, &pk)) return NID_undef;
  return md;
}

std::vector<SubjectAltName> CertificateRequest::subjectAltNames() const {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req_.get());
  std::vector<SubjectAltName> out;
  if (!exts) return out;
  UniquePtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr)));
  out = describeGeneralNames(names.get());
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return out;
}

std::optional<SecretString> CertificateRequest::challengePassword() const {
  int idx = X509_REQ_get_attr_by_NID(req_.get(), NID_pkcs9_challengePassword, -1);
  if (idx < 0) return std::nullopt;
  X509_ATTRIBUTE* attr = X509_REQ_get_attr(req_.get(), idx);
  ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(attr, 0);
  if (!t) return std::nullopt;
  switch (t->type) {
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_UTF8STRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_T61STRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UNIVERSALSTRING:
    case V_ASN1_OCTET_STRING: {
      const ASN1_STRING* s = t->value.asn1_string;
      return SecretString(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                      static_cast<size_t>(ASN1_STRING_length(s))));
    }
    default:
      return std::nullopt;
  }
}

std::vector<std::string> CertificateRequest::attributeOids() const {
  std::vector<std::string> out;
  for (int i = 0; i < X509_REQ_get_attr_count(req_.get()); ++i) {
    char oid[80] = {0};
    OBJ_obj2txt(oid, sizeof oid, X509_ATTRIBUTE_get0_object(X509_REQ_get_attr(req_.get(), i)), 1);
    out.emplace_back(oid);
  }
  return out;
}

Bytes CertificateRequest::publicKeyDer() const {
  return spkiDer(X509_REQ_get_X509_PUBKEY(req_.get()));
}

Bytes CertificateRequest::toDer() const {
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req_.get(), &der);
  if (n <= 0) return {};
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string CertificateRequest::toPem() const {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req_.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace enroll::pki
