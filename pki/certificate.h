#pragma once
/** Certificate: an immutable X.509 certificate value (copies share the X509 by reference count). */
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pki/encoding.h"
#include "pki/openssl_ptr.h"
#include "pki/result.h"

namespace enroll::pki {

/** One subjectAltName entry as "DNS:name", "URI:urn:...", "IP:1.2.3.4", "email:x@y",
 * "otherName:<oid>". */
using SubjectAltName = std::string;

/** Converts an ASN1_TIME to seconds since the epoch (UTC). */
std::time_t asn1TimeToEpoch(const ASN1_TIME* t);
/** Reads the subjectAltName extension of a certificate or request extension list. */
std::vector<SubjectAltName> describeGeneralNames(const GENERAL_NAMES* names);
/** RFC 2253 string of a name ("CN=dev,O=Acme"). */
std::string nameToString(const X509_NAME* name);
/** The first value of an attribute in a name (NID_commonName, NID_serialNumber, ...). */
std::optional<std::string> nameEntry(const X509_NAME* name, int nid);

/** An X.509 certificate. */
class Certificate {
 public:
  static Result<Certificate> fromDer(const uint8_t* der, size_t len);
  static Result<Certificate> fromDer(const Bytes& der) { return fromDer(der.data(), der.size()); }
  /** The first certificate in a PEM text. */
  static Result<Certificate> fromPem(std::string_view pem);
  /** Every certificate in a PEM text, in order; an error if there is none. */
  static Result<std::vector<Certificate>> chainFromPem(std::string_view pem);
  /** Takes a new reference to x. */
  static Certificate share(X509* x) { return Certificate(upRef(x)); }
  static Certificate adopt(UniquePtr<X509> x) { return Certificate(std::move(x)); }

  Certificate(const Certificate& o) : x_(upRef(o.x_.get())) {}
  Certificate& operator=(const Certificate& o) {
    if (this != &o) x_ = upRef(o.x_.get());
    return *this;
  }
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;

  Bytes toDer() const;
  std::string toPem() const;

  std::string subject() const { return nameToString(X509_get_subject_name(x_.get())); }
  std::string issuer() const { return nameToString(X509_get_issuer_name(x_.get())); }
  std::optional<std::string> subjectEntry(int nid) const {
    return nameEntry(X509_get_subject_name(x_.get()), nid);
  }
  /** Serial number as lower-case hex without leading zeros (at least one digit). */
  std::string serialHex() const;
  std::time_t notBefore() const { return asn1TimeToEpoch(X509_get0_notBefore(x_.get())); }
  std::time_t notAfter() const { return asn1TimeToEpoch(X509_get0_notAfter(x_.get())); }
  std::vector<SubjectAltName> subjectAltNames() const;
  /** True when basicConstraints says cA. */
  bool isCa() const { return X509_check_ca(x_.get()) > 0; }
  /** SHA-256 of the DER, lower-case hex. */
  std::string fingerprintSha256() const;
  EVP_PKEY* publicKey() const { return X509_get0_pubkey(x_.get()); }
  Bytes publicKeyDer() const;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex. */
  std::string publicKeyFingerprint() const;
  /** True if issuer's key verifies this certificate's signature. */
  bool isSignedBy(const Certificate& issuer) const;

  X509* native() const { return x_.get(); }
  bool operator==(const Certificate& o) const { return X509_cmp(x_.get(), o.x_.get()) == 0; }

 private:
  explicit Certificate(UniquePtr<X509> x) : x_(std::move(x)) {}
  UniquePtr<X509> x_;
};

/** DER SubjectPublicKeyInfo of a parsed X509_PUBKEY (cheap: no key re-encoding). */
Bytes spkiDer(const X509_PUBKEY* spki);

/** Concatenated PEM of several certificates. */
std::string toPemChain(const std::vector<Certificate>& certs);

}  // namespace enroll::pki
