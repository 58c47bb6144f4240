#pragma once
/**
 * The Authorizer decides who is asking and whether they may enroll under a label's policy:
 * bootstrap certificate (IDevID) against the label's manufacturer CAs, operational certificate
 * from our own CA (renewal), HTTP Basic, or a SCEP challenge; then channel binding and the
 * device registry (known devices only, blocked or retired devices, enrollment count).
 */
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pki/clock.h"
#include "protocols/enrollment/enrollment.h"
#include "provisioning/trust_store.h"
#include "server/store/store.h"

namespace enroll::provisioning {

/** A label's rules for who may enroll. */
struct EnrollmentPolicy {
  /** Names of trust anchor sets whose bootstrap certificates this label accepts. */
  std::vector<std::string> bootstrap_trust;
  DeviceIdSource device_id_source = DeviceIdSource::kSubjectSerialNumber;
  /** Accept HTTP Basic credentials (EST over HTTPS only). */
  bool allow_basic = false;
  /** The CSR must carry the connection's channel binding as challengePassword (RFC 7030 3.5). */
  bool require_channel_binding = false;
  /** Refuse devices the registry does not list, even with a valid bootstrap certificate. */
  bool known_devices_only = false;
  /** How many certificates one bootstrap certificate may obtain (0: no limit). */
  int max_enrollments_per_bootstrap = 0;
  /** Accept renewals authenticated by an operational certificate of this label's CA. */
  bool allow_renewal = true;
  /** How long after expiry an operational certificate may still renew itself. */
  int renewal_grace_days = 0;
  /** Accept registered provisioning stations enrolling on behalf of registered devices. */
  bool allow_stations = false;
  /** A static SCEP challengePassword for this label (empty: none). */
  pki::SecretString scep_challenge;
};

/** How a request was authenticated. */
enum class AuthMethod {
  kBootstrapCertificate,
  kOperationalCertificate,
  kBasic,
  kChallenge,
  kToken,
  kStation
};
std::string authMethodName(AuthMethod m);

/** Who is asking, once authenticated and authorized. */
struct Identity {
  std::string device_id;
  AuthMethod method = AuthMethod::kBootstrapCertificate;
  /** SHA-256 of the bootstrap certificate used (kBootstrapCertificate). */
  std::string bootstrap_fingerprint;
  /** SHA-256 of the manufacturer CA certificate the bootstrap chain ended at (kept on renewal). */
  std::string bootstrap_ca;
  /** The operational certificate being renewed (kOperationalCertificate). */
  std::optional<pki::Certificate> current;
  /** The station that asked on the device's behalf (kStation). */
  std::string station;
  /** SHA-256 of the one-time token used (kToken): consumed with the issuance. */
  std::string token_hash;
  /** The device's registry entry, when it has one. */
  std::optional<store::DeviceRecord> device;
};

class Authorizer {
 public:
  Authorizer(std::shared_ptr<const TrustStore> trust, store::Store& store, const pki::Clock& clock);

  /** Swaps in new bootstrap trust anchors (SIGHUP); requests in flight keep the old ones. */
  void setTrustStore(std::shared_ptr<const TrustStore> trust);
  std::shared_ptr<const TrustStore> trustStore() const;

  /**
   * Authenticates and authorizes one request. ca_chain is the label's issuing CA chain
   * (issuing CA first), against which operational certificates are checked.
   */
  pki::Result<Identity> authorize(const enrollment::EnrollmentRequest& request,
                                  const EnrollmentPolicy& policy,
                                  const std::vector<pki::Certificate>& ca_chain) const;

 private:
  pki::Result<Identity> authenticate(const enrollment::EnrollmentRequest& request,
                                     const EnrollmentPolicy& policy,
                                     const std::vector<pki::Certificate>& ca_chain) const;
  pki::Result<Identity> byOperationalCertificate(
      const std::vector<pki::Certificate>& presented, const EnrollmentPolicy& policy,
      const std::vector<pki::Certificate>& ca_chain) const;
  pki::Result<Identity> byBasic(const enrollment::EnrollmentRequest& request) const;
  /** A registered station's certificate: the CSR names the device. NotFound: not a station. */
  pki::Result<Identity> byStation(const enrollment::EnrollmentRequest& request) const;
  /** A one-time token; device_hint names the device when the token is a batch token. */
  pki::Result<Identity> byToken(const std::string& token, const std::string& label,
                                const std::string& device_hint) const;
  pki::Result<void> checkChannelBinding(const enrollment::EnrollmentRequest& request,
                                        const EnrollmentPolicy& policy) const;
  pki::Result<void> checkRegistry(Identity& identity, const EnrollmentPolicy& policy,
                                  enrollment::Operation op) const;

  mutable std::mutex mu_;
  std::shared_ptr<const TrustStore> trust_;
  store::Store& store_;
  const pki::Clock& clock_;
};

}  // namespace enroll::provisioning
