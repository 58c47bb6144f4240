#pragma once
/** StoreScepDirectory: the ScepDirectory SCEP needs, over the store and the enrollment core. */
#include "protocols/scep/scep_directory.h"
#include "server/ca/crl_publisher.h"
#include "server/ca/enrollment_service.h"

namespace enroll::ca {

class StoreScepDirectory final : public scep::ScepDirectory {
 public:
  StoreScepDirectory(EnrollmentService& enroller, store::Store& store, const pki::Clock& clock)
      : enroller_(enroller), store_(store), clock_(clock) {}

  pki::Result<pki::Certificate> findCertificate(std::string_view issuer,
                                                std::string_view serial_hex) override;
  /** GetCRL answers with the published full CRL from now on (none: one made on each request). */
  void setCrlPublisher(const CrlPublisher* publisher) { publisher_ = publisher; }
  /** The published full CRL, or (without a publisher) one made now, numbered by time. */
  pki::Result<pki::Bytes> currentCrlDer(std::string_view label) override;
  pki::Result<Transaction> transaction(std::string_view label, std::string_view transaction_id,
                                       const pki::Bytes& sender_nonce) override;
  pki::Result<enrollment::EnrollmentResult> poll(std::string_view label,
                                                 std::string_view transaction_id) override;
  pki::Result<bool> rememberNonce(std::string_view transaction_id,
                                  const pki::Bytes& sender_nonce) override;

 private:
  EnrollmentService& enroller_;
  store::Store& store_;
  const pki::Clock& clock_;
  const CrlPublisher* publisher_ = nullptr;
};

}  // namespace enroll::ca
