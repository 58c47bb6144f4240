#include "pki/certificate_request.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/direct_decode.h"
#include "pki/private_key.h"

namespace enroll::pki {

Result<CertificateRequest> CertificateRequest::fromDer(const uint8_t* der, size_t len) {
  // Most requests are read without OpenSSL 3.0's key decoder (direct_decode.h).
  if (UniquePtr<X509_REQ> fast = direct::decodeRequest(der, len))
    return CertificateRequest(std::move(fast));
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
