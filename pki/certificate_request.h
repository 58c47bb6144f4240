#pragma once
/** CertificateRequest: a PKCS#10 certification request (RFC 2986) value. */
#include <optional>
#include <string>
#include <vector>

#include "pki/certificate.h"

namespace enroll::pki {

class PrivateKey;

/** A decoded PKCS#10 request. Decoding does not verify it: call verifySignature(). */
class CertificateRequest {
 public:
  static Result<CertificateRequest> fromDer(const uint8_t* der, size_t len);
  static Result<CertificateRequest> fromDer(const Bytes& der) {
    return fromDer(der.data(), der.size());
  }
  static Result<CertificateRequest> fromPem(std::string_view pem);
  /** A request for key with subject CN=common_name, signed by key (SHA-256). */
  static Result<CertificateRequest> create(const PrivateKey& key, const std::string& common_name);

  CertificateRequest(CertificateRequest&&) noexcept = default;
  CertificateRequest& operator=(CertificateRequest&&) noexcept = default;
  CertificateRequest(const CertificateRequest& o);
  CertificateRequest& operator=(const CertificateRequest& o);

  /** Proof of possession: the request's signature under its own public key. */
  Result<void> verifySignature() const;
  /** The signature algorithm's short name ("ecdsa-with-SHA256", "sha1WithRSAEncryption"). */
  std::string signatureAlgorithm() const;
  /** The digest NID behind the signature (NID_sha256, ...), NID_undef for Ed25519. */
  int signatureDigestNid() const;

  std::string subject() const { return nameToString(X509_REQ_get_subject_name(req_.get())); }
  std::optional<std::string> subjectEntry(int nid) const {
    return nameEntry(X509_REQ_get_subject_name(req_.get()), nid);
  }
  /** Requested subjectAltNames (from the extensionRequest attribute). */
  std::vector<SubjectAltName> subjectAltNames() const;
  /** The challengePassword attribute (PKCS#9), if present. */
  std::optional<SecretString> challengePassword() const;
  /** Attribute OIDs present in the request, dotted form. */
  std::vector<std::string> attributeOids() const;

  EVP_PKEY* publicKey() const { return X509_REQ_get0_pubkey(req_.get()); }
  Bytes publicKeyDer() const;
  Bytes toDer() const;
  std::string toPem() const;
  X509_REQ* native() const { return req_.get(); }

 private:
  explicit CertificateRequest(UniquePtr<X509_REQ> r) : req_(std::move(r)) {}
  UniquePtr<X509_REQ> req_;
};

}  // namespace enroll::pki
