#pragma once
/** CertRep: the one reply message of SCEP (RFC 8894 3.3.2), and its encoder. */
#include <optional>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "protocols/scep/pki_message.h"
#include "protocols/scep/ra_identity.h"

namespace enroll::scep {

/** What a CertRep says. Build it with CertRep::answering() and one of the outcome helpers. */
struct CertRep {
  std::string transaction_id;  ///< Echoed from the request.
  pki::Bytes recipient_nonce;  ///< The request's senderNonce.
  PkiStatus status = PkiStatus::kFailure;
  FailInfo fail_info = FailInfo::kBadRequest;  ///< Only sent with FAILURE.
  /** SUCCESS: the certificates (issued certificate first) and/or the CRL sent back. */
  std::vector<pki::Certificate> certificates;
  std::optional<pki::Bytes> crl_der;
  /** SUCCESS: who the reply is encrypted to: the request's signer certificate. */
  std::optional<pki::Certificate> recipient;
  int digest_nid = 0;  ///< 0: SHA-256.
  int cipher_nid = 0;  ///< 0: AES-128-CBC.

  /** A CertRep that answers msg with its transactionID, nonce and algorithms; status FAILURE. */
  static CertRep answering(const PkiMessage& msg);
};

/**
 * DER of the CertRep pkiMessage, signed by the RA. RFC 8894 3.3.2: SUCCESS carries an
 * EnvelopedData (to the requester) around a degenerate SignedData with the certificates or CRL;
 * FAILURE and PENDING carry no content. A fresh senderNonce is drawn for every reply.
 */
pki::Result<pki::Bytes> encodeCertRep(const CertRep& rep, const RaIdentity& ra);

}  // namespace enroll::scep
