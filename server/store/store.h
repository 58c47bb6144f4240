#pragma once
/**
 * Store interfaces, one per aggregate, and the Store that bundles them. The SQL implementation
 * (sql_store.h) serves SQLite now and PostgreSQL later behind the same interfaces; nothing
 * dialect-specific leaks past them. NotFound is an error code, not an empty optional.
 */
#include <string>
#include <vector>

#include "pki/result.h"
#include "server/store/records.h"

namespace enroll::store {

template <typename T>
using Result = pki::Result<T>;

/** Issued certificates. */
class CertificateStore {
 public:
  virtual ~CertificateStore() = default;
  virtual Result<CertificateRecord> findCertificate(const std::string& serial) = 0;
  virtual Result<std::vector<CertificateRecord>> certificatesOfDevice(
      const std::string& device_id) = 0;
  /** How many certificates were issued on the strength of one bootstrap certificate. */
  virtual Result<int64_t> countByBootstrap(const std::string& bootstrap_fingerprint) = 0;
  /** Certificates of one issuing CA that are revoked or on hold (for CRLs). */
  virtual Result<std::vector<CertificateRecord>> revokedCertificates(const std::string& issuer) = 0;
  /** Marks a certificate revoked (or on hold); NotFound for an unknown serial. */
  virtual Result<void> setCertificateStatus(const std::string& serial, CertStatus status,
                                            int reason, std::time_t at) = 0;
};

/**
 * Bulk revocation, CRL and OCSP: certificate selection, chunked status changes, and the
 * revocation revision that publishers poll. Every status change, single or bulk, bumps the
 * revision in the same transaction and stamps the changed rows with it, so a delta CRL is "the
 * rows stamped after the base's revision" and several nodes on one database see the same
 * sequence.
 */
class RevocationStore {
 public:
  virtual ~RevocationStore() = default;
  /** How many certificates match (any status unless the selector says). */
  virtual Result<int64_t> countCertificates(const CertificateSelector& selector) = 0;
  /**
   * Matching certificates ordered by serial, at most limit (1-10000), those with a serial
   * greater than after_serial ("" from the start): keyset pagination.
   */
  virtual Result<std::vector<CertificateRecord>> listCertificates(
      const CertificateSelector& selector, int64_t limit, const std::string& after_serial) = 0;
  /**
   * Applies change to at most limit matching certificates whose status it actually changes
   * (revoke: good or hold; hold: good; release: hold), in one committed transaction, walking the
   * table from the opaque cursor after ("" at the start). Idempotent: call again with the
   * returned cursor until it comes back empty; a new walk from "" finds nothing left to change.
   */
  virtual Result<StatusChunk> changeCertificateStatus(const CertificateSelector& selector,
                                                      const StatusChange& change,
                                                      const std::string& after, int64_t limit) = 0;
  /**
   * Sets devices to blocked (not retired ones) and says how many changed: every registry device
   * the selector names when it names devices only (ids, registry fields), enrolled or not;
   * otherwise the devices of the matching certificates.
   */
  virtual Result<int64_t> blockDevices(const CertificateSelector& selector, std::time_t at) = 0;
  /** The revocation revision: grows with every committed status change (cheap to poll). */
  virtual Result<int64_t> revocationRevision() = 0;
  /** Revoked and held certificates of an issuer with not_after >= not_after_from (full CRL). */
  virtual Result<std::vector<RevocationEntry>> revokedEntries(const std::string& issuer,
                                                              std::time_t not_after_from) = 0;
  /**
   * Certificates of an issuer whose status changed after revision (delta CRL), with their
   * status now: kGood ones were released from hold (removeFromCRL).
   */
  virtual Result<std::vector<RevocationEntry>> statusChangesSince(const std::string& issuer,
                                                                  int64_t revision) = 0;
  /** One certificate's status (OCSP); NotFound for a serial never issued. */
  virtual Result<CertificateStatusRecord> certificateStatus(const std::string& serial) = 0;
  /** The CRL numbering of an issuer (all zero before its first CRL). */
  virtual Result<CrlState> crlState(const std::string& issuer) = 0;
  /** Takes the next CRL number of an issuer (persisted, monotonic, shared by full and delta). */
  virtual Result<int64_t> nextCrlNumber(const std::string& issuer) = 0;
  /** Records the full CRL that later delta CRLs refer to. */
  virtual Result<void> setCrlBase(const std::string& issuer, int64_t base_number,
                                  int64_t base_revision, std::time_t at) = 0;
};

/** The device registry. */
class DeviceStore {
 public:
  virtual ~DeviceStore() = default;
  virtual Result<DeviceRecord> findDevice(const std::string& id) = 0;
  /** Inserts or replaces the registry fields of a device (keeps its enroll count and state unless
   * given). */
  virtual Result<void> putDevice(const DeviceRecord& device) = 0;
  /**
   * Imports many devices in one transaction (all or nothing), idempotent: a known device keeps its
   * enrollment count, and its state changes only to blocked or retired, or from expected.
   * Returns how many devices were new.
   */
  virtual Result<int64_t> importDevices(const std::vector<DeviceRecord>& devices,
                                        std::time_t at) = 0;
  /** Devices matching the filter, ordered by id, at most filter.limit of them. */
  virtual Result<std::vector<DeviceRecord>> listDevices(const DeviceFilter& filter) = 0;
  /** Sets a device's state (blocked, retired, ...); NotFound for an unknown id. */
  virtual Result<void> setDeviceState(const std::string& id, DeviceState state, std::time_t at) = 0;
};

/** Enrollment history. */
class EnrollmentLog {
 public:
  virtual ~EnrollmentLog() = default;
  virtual Result<void> appendEvent(const EnrollmentEvent& event) = 0;
  virtual Result<std::vector<EnrollmentEvent>> eventsOfDevice(const std::string& device_id) = 0;
};

/** Requests held for manual approval. */
class PendingStore {
 public:
  virtual ~PendingStore() = default;
  virtual Result<PendingRecord> findPending(const std::string& id) = 0;
  virtual Result<PendingRecord> findPendingByTransaction(const std::string& label,
                                                         const std::string& transaction_id) = 0;
  /** Inserts a new pending request; AlreadyExists if one with the same id exists. */
  virtual Result<void> insertPending(const PendingRecord& record) = 0;
  virtual Result<void> decidePending(const std::string& id, PendingRecord::State state,
                                     std::time_t at) = 0;
  virtual Result<std::vector<PendingRecord>> listPending() = 0;
};

/** HTTP Basic credentials. */
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  virtual Result<BasicCredentialRecord> findCredential(const std::string& username) = 0;
  virtual Result<void> putCredential(const BasicCredentialRecord& record) = 0;
};

