#pragma once
/**
 * The enrollment port: the one interface every protocol (EST over HTTPS, EST-coaps, SCEP) calls
 * to get a certificate issued. The issuance core (server/ca) implements it; protocols only
 * translate their wire format into an EnrollmentRequest and the result back.
 */
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pki/certificate.h"
#include "pki/certificate_request.h"
#include "pki/private_key.h"

namespace enroll::enrollment {

/** Which protocol a request came in on (for policy, logs and metrics). */
enum class Protocol { kEst, kEstCoaps, kScep };
std::string_view protocolName(Protocol p);

/** What the device asks for. */
enum class Operation {
  kEnroll,        ///< First enrollment (EST simpleenroll, SCEP PKCSReq).
  kReEnroll,      ///< Renewal or rekey, authenticated by the certificate being renewed.
  kServerKeyGen,  ///< The server makes the key pair (EST serverkeygen).
};
std::string_view operationName(Operation op);

/** What the transport knows about who is talking. Everything is optional. */
struct PeerCredentials {
  /** The TLS/DTLS client certificate first, then any intermediates the client sent. */
  std::vector<pki::Certificate> tls_chain;
  /** HTTP Basic user and password (EST over HTTPS only). */
  std::optional<std::string> basic_user;
  std::optional<pki::SecretString> basic_password;
  /** Channel-binding value of the TLS connection: tls-unique (TLS 1.2) or tls-exporter (1.3). */
  pki::Bytes channel_binding;
  std::string channel_binding_type;
  /** SCEP: the certificate that signed the pkiMessage, when it is not self-signed. */
  std::optional<pki::Certificate> message_signer;
  /** "ip:port" of the peer, for logs. */
  std::string peer_address;
};

/**
 * Once-only facts a message protocol asks the issuance core to commit in the same transaction as
 * the certificate (or the held request), so that one write does it all and a lost race refuses
 * the request instead of issuing twice. SCEP fills it (RFC 8894 3.2.1: transactionID and
 * senderNonce); EST and EST-coaps, protected by TLS and DTLS, leave it empty.
 */
struct ReplayGuard {
  /** The client's transaction identifier; empty: no guard at all. */
  std::string transaction_id;
  /** Must never have been committed with this transaction_id: a second one is a replay and is
   * refused (InvalidArgument). Empty: no nonce check. */
  pki::Bytes nonce;
  /** Binds transaction_id, on the request's label, to the CSR's public key (SHA-256 of the SPKI):
   * refused (InvalidArgument) when it is bound to another key already. */
  bool bind_transaction = false;

  bool empty() const { return transaction_id.empty(); }
};

/** One enrollment request, protocol-neutral. */
struct EnrollmentRequest {
  Protocol protocol = Protocol::kEst;
  std::string label;  ///< Empty for the default label.
  Operation operation = Operation::kEnroll;
  pki::CertificateRequest csr;
  PeerCredentials credentials;
  /** Key type for kServerKeyGen; the label's profile default when empty. */
  std::optional<pki::KeyType> server_key_type;
  /** Committed with the issuance or the held request; empty for EST and EST-coaps. */
  ReplayGuard replay_guard;
};

/** The outcome of an accepted request. */
struct EnrollmentResult {
  enum class Status { kIssued, kPending };
  Status status = Status::kIssued;
  std::optional<pki::Certificate> certificate;
  /** The issuing CA chain, issuing CA first (without the new certificate). */
  std::vector<pki::Certificate> ca_chain;
  /** kServerKeyGen only: the key made for the device, when it goes back as plain PKCS#8 (the
   * TLS/DTLS session protects it); never stored. */
  std::optional<pki::PrivateKey> server_key;
  /**
   * kServerKeyGen when the CSR asked for the key encrypted (id-aa-asymmDecryptKeyID, RFC 7030
   * 4.4.1.2): DER ContentInfo of the RFC 7030 4.4.2 structure (EnvelopedData to the device's
   * certificate around a SignedData by the issuing CA around the AsymmetricKeyPackage). Then
   * server_key is empty. Never stored.
   */
  std::optional<pki::Bytes> encrypted_server_key;
  /** kPending: when to ask again, in seconds. */
  int retry_after_seconds = 0;
  std::string device_id;
};

/** What a label wants to see in a CSR (EST csrattrs, RFC 7030 4.5 / RFC 9148). */
struct CsrRequirements {
  std::vector<pki::KeyType> key_types;  ///< Allowed key types; the first is the preferred one.
  bool challenge_password = false;      ///< Channel binding required: challengePassword expected.
  std::string digest = "sha256";        ///< Preferred signature digest.
};

/** Static facts about a label that protocols publish (cacerts, csrattrs, GetCACaps). */
struct LabelInfo {
  std::string name;
  /** The issuing CA first, then up to (and including) the root. */
  std::vector<pki::Certificate> ca_chain;
  CsrRequirements csr;
  bool server_keygen_allowed = true;
  /** Non-empty when the label accepts HTTP Basic: the realm to name in a 401. */
  std::string basic_realm;
};

/** The port. Implementations are thread-safe. */
class Enroller {
 public:
  virtual ~Enroller() = default;
  /** NotFound for an unknown label. */
  virtual pki::Result<LabelInfo> label(std::string_view name) const = 0;
  /** Authenticates, authorizes, checks the CSR against the profile, issues, commits, returns. */
  virtual pki::Result<EnrollmentResult> enroll(const EnrollmentRequest& request) = 0;
};

}  // namespace enroll::enrollment
