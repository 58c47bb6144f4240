#pragma once
/** Plain records the store keeps. Times are seconds since the epoch (UTC). */
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pki/encoding.h"

namespace enroll::store {

/** Certificate status as RFC 5280/6960 see it. */
enum class CertStatus { kGood, kRevoked, kHold };
std::string certStatusName(CertStatus s);
CertStatus parseCertStatus(const std::string& s);

/** One issued certificate. */
struct CertificateRecord {
  std::string serial;  ///< lower-case hex, no leading zeros
  std::string issuer;  ///< issuing CA name (configuration key)
  std::string device_id;
  std::string label;
  std::string profile;
  std::string protocol;
  std::string subject;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  std::time_t issued_at = 0;
  CertStatus status = CertStatus::kGood;
  std::time_t revoked_at = 0;
  int revocation_reason = 0;  ///< RFC 5280 CRLReason
  std::string public_key_sha256;
  std::string bootstrap_fingerprint;  ///< SHA-256 of the bootstrap certificate used, if any
  std::string station;                ///< station that asked on the device's behalf, if any
  /** SHA-256 hex of the manufacturer CA certificate the bootstrap chain ended at, if any. */
  std::string bootstrap_ca;
  pki::Bytes der;
};

/**
 * Which certificates an operation applies to; every set field must match (AND). An empty
 * string, an empty list, 0 or nullopt means "any".
 */
struct CertificateSelector {
  std::vector<std::string> serials;  ///< lower-case hex
  std::vector<std::string> device_ids;
  std::string model, batch, product_line;            ///< registry fields (devices table)
  std::map<std::string, std::string> device_labels;  ///< registry free-form labels key=value
  std::string label;  ///< enrollment label (EST/SCEP path); "default" is the unlabelled path
  /** SHA-256 hex of the manufacturer CA certificate the bootstrap chain ended at. */
  std::string bootstrap_ca;
  std::string station;                         ///< station that asked
  std::time_t issued_from = 0, issued_to = 0;  ///< issued_from <= issued_at < issued_to; 0 = open
  std::time_t expiring_before = 0;             ///< not_after < this; 0 = open
  std::optional<CertStatus> status;
  /** True when nothing is set. */
  bool empty() const;
};

/** A status change applied to many certificates (RevocationStore::changeCertificateStatus). */
struct StatusChange {
  /** kRevoked (from good or hold), kHold (from good) or kGood (release, from hold). */
  CertStatus status = CertStatus::kRevoked;
  int reason = 0;  ///< RFC 5280 CRLReason; ignored for kGood
  std::time_t at = 0;
};

/** What one chunk of a status change did. */
struct StatusChunk {
  int64_t changed = 0;   ///< rows whose status changed in this (committed) chunk
  std::string cursor;    ///< opaque: pass it as `after` to continue; empty when nothing was left
  int64_t revision = 0;  ///< the revocation revision this chunk committed as (0: none)
};

/** One certificate as a CRL or an OCSP response needs it. */
struct RevocationEntry {
  std::string serial;
  CertStatus status = CertStatus::kGood;  ///< kGood in a delta: released from hold
  std::time_t revoked_at = 0;
  int reason = 0;
};

/** The status of one certificate (OCSP). */
struct CertificateStatusRecord {
  std::string serial;
  std::string issuer;
  CertStatus status = CertStatus::kGood;
  std::time_t revoked_at = 0;
  int reason = 0;
  std::time_t not_after = 0;
};

/** Persisted CRL numbering of one issuing CA (RFC 5280 5.2.3, 5.2.4). */
struct CrlState {
  std::string issuer;
  int64_t crl_number = 0;     ///< the last number given to any CRL (full or delta) of the issuer
  int64_t base_number = 0;    ///< the full CRL delta CRLs refer to (0: none yet)
  int64_t base_revision = 0;  ///< revocation revision that base full CRL reflects
  std::time_t base_at = 0;    ///< when the base was made
};

/** Device states in the registry. */
enum class DeviceState { kExpected, kEnrolled, kBlocked, kRetired };
std::string deviceStateName(DeviceState s);
/** Parses a state name; kExpected for unknown text is never returned silently: callers validate. */
bool parseDeviceState(const std::string& s, DeviceState* out);

/** A device in the registry. */
struct DeviceRecord {
  std::string id;
  std::string model;
  std::string batch;
  std::string product_line;
  std::string labels;  ///< JSON object text of free-form labels
  std::string bootstrap_fingerprint;
  std::string ek_hash;
  DeviceState state = DeviceState::kExpected;
  int64_t enroll_count = 0;
  std::time_t created_at = 0;
  std::time_t updated_at = 0;
};

/** One line of enrollment history (issued, refused, pending). */
struct EnrollmentEvent {
  std::time_t at = 0;
  std::string protocol;
  std::string label;
  std::string operation;
  std::string device_id;
  std::string peer;
  std::string outcome;  ///< "issued", "pending", or an error code name
  std::string serial;
  std::string reason;
};

/** A request held for manual approval. */
struct PendingRecord {
  enum class State { kPending, kApproved, kRejected, kIssued };
  std::string id;  ///< label + "/" + SHA-256 of the CSR public key
  std::string label;
  std::string device_id;
  std::string transaction_id;
  pki::Bytes csr_der;
  State state = State::kPending;
  std::time_t created_at = 0;
  std::time_t decided_at = 0;
  std::string serial;  ///< set once issued
};
std::string pendingStateName(PendingRecord::State s);
PendingRecord::State parsePendingState(const std::string& s);

/** A one-time enrollment token, kept only as the SHA-256 of its text. */
struct TokenRecord {
  std::string token_hash;  ///< SHA-256 hex of the token text
  std::string label;       ///< the label it is valid on ("" = default)
  std::string device_id;   ///< the device it stands for; empty for a batch token
  std::string batch;
  std::time_t created_at = 0;
  std::time_t expires_at = 0;
  std::time_t used_at = 0;     ///< 0 while unused
  std::time_t revoked_at = 0;  ///< 0 while not revoked
  std::string serial;          ///< the certificate it was used for
};

/** A provisioning station (registration authority) that enrolls on behalf of devices. */
struct StationRecord {
  std::string name;
  std::string certificate_sha256;  ///< the station's TLS client certificate, pinned
  std::time_t created_at = 0;
};

/** HTTP Basic credentials (EST), stored as a salted PBKDF2 hash. */
struct BasicCredentialRecord {
  std::string username;
  std::string label;      ///< empty: any label
  std::string device_id;  ///< the identity the credential stands for
  std::string password_hash;
  std::time_t created_at = 0;
};

/** Which devices a registry listing shows; every set field must match. */
struct DeviceFilter {
  std::string state;  ///< a DeviceState name, or empty
  std::string model;
  std::string batch;
  std::string product_line;
  std::map<std::string, std::string> labels;  ///< free-form labels, key = value
  std::string after_id;                       ///< keyset pagination: ids greater than this
  int limit = 100;
};

/** Roles of the admin API, each allowed what the one before may do and more. */
enum class Role { kViewer, kOperator, kAdmin };
std::string roleName(Role r);
bool parseRole(const std::string& s, Role* out);

/** A person or program allowed on the admin API, pinned by its client certificate. */
struct OperatorRecord {
  std::string name;
  std::string certificate_sha256;
  Role role = Role::kViewer;
  std::time_t created_at = 0;
};

/**
 * One entry of the append-only audit log. Each entry's hash covers its fields and the previous
 * entry's hash, so changing or deleting an entry breaks the chain from there on.
 */
struct AuditEntry {
  int64_t seq = 0;  ///< 1, 2, 3, ... without gaps
  std::time_t at = 0;
  std::string actor;    ///< "operator:alice", "device:DEMO-0001", "peer:10.0.0.5:5555"
  std::string action;   ///< "enroll.simpleenroll", "registry.import", "revoke", ...
  std::string target;   ///< what it acted on: a device id, serial, label, job
  std::string outcome;  ///< "ok", "issued", or an error code name
  std::string detail;   ///< more, as JSON text
  std::string prev_hash;
  std::string hash;
};

/** The SHA-256 (hex) of an entry: its fields, length-prefixed, after the previous entry's hash. */
std::string auditEntryHash(const AuditEntry& e);

/**
 * Checks audit entries in order, page after page: each must follow the previous one (seq + 1,
 * prev_hash equal to its hash) and hash to what it says. The first entry follows seq 0 and a
 * hash of 64 zeros.
 */
class AuditChainVerifier {
 public:
  /** False (and reason() says why) at the first entry that breaks the chain. */
  bool add(const AuditEntry& e);
  int64_t lastSeq() const { return last_seq_; }
  const std::string& lastHash() const { return last_hash_; }
  const std::string& reason() const { return reason_; }

 private:
  int64_t last_seq_ = 0;
  std::string last_hash_ = std::string(64, '0');
  std::string reason_;
};

/** The audit entry an enrollment event makes. */
AuditEntry auditEntryOf(const EnrollmentEvent& e);

}  // namespace enroll::store
