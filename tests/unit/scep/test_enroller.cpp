#include "test_enroller.h"

namespace enroll::scep::test {

using enrollment::EnrollmentResult;
using pki::ErrorCode;

std::string keyId(EVP_PKEY* key) { return pki::hexEncode(pki::sha256(pki::publicKeyDer(key))); }

pki::Result<enrollment::LabelInfo> TestEnroller::label(std::string_view name) const {
  if (!labels_.count(std::string(name)))
    return pki::makeError(ErrorCode::kNotFound, "no such label");
  enrollment::LabelInfo info;
  info.name = std::string(name);
  info.ca_chain = {ca_.certificate()};
  return info;
}

pki::Result<EnrollmentResult> TestEnroller::enroll(const enrollment::EnrollmentRequest& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  requests.push_back(request);
  if (request.operation == enrollment::Operation::kReEnroll) {
    const auto& signer = request.credentials.message_signer;
    if (!signer || !signer->isSignedBy(ca_.certificate())) {
      return pki::makeError(ErrorCode::kUnauthenticated, "renewal not signed by our certificate");
    }
    return issue(request.csr);
  }
  auto challenge = request.csr.challengePassword();
  if (!challenge || challenge->reveal() != challenge_) {
    return pki::makeError(ErrorCode::kUnauthenticated, "challenge password refused");
  }
  if (hold_) {
    held_.emplace(keyId(request.csr.publicKey()), request.csr);
    EnrollmentResult pending;
    pending.status = EnrollmentResult::Status::kPending;
    pending.retry_after_seconds = 60;
    return pending;
  }
  return issue(request.csr);
}

pki::Result<EnrollmentResult> TestEnroller::stateOf(const std::string& key_sha256) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = held_.find(key_sha256);
  if (it == held_.end()) return pki::makeError(ErrorCode::kNotFound, "no request for this key");
  if (!approved_.count(key_sha256)) {
    EnrollmentResult pending;
    pending.status = EnrollmentResult::Status::kPending;
    return pending;
  }
  return issue(it->second);
}

pki::Result<EnrollmentResult> TestEnroller::issue(const pki::CertificateRequest& csr) {
  EnrollmentResult result;
  result.certificate =
      ca_.issue(csr.publicKey(), csr.subjectEntry(NID_commonName).value_or("device"));
  result.ca_chain = {ca_.certificate()};
  return result;
}

pki::Result<pki::Certificate> TestDirectory::findCertificate(std::string_view issuer,
                                                             std::string_view serial_hex) {
  for (const auto& c : ca_.issued()) {
    if (c.issuer() == issuer && c.serialHex() == serial_hex) return c;
  }
  return pki::makeError(ErrorCode::kNotFound, "no such certificate");
}

pki::Result<pki::Bytes> TestDirectory::currentCrlDer(std::string_view) { return ca_.crlDer(); }

pki::Result<bool> TestDirectory::bindTransaction(std::string_view label,
                                                 std::string_view transaction_id,
                                                 std::string_view public_key_sha256) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = bindings_.emplace(std::string(label) + "/" + std::string(transaction_id),
                                          std::string(public_key_sha256));
  return inserted || it->second == public_key_sha256;
}

pki::Result<EnrollmentResult> TestDirectory::poll(std::string_view label,
                                                  std::string_view transaction_id) {
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = bindings_.find(std::string(label) + "/" + std::string(transaction_id));
    if (it == bindings_.end()) return pki::makeError(ErrorCode::kNotFound, "unknown transaction");
    key = it->second;
  }
  return enroller_.stateOf(key);
}

pki::Result<bool> TestDirectory::rememberNonce(std::string_view transaction_id,
                                               const pki::Bytes& nonce) {
  std::lock_guard<std::mutex> lock(mutex_);
  return nonces_.emplace(std::string(transaction_id), nonce).second;
}

}  // namespace enroll::scep::test
