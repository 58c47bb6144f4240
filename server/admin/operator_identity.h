#pragma once
/**
 * Who may use the admin API. Operators hold client certificates from enrolld's own admin CA
 * (kept apart from the device PKI, so that no device certificate can ever act as an operator),
 * and each certificate is pinned in the store with its role: removing the row locks it out.
 */
#include <ctime>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/private_key.h"
#include "server/store/store.h"

namespace enroll::admin {

/** The admin CA: signs operator certificates. */
struct AdminCa {
  pki::Certificate certificate;
  pki::PrivateKey key;
};

/** A new self-signed admin CA (EC P-256, 20 years). */
pki::Result<AdminCa> createAdminCa(const std::string& organization, std::time_t now);

/** True for an operator name we accept: 1 to 64 of [A-Za-z0-9_.@-]. */
bool validOperatorName(const std::string& name);

/**
 * An operator certificate for public_key (clientAuth, 2 years): CN=name, OU=role, signed by the
 * admin CA. The role in the certificate is informational; the store's pin decides.
 */
pki::Result<pki::Certificate> issueOperatorCertificate(const AdminCa& ca, const std::string& name,
                                                       store::Role role, EVP_PKEY* public_key,
                                                       std::time_t now);

/** An authenticated caller of the admin API. */
struct Principal {
  std::string name;
  store::Role role = store::Role::kViewer;
  std::string certificate_sha256;
};

/** Checks a TLS client chain against the admin CA and the operator pins. */
class OperatorAuthenticator {
 public:
  OperatorAuthenticator(pki::Certificate admin_ca, store::OperatorStore& operators)
      : admin_ca_(std::move(admin_ca)), operators_(operators) {}
  /**
   * Unauthenticated without a certificate or with one the admin CA did not sign (or expired);
   * PermissionDenied for a valid certificate that is not (or no longer) pinned.
   */
  pki::Result<Principal> authenticate(const std::vector<pki::Certificate>& chain,
                                      std::time_t now) const;

 private:
  pki::Certificate admin_ca_;
  store::OperatorStore& operators_;
};

}  // namespace enroll::admin
