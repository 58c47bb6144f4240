#include "server/ca/store_scep_directory.h"

namespace enroll::ca {

using pki::ErrorCode;
using pki::makeError;

pki::Result<pki::Certificate> StoreScepDirectory::findCertificate(std::string_view issuer,
                                                                  std::string_view serial_hex) {
  ENROLL_TRY(store::CertificateRecord record, store_.findCertificate(std::string(serial_hex)));
  ENROLL_TRY(pki::Certificate cert, pki::Certificate::fromDer(record.der));
  if (cert.issuer() != issuer)
    return makeError(ErrorCode::kNotFound, "no such certificate from that issuer");
  return cert;
}

pki::Result<pki::Bytes> StoreScepDirectory::currentCrlDer(std::string_view label) {
  ENROLL_TRY(std::shared_ptr<CertificateAuthority> ca, enroller_.authorityOf(label));
  if (publisher_) {
    auto published = publisher_->fullCrl(ca->name());
    if (published) return (*published)->der;
  }
  ENROLL_TRY(std::vector<store::CertificateRecord> revoked, store_.revokedCertificates(ca->name()));
  std::vector<CertificateAuthority::Revocation> entries;
  for (const auto& r : revoked) entries.push_back({r.serial, r.revoked_at, r.revocation_reason});
  std::time_t now = clock_.now();
  return ca->signCrl(entries, now, 86400, static_cast<int64_t>(now));
}

pki::Result<scep::ScepDirectory::Transaction> StoreScepDirectory::transaction(
    std::string_view label, std::string_view transaction_id, const pki::Bytes& sender_nonce) {
  ENROLL_TRY(store::ScepTransactionState state,
             store_.scepTransactionState(std::string(label), std::string(transaction_id),
                                         pki::hexEncode(sender_nonce)));
  return Transaction{std::move(state.public_key_sha256), state.nonce_seen};
}

pki::Result<enrollment::EnrollmentResult> StoreScepDirectory::poll(
    std::string_view label, std::string_view transaction_id) {
  ENROLL_TRY(std::string key,
             store_.scepTransactionKey(std::string(label), std::string(transaction_id)));
  std::string id = (label.empty() ? std::string("default") : std::string(label)) + "/" + key;
  ENROLL_TRY(store::PendingRecord pending, store_.findPending(id));
  switch (pending.state) {
    case store::PendingRecord::State::kPending: {
      enrollment::EnrollmentResult r;
      r.status = enrollment::EnrollmentResult::Status::kPending;
      r.device_id = pending.device_id;
      return r;
    }
    case store::PendingRecord::State::kRejected:
      return makeError(ErrorCode::kPermissionDenied, "the request was rejected by an operator");
    case store::PendingRecord::State::kApproved:
    case store::PendingRecord::State::kIssued: {
      // The held CSR carries the challenge that authenticated it; the core issues it now (or
      // returns the certificate it already issued).
      ENROLL_TRY(pki::CertificateRequest csr, pki::CertificateRequest::fromDer(pending.csr_der));
      enrollment::EnrollmentRequest again{enrollment::Protocol::kScep,
                                          std::string(label),
                                          enrollment::Operation::kEnroll,
                                          std::move(csr),
                                          {},
                                          std::nullopt,
                                          {}};
      return enroller_.enroll(again);
    }
  }
  return makeError(ErrorCode::kInternal, "unknown pending state");
}

pki::Result<bool> StoreScepDirectory::rememberNonce(std::string_view transaction_id,
                                                    const pki::Bytes& sender_nonce) {
  return store_.rememberScepNonce(std::string(transaction_id), pki::hexEncode(sender_nonce),
                                  clock_.now());
}

}  // namespace enroll::ca
