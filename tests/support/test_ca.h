#pragma once
/** Test support: a real in-memory CA hierarchy (root, issuing CA) and bootstrap certificates. */
#include <memory>
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

}  // namespace enroll::testing
