#pragma once
/** CertificateBuilder: one place that turns names, a key and extensions into a signed X.509 v3. */
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/private_key.h"

namespace enroll::ca {

/** The digest to sign with for a key: SHA-256 for P-256 and RSA, SHA-384/512 for larger curves,
 * none for Ed25519. */
const EVP_MD* signingDigest(const EVP_PKEY* key);

class CertificateBuilder {
 public:
  CertificateBuilder();
  CertificateBuilder& subject(const X509_NAME* name);
  CertificateBuilder& publicKey(EVP_PKEY* key);
  CertificateBuilder& serial(const ASN1_INTEGER* serial);
  CertificateBuilder& validity(std::time_t not_before, std::time_t not_after);
  /** cA flag and path length (-1: none); always critical. */
  CertificateBuilder& basicConstraints(bool ca, int path_len = -1);
  /** Key usage names as OpenSSL spells them ("digitalSignature", "keyCertSign"); critical. */
  CertificateBuilder& keyUsage(const std::vector<std::string>& usages);
  /** Extended key usage names ("clientAuth", "serverAuth", "OCSPSigning", or a dotted OID). */
  CertificateBuilder& extendedKeyUsage(const std::vector<std::string>& usages);
  /** "DNS:x", "URI:x", "IP:1.2.3.4", "email:x". */
  CertificateBuilder& subjectAltNames(const std::vector<pki::SubjectAltName>& names);
  CertificateBuilder& crlDistributionPoint(const std::string& url);
  CertificateBuilder& authorityInfoAccess(const std::string& ocsp_url,
                                          const std::string& ca_issuers_url);
  /** id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): for delegated OCSP responder certificates. */
  CertificateBuilder& ocspNoCheck();
  /** Signs with the issuer's key; without an issuer certificate the result is self-signed. */
  pki::Result<pki::Certificate> sign(EVP_PKEY* issuer_key,
                                     const pki::Certificate* issuer = nullptr);

 private:
  pki::Result<void> addExtension(int nid, const std::string& value);
  pki::UniquePtr<X509> x_;
  std::vector<std::pair<int, std::string>> exts_;
  std::vector<pki::SubjectAltName> sans_;
  pki::Error deferred_;
  bool failed_ = false;
};

}  // namespace enroll::ca
