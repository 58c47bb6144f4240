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

  /** What the directory knows of a transactionID before an enrollment is worked on. */
  struct Transaction {
    /** SHA-256 (lower-case hex) of the public key the transactionID is bound to; empty: none. */
    std::string public_key_sha256;
    /** This (transactionID, senderNonce) pair was seen before: the message is a replay. */
    bool nonce_seen = false;
  };

  /**
   * Reads (never writes) the binding of a transactionID on a label and whether the senderNonce
   * was seen with it. An early answer only: the Enroller commits the nonce and the binding with
   * the issuance or the held request (EnrollmentRequest::replay_guard), which is what holds
   * against concurrent copies of a message.
   */
  virtual pki::Result<Transaction> transaction(std::string_view label,
                                               std::string_view transaction_id,
                                               const pki::Bytes& sender_nonce) = 0;

  /**
   * CertPoll, or a PKCSReq sent again: the state of the enrollment that was held for approval
   * under this transactionID (its key is the one the held request bound): issued (with the
   * certificate), still pending, or the error that refused it (PermissionDenied when an operator
   * rejected it). NotFound when no enrollment under this transactionID was ever held.
   */
  virtual pki::Result<enrollment::EnrollmentResult> poll(std::string_view label,
                                                         std::string_view transaction_id) = 0;

  /**
   * Remembers a (transactionID, senderNonce) pair for a message that commits nothing else
   * (CertPoll, GetCert, GetCRL, a resent held request). Returns false when it was seen before: the
   * message is a replay. Entries may expire after a day.
   */
  virtual pki::Result<bool> rememberNonce(std::string_view transaction_id,
                                          const pki::Bytes& sender_nonce) = 0;
};

}  // namespace enroll::scep