/** One-time enrollment tokens. */
class TokenStore {
 public:
  virtual ~TokenStore() = default;
  /** Inserts tokens in one transaction; AlreadyExists if a hash exists already. */
  virtual Result<void> insertTokens(const std::vector<TokenRecord>& tokens) = 0;
  virtual Result<TokenRecord> findToken(const std::string& token_hash) = 0;
  /** Revokes an unused token; NotFound if there is no unused token with this hash. */
  virtual Result<void> revokeToken(const std::string& token_hash, std::time_t at) = 0;
  /** Tokens of a label (all labels when empty), newest first. */
  virtual Result<std::vector<TokenRecord>> listTokens(const std::string& label) = 0;
};

/** Provisioning stations, pinned by certificate fingerprint. */
class StationStore {
 public:
  virtual ~StationStore() = default;
  /** Adds a station; AlreadyExists if the name or the certificate is registered. */
  virtual Result<void> addStation(const StationRecord& station) = 0;
  virtual Result<void> removeStation(const std::string& name) = 0;
  /** NotFound when no station has this certificate. */
  virtual Result<StationRecord> findStationByCertificate(const std::string& certificate_sha256) = 0;
  virtual Result<std::vector<StationRecord>> listStations() = 0;
};

/** Admin API identities (operators), pinned by client certificate fingerprint. */
class OperatorStore {
 public:
  virtual ~OperatorStore() = default;
  /** AlreadyExists if the name or the certificate is registered. */
  virtual Result<void> addOperator(const OperatorRecord& op) = 0;
  virtual Result<void> removeOperator(const std::string& name) = 0;
  /** NotFound when no operator has this certificate. */
  virtual Result<OperatorRecord> findOperatorByCertificate(
      const std::string& certificate_sha256) = 0;
  virtual Result<std::vector<OperatorRecord>> listOperators() = 0;
};

