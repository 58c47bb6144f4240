#include "server/ca/certificate_authority.h"

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

namespace {

/** Adds a CRL extension made by OpenSSL's configuration syntax ("URI:http://..."). */
bool addConfExtension(X509_CRL* crl, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, nullptr, nullptr, crl, 0);
  pki::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_CRL_add_ext(crl, ext.get(), -1) == 1;
}

/** The serial as an ASN1_INTEGER from lower-case hex; null for bad hex. */
pki::UniquePtr<ASN1_STRING> serialFromHex(const std::string& hex) {
  BIGNUM* raw = nullptr;
  if (hex.empty() || BN_hex2bn(&raw, hex.c_str()) != static_cast<int>(hex.size())) {
    BN_free(raw);
    return nullptr;
  }
  pki::UniquePtr<BIGNUM> bn(raw);
  return pki::UniquePtr<ASN1_STRING>(BN_to_ASN1_INTEGER(bn.get(), nullptr));
}

}  // namespace

pki::Result<pki::Bytes> CertificateAuthority::signCrl(const CrlContent& content) const {
  pki::UniquePtr<X509_CRL> crl(X509_CRL_new());
  if (!crl) return pki::opensslError(pki::ErrorCode::kInternal, "out of memory");
  X509_CRL_set_version(crl.get(), 1);  // v2
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(certificate().native()));
  pki::UniquePtr<ASN1_STRING> t(ASN1_TIME_set(nullptr, content.this_update));
  X509_CRL_set1_lastUpdate(crl.get(), t.get());
  pki::UniquePtr<ASN1_STRING> n(ASN1_TIME_set(nullptr, content.next_update));
  X509_CRL_set1_nextUpdate(crl.get(), n.get());
  // Entries share their reason extensions' encodings: one ASN1_ENUMERATED per reason.
  for (const auto& r : content.revoked) {
    pki::UniquePtr<ASN1_STRING> serial = serialFromHex(r.serial_hex);
    if (!serial) continue;  // never stored by us; skipped rather than failing the whole CRL
    pki::UniquePtr<X509_REVOKED> entry(X509_REVOKED_new());
    if (!entry) return pki::opensslError(pki::ErrorCode::kInternal, "out of memory");
    X509_REVOKED_set_serialNumber(entry.get(), serial.get());
    pki::UniquePtr<ASN1_STRING> when(ASN1_TIME_set(nullptr, r.revoked_at));
    X509_REVOKED_set_revocationDate(entry.get(), when.get());
    // RFC 5280 5.3.1: the reason code extension is absent rather than "unspecified".
    if (r.reason > 0) {
      pki::UniquePtr<ASN1_STRING> reason(ASN1_ENUMERATED_new());
      ASN1_ENUMERATED_set(reason.get(), r.reason);
      X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, reason.get(), 0, 0);
    }
    if (X509_CRL_add0_revoked(crl.get(), entry.get()) != 1)
      return pki::opensslError(pki::ErrorCode::kInternal, "adding a CRL entry failed");
    (void)entry.release();  // owned by the CRL now
  }
  X509_CRL_sort(crl.get());
  pki::UniquePtr<ASN1_INTEGER> number(ASN1_INTEGER_new());
  ASN1_INTEGER_set_int64(number.get(), content.crl_number);
  X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0);
  if (content.delta_base > 0) {
    // RFC 5280 5.2.4: the delta CRL indicator is critical and names the base CRL number.
    pki::UniquePtr<ASN1_INTEGER> base(ASN1_INTEGER_new());
    ASN1_INTEGER_set_int64(base.get(), content.delta_base);
    X509_CRL_add1_ext_i2d(crl.get(), NID_delta_crl, base.get(), 1, 0);
  }
  if (!addConfExtension(crl.get(), certificate().native(), NID_authority_key_identifier,
                        "keyid:always")) {
    pki::drainOpensslErrors();  // a CA without a subject key identifier: no AKI
  }
  if (content.delta_base == 0 && !content.freshest_crl_url.empty() &&
      !addConfExtension(crl.get(), certificate().native(), NID_freshest_crl,
                        "URI:" + content.freshest_crl_url)) {
    return pki::opensslError(pki::ErrorCode::kInvalidArgument, "bad Freshest CRL URL");
  }
  if (X509_CRL_sign(crl.get(), key_.native(), signingDigest(key_.native())) <= 0) {
    return pki::opensslError(pki::ErrorCode::kInternal, "signing the CRL failed");
  }
  int len = i2d_X509_CRL(crl.get(), nullptr);
  if (len <= 0) return pki::opensslError(pki::ErrorCode::kInternal, "encoding the CRL failed");
  pki::Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  i2d_X509_CRL(crl.get(), &p);
  return out;
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
