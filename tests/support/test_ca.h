#pragma once
/** Test support: a real in-memory CA hierarchy (root, issuing CA) and bootstrap certificates. */
#include <memory>
#include <optional>
#include <string>

#include "server/ca/certificate_authority.h"
#include "server/ca/certificate_builder.h"

namespace enroll::testing {

struct KeyedCert {
  pki::Certificate cert;
  pki::PrivateKey key;
};

/** A CA certificate (self-signed when parent is null). */
KeyedCert makeTestCa(const std::string& cn, const KeyedCert* parent = nullptr,
                     std::time_t not_before = 0, std::time_t not_after = 0);
/** A leaf certificate for a new key (P-256 unless key_type says otherwise), issued by issuer. */
KeyedCert makeTestLeaf(const std::string& subject, const KeyedCert& issuer,
                       std::time_t not_before = 0, std::time_t not_after = 0,
                       const std::vector<std::string>& key_usage = {"digitalSignature"},
                       pki::KeyType key_type = pki::KeyType::kEcP256);
/** A P-256 CSR for subject (RFC 4514 text), signed by key; optional challengePassword and SANs. */
pki::CertificateRequest makeTestCsr(const std::string& subject, const pki::PrivateKey& key,
                                    const std::string& challenge = "",
                                    const std::vector<std::string>& dns_sans = {});

/** makeTestCsr with one more attribute: oid with an OCTET STRING value (RFC 7030 4.4.1 key ids). */
pki::CertificateRequest makeTestCsrWithKeyId(const std::string& subject, const pki::PrivateKey& key,
                                             const char* oid, const pki::Bytes& id);

/** What a device finds in an RFC 7030 4.4.2 server-generated key, opened with OpenSSL's CMS. */
struct OpenedServerKey {
  int outer_type = NID_undef;          ///< the ContentInfo's type
  int encrypted_type = NID_undef;      ///< the EnvelopedData's encrypted content type
  std::string signed_content_type;     ///< the inner SignedData's eContentType, dotted
  bool signature_ok = false;           ///< CMS_verify against trust_root (any purpose)
  pki::Bytes package;                  ///< the AsymmetricKeyPackage DER
  std::optional<pki::PrivateKey> key;  ///< its one OneAsymmetricKey, when it holds exactly one
};
/** Decrypts der with device's key, verifies the SignedData up to trust_root (at the time at, now
 * when 0), reads the key. */
OpenedServerKey openServerGeneratedKey(const pki::Bytes& der, const KeyedCert& device,
                                       const pki::Certificate& trust_root, std::time_t at = 0);

}  // namespace enroll::testing
