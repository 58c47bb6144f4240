#pragma once
/** CertificateAuthority: an issuing CA's certificate, chain and key, and the act of signing. */
#include <memory>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/clock.h"
#include "pki/private_key.h"
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

  /** One revoked certificate as a CRL lists it. */
  struct Revocation {
    std::string serial_hex;
    std::time_t revoked_at = 0;
    int reason = 0;  ///< RFC 5280 CRLReason
  };
  /**
   * A full CRL (RFC 5280 5) signed by this CA: thisUpdate now, nextUpdate now + next_update,
   * the given CRL number, the authority key identifier.
   */
  pki::Result<pki::Bytes> signCrl(const std::vector<Revocation>& revoked, std::time_t now,
                                  std::time_t next_update, int64_t crl_number) const;

 private:
  CertificateAuthority(std::string name, std::vector<pki::Certificate> chain, pki::PrivateKey key)
      : name_(std::move(name)), chain_(std::move(chain)), key_(std::move(key)) {}
  std::string name_;
  std::vector<pki::Certificate> chain_;
  pki::PrivateKey key_;
};

}  // namespace enroll::ca
