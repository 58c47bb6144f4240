#include "test_enroller.h"

namespace enroll::scep::test {

using enrollment::EnrollmentResult;
using pki::ErrorCode;

std::string keyId(EVP_PKEY* key) { return pki::hexEncode(pki::sha256(pki::publicKeyDer(key))); }

pki::Result<enrollment::LabelInfo> TestEnroller::label(std::string_view name) const {
  if (!labels_.contains(std::string(name)))
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
    ENROLL_CHECK(commitGuard(request));
    return issue(request.csr);
  }
  auto challenge = request.csr.challengePassword();
  if (!challenge || challenge->reveal() != challenge_) {
    return pki::makeError(ErrorCode::kUnauthenticated, "challenge password refused");
  }
  if (hold_) {
    ENROLL_CHECK(commitGuard(request));
    held_.emplace(keyId(request.csr.publicKey()), request.csr);
    EnrollmentResult pending;
    pending.status = EnrollmentResult::Status::kPending;
    pending.retry_after_seconds = 60;
    return pending;
  }
  ENROLL_CHECK(commitGuard(request));
  return issue(request.csr);
}

pki::Result<void> TestEnroller::commitGuard(const enrollment::EnrollmentRequest& request) {
  const auto& guard = request.replay_guard;
  if (guard.empty()) return pki::ok();
  const std::string binding = request.label + "/" + guard.transaction_id;
  const std::string key = keyId(request.csr.publicKey());
  if (!guard.nonce.empty() && nonces_.contains({guard.transaction_id, guard.nonce})) {
    return pki::makeError(ErrorCode::kInvalidArgument, "replayed senderNonce");
  }
  if (guard.bind_transaction) {
    auto it = bindings_.find(binding);
    if (it != bindings_.end() && it->second != key) {
      return pki::makeError(ErrorCode::kInvalidArgument,
                            "transactionID already used with another key");
    }
    bindings_[binding] = key;
  }
  if (!guard.nonce.empty()) nonces_.emplace(guard.transaction_id, guard.nonce);
  return pki::ok();
}

std::optional<std::string> TestEnroller::boundKey(const std::string& label,
                                                  const std::string& transaction_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = bindings_.find(label + "/" + transaction_id);
  if (it == bindings_.end()) return std::nullopt;
  return it->second;
}

bool TestEnroller::nonceSeen(const std::string& transaction_id, const pki::Bytes& nonce) {
  std::lock_guard<std::mutex> lock(mutex_);
  return nonces_.contains({transaction_id, nonce});
}

bool TestEnroller::rememberNonce(const std::string& transaction_id, const pki::Bytes& nonce) {
  std::lock_guard<std::mutex> lock(mutex_);
  return nonces_.emplace(transaction_id, nonce).second;
}

pki::Result<EnrollmentResult> TestEnroller::stateOf(const std::string& key_sha256) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = held_.find(key_sha256);
  if (it == held_.end()) return pki::makeError(ErrorCode::kNotFound, "no request for this key");
  if (!approved_.contains(key_sha256)) {
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

pki::Result<ScepDirectory::Transaction> TestDirectory::transaction(std::string_view label,
                                                                   std::string_view transaction_id,
                                                                   const pki::Bytes& sender_nonce) {
  Transaction t;
  t.public_key_sha256 =
      enroller_.boundKey(std::string(label), std::string(transaction_id)).value_or("");
  t.nonce_seen = enroller_.nonceSeen(std::string(transaction_id), sender_nonce);
  return t;
}

pki::Result<EnrollmentResult> TestDirectory::poll(std::string_view label,
                                                  std::string_view transaction_id) {
  auto key = enroller_.boundKey(std::string(label), std::string(transaction_id));
  if (!key) return pki::makeError(ErrorCode::kNotFound, "unknown transaction");
  return enroller_.stateOf(*key);
}

pki::Result<bool> TestDirectory::rememberNonce(std::string_view transaction_id,
                                               const pki::Bytes& nonce) {
  return enroller_.rememberNonce(std::string(transaction_id), nonce);
}

}  // namespace enroll::scep::test
