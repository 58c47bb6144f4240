#pragma once
/**
 * PkiMessage: a decoded SCEP request (RFC 8894 3.2/3.3): a CMS SignedData whose signed attributes
 * carry the SCEP fields and whose content is an EnvelopedData addressed to the label's RA.
 */
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pki/certificate.h"
#include "protocols/scep/algorithm_policy.h"
#include "protocols/scep/ra_identity.h"

namespace enroll::scep {

/** messageType values (RFC 8894 3.2.1.2). */
enum class MessageType {
  kCertRep = 3,
  kRenewalReq = 17,
  kPKCSReq = 19,
  kCertPoll = 20,  ///< GetCertInitial in older drafts.
  kGetCert = 21,
  kGetCRL = 22,
};
/** "PKCSReq", "RenewalReq", ... as RFC 8894 writes them. */
std::string_view messageTypeName(MessageType type);

/** pkiStatus values (RFC 8894 3.2.1.3). */
enum class PkiStatus { kSuccess = 0, kFailure = 2, kPending = 3 };
std::string_view pkiStatusName(PkiStatus status);

/** failInfo values (RFC 8894 3.2.1.4). */
enum class FailInfo {
  kBadAlg = 0,           ///< Unrecognized or unsupported algorithm.
  kBadMessageCheck = 1,  ///< Integrity check (signature, decryption) failed.
  kBadRequest = 2,       ///< Transaction not permitted or supported.
  kBadTime = 3,          ///< The message time or signer validity is out of range.
  kBadCertId = 4,        ///< No certificate matches the criteria given.
};
/** "badAlg", "badMessageCheck", ... as RFC 8894 writes them. */
std::string_view failInfoName(FailInfo info);

/** Why a readable pkiMessage is refused: the failInfo to answer with and a reason for the log. */
struct Refusal {
  FailInfo fail_info = FailInfo::kBadRequest;
  std::string reason;
};

/**
 * A decoded request. When `refusal` is set, the message was readable enough to answer with a
 * CertRep FAILURE (transaction_id and sender_nonce are known) but must not be acted on:
 * message_data is then empty.
 */
struct PkiMessage {
  MessageType type = MessageType::kPKCSReq;
  std::string transaction_id;
  pki::Bytes sender_nonce;
  /** The certificate that signed the message (self-signed on a first enrollment). */
  std::optional<pki::Certificate> signer;
  /** The signer names itself as its issuer: a throw-away certificate that carries no authority. */
  bool signer_self_signed = false;
  int digest_nid = 0;  ///< Digest of the signer info; the CertRep answers with the same one.
  int cipher_nid = 0;  ///< Content encryption of the envelope; the CertRep answers with it too.
  /** The decrypted messageData: a PKCS#10 request, IssuerAndSubject or IssuerAndSerialNumber. */
  pki::Bytes message_data;
  std::optional<Refusal> refusal;
  /** SHA-1, MD5 or DES seen in a legacy-mode label, for the log ("sha1, des-cbc"). */
  std::string legacy_algorithms;
};

/**
 * Decodes, verifies and decrypts a pkiMessage addressed to `ra`. Returns kMalformed when the
 * bytes are not a SignedData with a messageType and a transactionID (the caller answers HTTP 400);
 * any later problem (signature, algorithm, signer validity at `now`, wrong recipient) gives a
 * PkiMessage with a Refusal.
 */
pki::Result<PkiMessage> decodePkiMessage(const pki::Bytes& der, const RaIdentity& ra,
                                         const AlgorithmPolicy& policy, std::time_t now);

/** An IssuerAndSerialNumber (GetCert, GetCRL messageData; RFC 8894 3.3.4, 3.3.5). */
struct IssuerAndSerial {
  std::string issuer;      ///< RFC 2253 form, as pki::Certificate::issuer() gives it.
  std::string serial_hex;  ///< As pki::Certificate::serialHex() gives it.
};
/** Parses an IssuerAndSerialNumber. */
pki::Result<IssuerAndSerial> parseIssuerAndSerial(const pki::Bytes& der);

/** An IssuerAndSubject (CertPoll messageData; RFC 8894 3.3.3). */
struct IssuerAndSubject {
  std::string issuer;
  std::string subject;
};
/** Parses an IssuerAndSubject. */
pki::Result<IssuerAndSubject> parseIssuerAndSubject(const pki::Bytes& der);

}  // namespace enroll::scep
