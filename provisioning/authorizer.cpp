#include "provisioning/authorizer.h"

#include "provisioning/enrollment_token.h"
#include "provisioning/password_hash.h"

namespace enroll::provisioning {

using enrollment::EnrollmentRequest;
using enrollment::Operation;
using pki::ErrorCode;
using pki::makeError;

std::string authMethodName(AuthMethod m) {
  switch (m) {
    case AuthMethod::kBootstrapCertificate:
      return "bootstrap-certificate";
    case AuthMethod::kOperationalCertificate:
      return "operational-certificate";
    case AuthMethod::kBasic:
      return "basic";
    case AuthMethod::kChallenge:
      return "challenge";
    case AuthMethod::kToken:
      return "token";
    case AuthMethod::kStation:
      return "station";
  }
  return "unknown";
}

Authorizer::Authorizer(std::shared_ptr<const TrustStore> trust, store::Store& store,
                       const pki::Clock& clock)
    : trust_(std::move(trust)), store_(store), clock_(clock) {}

void Authorizer::setTrustStore(std::shared_ptr<const TrustStore> trust) {
  std::lock_guard<std::mutex> lock(mu_);
  trust_ = std::move(trust);
}

std::shared_ptr<const TrustStore> Authorizer::trustStore() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trust_;
}

pki::Result<Identity> Authorizer::authorize(const EnrollmentRequest& request,
                                            const EnrollmentPolicy& policy,
                                            const std::vector<pki::Certificate>& ca_chain) const {
  ENROLL_TRY(Identity identity, authenticate(request, policy, ca_chain));
  ENROLL_CHECK(checkChannelBinding(request, policy));
  ENROLL_CHECK(checkRegistry(identity, policy, request.operation));
  return identity;
}

pki::Result<Identity> Authorizer::authenticate(
    const EnrollmentRequest& request, const EnrollmentPolicy& policy,
    const std::vector<pki::Certificate>& ca_chain) const {
  const auto& creds = request.credentials;
  if (request.operation == Operation::kReEnroll) {
    // RFC 7030 4.2.2: re-enrollment is authenticated by the certificate being renewed; SCEP
    // (RFC 8894 3.3.1.2) signs the RenewalReq with it instead.
    if (!policy.allow_renewal) {
      return makeError(ErrorCode::kPermissionDenied, "renewal is not allowed on this label");
    }
    if (creds.message_signer)
      return byOperationalCertificate({*creds.message_signer}, policy, ca_chain);
    if (creds.tls_chain.empty()) {
      return makeError(ErrorCode::kUnauthenticated,
                       "re-enrollment needs the current certificate as client certificate");
    }
    return byOperationalCertificate(creds.tls_chain, policy, ca_chain);
  }

  if (!creds.tls_chain.empty() && policy.allow_stations) {
    auto station = byStation(request);
    if (station || station.error().code != ErrorCode::kNotFound) return station;
  }
  if (!creds.tls_chain.empty()) {
    auto trust = trustStore();
    auto verified = trust->verify(creds.tls_chain, policy.bootstrap_trust, clock_.now());
    if (verified) {
      ENROLL_TRY(std::string id, deviceIdOf(verified->leaf, policy.device_id_source));
      Identity identity;
      identity.device_id = id;
      identity.method = AuthMethod::kBootstrapCertificate;
      identity.bootstrap_fingerprint = verified->leaf.fingerprintSha256();
      if (!verified->path.empty())
        identity.bootstrap_ca = verified->path.back().fingerprintSha256();
      return identity;
    }
    // Not a bootstrap certificate: it may be one of our operational certificates.
    bool ours = !ca_chain.empty() && creds.tls_chain[0].isSignedBy(ca_chain[0]);
    if (ours && policy.allow_renewal)
      return byOperationalCertificate(creds.tls_chain, policy, ca_chain);
    // With other credentials present, a foreign client certificate is not the credential used.
    if (!(creds.basic_user && policy.allow_basic)) return std::move(verified).error();
  }
  if (creds.basic_user && creds.basic_password &&
      looksLikeEnrollmentToken(creds.basic_password->reveal())) {
    return byToken(creds.basic_password->reveal(), request.label, *creds.basic_user);
  }
  if (creds.basic_user) {
    if (!policy.allow_basic) {
      return makeError(ErrorCode::kUnauthenticated, "HTTP Basic is not accepted on this label");
    }
    return byBasic(request);
  }
  if (request.protocol == enrollment::Protocol::kScep) {
    auto challenge = request.csr.challengePassword();
    if (!challenge)
      return makeError(ErrorCode::kUnauthenticated, "the request has no challengePassword");
    auto id = request.csr.subjectEntry(NID_serialNumber);
    if (!id) id = request.csr.subjectEntry(NID_commonName);
    if (looksLikeEnrollmentToken(challenge->reveal())) {
      return byToken(challenge->reveal(), request.label, id.value_or(""));
    }
    if (policy.scep_challenge.empty() ||
        !pki::constantTimeEquals(challenge->reveal(), policy.scep_challenge.reveal())) {
      return makeError(ErrorCode::kUnauthenticated, "wrong challengePassword");
    }
    if (!id || id->empty())
      return makeError(ErrorCode::kInvalidArgument,
                       "the request names no device (CN or serialNumber)");
    Identity identity;
    identity.device_id = *id;
    identity.method = AuthMethod::kChallenge;
    return identity;
  }

  return makeError(ErrorCode::kUnauthenticated,
                   "no credentials: present a bootstrap certificate" +
                       std::string(policy.allow_basic ? " or HTTP Basic credentials" : ""));
}