/**
 * The append-only audit log, hash-chained (records.h, auditEntryHash). Issuances and refusals
 * are appended by commitIssuance and appendEvent in the same transaction as their records.
 */
class AuditLog {
 public:
  virtual ~AuditLog() = default;
  /** Appends an entry (seq, prev_hash and hash are computed here); returns it completed. */
  virtual Result<AuditEntry> appendAudit(const AuditEntry& entry) = 0;
  /** Entries with seq > after_seq, in order, at most limit. */
  virtual Result<std::vector<AuditEntry>> auditEntries(int64_t after_seq, int limit) = 0;
};

/**
 * Once-only records of a message protocol (SCEP, RFC 8894 3.2.1), committed in the same
 * transaction as an issuance or a held request: the (transactionID, nonce) pair must be new, and
 * the transactionID may be bound to one public key only.
 */
struct TransactionGuard {
  std::string label;
  std::string transaction_id;
  std::string nonce_hex;          ///< empty: no nonce to record
  std::string public_key_sha256;  ///< empty: no binding to record
  std::time_t at = 0;

  bool empty() const { return transaction_id.empty(); }
};

/** What the store knows about a transactionID, read before a request is worked on. */
struct ScepTransactionState {
  /** The public key (SHA-256 hex) the transactionID is bound to; empty when unbound. */
  std::string public_key_sha256;
  /** The (transactionID, nonce) pair asked about was recorded before: a replay. */
  bool nonce_seen = false;
};

/** Small records SCEP keeps (RFC 8894): transaction bindings and seen nonces. */
class ScepStateStore {
 public:
  virtual ~ScepStateStore() = default;
  /** The public key (SHA-256 hex) a transactionID is bound to; NotFound. */
  virtual Result<std::string> scepTransactionKey(const std::string& label,
                                                 const std::string& transaction_id) = 0;
  /** The binding of a transactionID and whether (transactionID, nonce) was seen; reads only. */
  virtual Result<ScepTransactionState> scepTransactionState(const std::string& label,
                                                            const std::string& transaction_id,
                                                            const std::string& nonce_hex) = 0;
  /** Remembers (transactionID, nonce); false when seen before (a replay). */
  virtual Result<bool> rememberScepNonce(const std::string& transaction_id,
                                         const std::string& nonce_hex, std::time_t at) = 0;
  /**
   * Commits a guard on its own (a request answered without a new record). InvalidArgument when the
   * nonce was seen or the transactionID is bound to another key; nothing is recorded then.
   */
  virtual Result<void> commitTransactionGuard(const TransactionGuard& guard) = 0;
  /** Forgets nonces and unused bindings older than before. */
  virtual Result<void> expireScepState(std::time_t before) = 0;
};

/** What one issuance commits, atomically. */
struct Issuance {
  CertificateRecord certificate;
  EnrollmentEvent event;
  /** Set when the issuance answers a pending request, which becomes kIssued. */
  std::string pending_id;
  /**
   * Set when a one-time token authorized it: the token is consumed in the same transaction,
   * and the whole issuance fails (PermissionDenied) if it was used or revoked meanwhile.
   */
  std::string token_hash;
  /** Committed with the certificate; when it fails (InvalidArgument) nothing is committed. */
  TransactionGuard guard;
};

/** All of the above over one database. */
class Store : public CertificateStore,
              public DeviceStore,
              public EnrollmentLog,
              public PendingStore,
              public CredentialStore,
              public ScepStateStore,
              public TokenStore,
              public StationStore,
              public OperatorStore,
              public AuditLog,
              public RevocationStore {
 public:
  /**
   * Commits a new certificate, the device's enrollment (created as kEnrolled if unknown, count
   * incremented), the event and its audit entry in one transaction. AlreadyExists on a duplicate
   * serial.
   */
  virtual Result<void> commitIssuance(const Issuance& issuance) = 0;
  /**
   * Inserts a held request and its guard in one transaction (AlreadyExists for a duplicate id,
   * InvalidArgument when the guard fails; nothing is recorded then).
   */
  virtual Result<void> commitPending(const PendingRecord& record,
                                     const TransactionGuard& guard) = 0;
  /** The schema version now in the database. */
  virtual Result<int> schemaVersion() = 0;
};

}  // namespace enroll::store
