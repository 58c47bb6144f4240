#include "server/ca/certificate_authority.h"

#include "pki/server_generated_key.h"
#include "server/ca/certificate_builder.h"

namespace enroll::ca {

using pki::ErrorCode;
using pki::makeError;

pki::Result<std::shared_ptr<CertificateAuthority>> CertificateAuthority::create(
    std::string name, std::vector<pki::Certificate> chain, pki::PrivateKey key) {
  if (chain.empty())
    return makeError(ErrorCode::kInvalidArgument, "CA '" + name + "' has no certificate");
  if (!chain.front().isCa()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "CA '" + name + "': " + chain.front().subject() + " is not a CA certificate");
  }
  if (X509_check_private_key(chain.front().native(), key.native()) != 1) {
    return pki::opensslError(ErrorCode::kInvalidArgument,
                             "CA '" + name + "': the key does not match the certificate");
  }
  return std::shared_ptr<CertificateAuthority>(
      new CertificateAuthority(std::move(name), std::move(chain), std::move(key)));
}

pki::Result<pki::Certificate> CertificateAuthority::issue(EVP_PKEY* public_key,
                                                          const IssuedNames& names,
                                                          const Profile& profile,
                                                          const ASN1_INTEGER* serial,
                                                          std::time_t now) const {
  std::time_t not_before = now - profile.backdate_seconds;
  std::time_t not_after = now + static_cast<std::time_t>(profile.lifetime_days) * 86400;
  // RFC 5280 6.1: a certificate should not outlive its issuer.
  if (not_after > certificate().notAfter()) not_after = certificate().notAfter();
  if (not_after <= now) {
    return makeError(ErrorCode::kUnavailable, "the issuing CA has expired",
                     "CA " + name_ + " expired at " + std::to_string(certificate().notAfter()));
  }
  // keyAgreement only makes sense for EC keys; RSA keys encipher instead, Ed25519 only signs.
  std::vector<std::string> usages;
  std::string kind = pki::describeKey(public_key);
  for (const auto& u : profile.key_usage) {
    if (u == "keyAgreement" && kind.rfind("rsa-", 0) == 0)
      usages.emplace_back("keyEncipherment");
    else if (u == "keyAgreement" && kind.rfind("ec-", 0) != 0)
      continue;
    else
      usages.push_back(u);
  }
  CertificateBuilder b;
  b.subject(names.subject.get())
      .publicKey(public_key)
      .serial(serial)
      .validity(not_before, not_after)
      .basicConstraints(false)
      .keyUsage(usages)
      .extendedKeyUsage(profile.extended_key_usage)
      .subjectAltNames(names.subject_alt_names)
      .crlDistributionPoint(profile.crl_url)
      .authorityInfoAccess(profile.ocsp_url, profile.ca_issuers_url);
  return b.sign(key_.native(), &certificate());
}

}  // namespace enroll::ca

namespace enroll::ca {

pki::Result<pki::Bytes> CertificateAuthority::signCrl(const std::vector<Revocation>& revoked,
                                                      std::time_t now, std::time_t next_update,
                                                      int64_t crl_number) const {
  CrlContent content;
  content.revoked = revoked;
  content.this_update = now;
  content.next_update = now + next_update;
  content.crl_number = crl_number;
  return signCrl(content);
}

pki::Result<pki::Bytes> CertificateAuthority::signCrl(const CrlContent& content) const {
  return encodeCrl(content, certificate().native(), key_.native(), signingDigest(key_.native()));
}

pki::Result<pki::Bytes> CertificateAuthority::protectServerKey(const pki::PrivateKey& key,
                                                               const pki::Certificate& recipient,
                                                               int cipher_nid,
                                                               std::time_t now) const {
  return pki::makeServerGeneratedKey(
      key, recipient,
      pki::CmsSigner{certificate(), key_.native(), signingDigest(key_.native()), now}, cipher_nid);
}

pki::Result<pki::Certificate> CertificateAuthority::issueOcspResponder(EVP_PKEY* public_key,
                                                                       const std::string& subject,
                                                                       const ASN1_INTEGER* serial,
                                                                       std::time_t now,
                                                                       int days) const {
  ENROLL_TRY(auto name, parseName(subject));
  std::time_t not_after = now + static_cast<std::time_t>(days) * 86400;
  if (not_after > certificate().notAfter()) not_after = certificate().notAfter();
  if (not_after <= now) return makeError(ErrorCode::kUnavailable, "the issuing CA has expired");
  CertificateBuilder b;
  b.subject(name.get())
      .publicKey(public_key)
      .serial(serial)
      .validity(now - 300, not_after)
      .basicConstraints(false)
      .keyUsage({"digitalSignature"})
      .extendedKeyUsage({"OCSPSigning"})
      .ocspNoCheck();
  return b.sign(key_.native(), &certificate());
}

}  // namespace enroll::ca
