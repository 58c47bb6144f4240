#pragma once
/** CertificateAuthority: an issuing CA's certificate, chain and key, and the act of signing. */
#include <memory>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/clock.h"
#include "pki/private_key.h"
#include "server/ca/crl_encoder.h"
#include "server/ca/profile.h"
#include "server/ca/serial_generator.h"

namespace enroll::ca {

class CertificateAuthority {
 public:
  /**
   * chain: the issuing CA first, then up to the root. The key must match chain[0]; a CA whose
   * certificate is not a CA, or whose key does not match, is refused.
   */
  static pki::Result<std::shared_ptr<CertificateAuthority>> create(
      std::string name, std::vector<pki::Certificate> chain, pki::PrivateKey key);

  const std::string& name() const { return name_; }
  const pki::Certificate& certificate() const { return chain_.front(); }
  const std::vector<pki::Certificate>& chain() const { return chain_; }

  /** Signs an operational certificate for public_key with the profile's extensions. */
  pki::Result<pki::Certificate> issue(EVP_PKEY* public_key, const IssuedNames& names,
                                      const Profile& profile, const ASN1_INTEGER* serial,
                                      std::time_t now) const;

  /**
   * RFC 7030 4.4.2: a server-generated key, signed by this CA and encrypted with cipher_nid to
   * recipient's public key (pki::makeServerGeneratedKey), signingTime now. The CA key never
   * leaves this object, so a key held by an HSM (an OpenSSL provider's EVP_PKEY) can stand in.
   */
  pki::Result<pki::Bytes> protectServerKey(const pki::PrivateKey& key,
                                           const pki::Certificate& recipient, int cipher_nid,
                                           std::time_t now) const;

  /** One revoked certificate as a CRL lists it. */
  using Revocation = CrlEntry;
  /**
   * A full CRL (RFC 5280 5) signed by this CA: thisUpdate now, nextUpdate now + next_update,
   * the given CRL number, the authority key identifier.
   */
  pki::Result<pki::Bytes> signCrl(const std::vector<Revocation>& revoked, std::time_t now,
                                  std::time_t next_update, int64_t crl_number) const;

  /** What a full or delta CRL says (RFC 5280 5). */
  using CrlContent = ::enroll::ca::CrlContent;
  /**
   * Signs a full or delta CRL with this CA's key (crl_encoder.h: streamed DER, no X509_CRL).
   * InvalidArgument for an entry that is not hex or has no valid reason.
   */
  pki::Result<pki::Bytes> signCrl(const CrlContent& content) const;

  /**
   * Issues a delegated OCSP responder certificate (RFC 6960 4.2.2.2): id-kp-OCSPSigning,
   * id-pkix-ocsp-nocheck, digitalSignature, valid from now for days (never past this CA).
   */
  pki::Result<pki::Certificate> issueOcspResponder(EVP_PKEY* public_key, const std::string& subject,
                                                   const ASN1_INTEGER* serial, std::time_t now,
                                                   int days) const;

 private:
  CertificateAuthority(std::string name, std::vector<pki::Certificate> chain, pki::PrivateKey key)
      : name_(std::move(name)), chain_(std::move(chain)), key_(std::move(key)) {}
  std::string name_;
  std::vector<pki::Certificate> chain_;
  pki::PrivateKey key_;
};

}  // namespace enroll::ca