pki::Result<Identity> Authorizer::byOperationalCertificate(
    const std::vector<pki::Certificate>& presented, const EnrollmentPolicy& policy,
    const std::vector<pki::Certificate>& ca_chain) const {
  const pki::Certificate& leaf = presented[0];
  std::time_t now = clock_.now();
  std::time_t grace = static_cast<std::time_t>(policy.renewal_grace_days) * 86400;
  if (leaf.notAfter() < now && now - leaf.notAfter() > grace) {
    return makeError(ErrorCode::kUnauthenticated,
                     "the certificate has expired (beyond the renewal grace period)");
  }
  // Within the grace period, check the chain as it was just before expiry.
  std::time_t check_time = leaf.notAfter() < now ? leaf.notAfter() - 1 : now;
  if (ca_chain.empty()) return makeError(ErrorCode::kInternal, "label has no CA chain");
  std::vector<pki::Certificate> anchors = {ca_chain.back()};
  std::vector<pki::Certificate> intermediates(ca_chain.begin(), ca_chain.end() - 1);
  auto path = verifyChain(presented, anchors, intermediates, check_time);
  if (!path) {
    pki::Error e = std::move(path).error();
    e.message = "operational certificate refused: " + e.message;
    return e;
  }
  ENROLL_TRY(store::CertificateRecord record, store_.findCertificate(leaf.serialHex()));
  if (record.der != leaf.toDer()) {
    return makeError(ErrorCode::kUnauthenticated, "the certificate is not one this CA issued");
  }
  if (record.status == store::CertStatus::kRevoked) {
    return makeError(ErrorCode::kPermissionDenied, "the certificate is revoked");
  }
  if (record.status == store::CertStatus::kHold) {
    return makeError(ErrorCode::kPermissionDenied, "the certificate is on hold");
  }
  Identity identity;
  identity.device_id = record.device_id;
  identity.method = AuthMethod::kOperationalCertificate;
  identity.current = leaf;
  identity.bootstrap_fingerprint = record.bootstrap_fingerprint;
  identity.bootstrap_ca = record.bootstrap_ca;
  return identity;
}

pki::Result<Identity> Authorizer::byBasic(const EnrollmentRequest& request) const {
  const auto& creds = request.credentials;
  auto record = store_.findCredential(*creds.basic_user);
  if (!record) {
    if (record.error().code == ErrorCode::kNotFound) {
      return makeError(ErrorCode::kUnauthenticated, "wrong user name or password");
    }
    return std::move(record).error();
  }
  if (!creds.basic_password || !verifyPassword(*creds.basic_password, record->password_hash)) {
    return makeError(ErrorCode::kUnauthenticated, "wrong user name or password");
  }
  if (!record->label.empty() && record->label != request.label) {
    return makeError(ErrorCode::kPermissionDenied,
                     "these credentials are not valid for this label");
  }
  Identity identity;
  identity.device_id = record->device_id.empty() ? record->username : record->device_id;
  identity.method = AuthMethod::kBasic;
  return identity;
}

pki::Result<Identity> Authorizer::byToken(const std::string& token, const std::string& label,
                                          const std::string& device_hint) const {
  auto record = store_.findToken(enrollmentTokenHash(token));
  if (!record) {
    if (record.error().code == ErrorCode::kNotFound) {
      return makeError(ErrorCode::kUnauthenticated, "unknown enrollment token");
    }
    return std::move(record).error();
  }
  if (record->revoked_at != 0)
    return makeError(ErrorCode::kPermissionDenied, "the enrollment token was revoked");
  if (record->used_at != 0) {
    return makeError(ErrorCode::kPermissionDenied, "the enrollment token has already been used");
  }
  if (record->expires_at <= clock_.now()) {
    return makeError(ErrorCode::kPermissionDenied, "the enrollment token has expired");
  }
  if (record->label != label) {
    return makeError(ErrorCode::kPermissionDenied,
                     "the enrollment token is not valid on this label");
  }
  Identity identity;
  identity.device_id = record->device_id.empty() ? device_hint : record->device_id;
  if (identity.device_id.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "a batch token needs the device id (Basic user name or CSR CN)");
  }
  identity.method = AuthMethod::kToken;
  identity.token_hash = record->token_hash;
  return identity;
}

