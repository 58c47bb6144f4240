#pragma once
/**
 * ScepDirectory: what ScepService needs from the store beyond the Enroller port. Declared here,
 * by its consumer (STYLE.md); the server implements it over its certificate, CRL, enrollment and
 * nonce stores.
 */
#include <string>
#include <string_view>

#include "pki/certificate.h"
#include "protocols/enrollment/enrollment.h"

namespace enroll::scep {

/** Look-ups and small records for SCEP. Implementations are thread-safe. */
class ScepDirectory {
 public:
  virtual ~ScepDirectory() = default;

  /** GetCert: the certificate with this issuer (RFC 2253 form) and serial (lower-case hex);
   * NotFound. */
  virtual pki::Result<pki::Certificate> findCertificate(std::string_view issuer,
                                                        std::string_view serial_hex) = 0;

  /** GetCRL: the DER of the current CRL of a label's CA; NotFound when there is none. */
  virtual pki::Result<pki::Bytes> currentCrlDer(std::string_view label) = 0;

  /**
   * Records that a transactionID belongs to a public key (SHA-256 of the CSR's
   * SubjectPublicKeyInfo, lower-case hex). Returns false when the transactionID is already bound
   * to another key. The binding also lets poll() find a pending enrollment by its key.
   */
  virtual pki::Result<bool> bindTransaction(std::string_view label, std::string_view transaction_id,
                                            std::string_view public_key_sha256) = 0;

  /**
   * CertPoll, or a PKCSReq sent again: the state of the enrollment that was held for approval
   * under this transactionID (its key is the one bindTransaction() recorded): issued (with the
   * certificate), still pending, or the error that refused it (PermissionDenied when an operator
   * rejected it). NotFound when no enrollment under this transactionID was ever held.
   */
  virtual pki::Result<enrollment::EnrollmentResult> poll(std::string_view label,
                                                         std::string_view transaction_id) = 0;

  /**
   * Remembers a (transactionID, senderNonce) pair. Returns false when it was seen before: the
   * message is a replay. Entries may expire after a day.
   */
  virtual pki::Result<bool> rememberNonce(std::string_view transaction_id,
                                          const pki::Bytes& sender_nonce) = 0;
};

}  // namespace enroll::scep