pki::Result<Identity> Authorizer::byStation(const EnrollmentRequest& request) const {
  const pki::Certificate& leaf = request.credentials.tls_chain[0];
  ENROLL_TRY(store::StationRecord station,
             store_.findStationByCertificate(leaf.fingerprintSha256()));
  std::time_t now = clock_.now();
  if (leaf.notBefore() > now || leaf.notAfter() < now) {
    return makeError(ErrorCode::kUnauthenticated,
                     "the station certificate of " + station.name + " is not valid now");
  }
  // The station speaks for the device the CSR names; the registry must know that device.
  auto id = request.csr.subjectEntry(NID_serialNumber);
  if (!id) id = request.csr.subjectEntry(NID_commonName);
  if (!id || id->empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "a station's CSR must name the device (serialNumber or CN)");
  }
  Identity identity;
  identity.device_id = *id;
  identity.method = AuthMethod::kStation;
  identity.station = station.name;
  return identity;
}

pki::Result<void> Authorizer::checkChannelBinding(const EnrollmentRequest& request,
                                                  const EnrollmentPolicy& policy) const {
  if (request.protocol == enrollment::Protocol::kScep)
    return pki::ok();  // challengePassword is SCEP's own
  const auto& binding = request.credentials.channel_binding;
  auto challenge = request.csr.challengePassword();
  if (!challenge) {
    if (policy.require_channel_binding) {
      return makeError(ErrorCode::kPermissionDenied,
                       "policy require_channel_binding: the CSR must carry the TLS channel binding "
                       "as challengePassword");
    }
    return pki::ok();
  }
  if (binding.empty()) {
    return makeError(ErrorCode::kPermissionDenied,
                     "channel binding is not available on this connection");
  }
  // RFC 7030 3.5: the challengePassword holds the base64 of tls-unique (RFC 9266's
  // tls-exporter on TLS 1.3, where tls-unique does not exist).
  std::string expected = pki::base64Encode(binding);
  if (!pki::constantTimeEquals(challenge->reveal(), expected)) {
    return makeError(ErrorCode::kPermissionDenied,
                     "the CSR's challengePassword does not match the " +
                         request.credentials.channel_binding_type +
                         " value of this TLS connection");
  }
  return pki::ok();
}

pki::Result<void> Authorizer::checkRegistry(Identity& identity, const EnrollmentPolicy& policy,
                                            Operation op) const {
  auto device = store_.findDevice(identity.device_id);
  if (!device) {
    if (device.error().code != ErrorCode::kNotFound) return std::move(device).error();
    if (policy.known_devices_only || identity.method == AuthMethod::kStation) {
      if (identity.method == AuthMethod::kStation) {
        return makeError(ErrorCode::kPermissionDenied, "station " + identity.station + ": device " +
                                                           identity.device_id +
                                                           " is not in the registry");
      }
      return makeError(
          ErrorCode::kPermissionDenied,
          "policy known_devices_only: device " + identity.device_id + " is not in the registry");
    }
  } else {
    if (device->state == store::DeviceState::kBlocked ||
        device->state == store::DeviceState::kRetired) {
      return makeError(ErrorCode::kPermissionDenied, "device " + identity.device_id + " is " +
                                                         store::deviceStateName(device->state));
    }
    if (identity.method == AuthMethod::kBootstrapCertificate &&
        !device->bootstrap_fingerprint.empty() &&
        device->bootstrap_fingerprint != identity.bootstrap_fingerprint) {
      return makeError(ErrorCode::kPermissionDenied,
                       "the bootstrap certificate is not the one the registry expects for device " +
                           identity.device_id);
    }
    identity.device = std::move(device).value();
  }
  if (op != Operation::kReEnroll && identity.method == AuthMethod::kBootstrapCertificate &&
      policy.max_enrollments_per_bootstrap > 0) {
    ENROLL_TRY(int64_t used, store_.countByBootstrap(identity.bootstrap_fingerprint));
    if (used >= policy.max_enrollments_per_bootstrap) {
      return makeError(
          ErrorCode::kPermissionDenied,
          "policy max_enrollments_per_bootstrap: this bootstrap certificate has already enrolled " +
              std::to_string(used) + " time(s)");
    }
  }
  return pki::ok();
}

}  // namespace enroll::provisioning
