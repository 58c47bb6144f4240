#pragma once
/** SqlStore: every store interface over POCO Data, for any SqlDialect. */

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/store/group_commit.h"
#include "server/store/session_pool.h"
#include "server/store/sql_dialect.h"
#include "server/store/store.h"

namespace enroll::store {

/** Store failures since start in this process, by error code name ("unavailable", ...). */
std::vector<std::pair<std::string, int64_t>> storeErrorCounts();

/** The schema as numbered migrations, applied in order at start. Exposed for tests. */
const std::vector<std::vector<std::string>>& schemaMigrations();

class SqlStore final : public Store {
 public:
  /** Opens (creating if needed) and migrates the database. */
  static Result<std::unique_ptr<SqlStore>> open(std::unique_ptr<SqlDialect> dialect,
                                                const std::string& connection,
                                                int max_sessions = 8);
  ~SqlStore() override;

  Result<CertificateRecord> findCertificate(const std::string& serial) override;
  Result<std::vector<CertificateRecord>> certificatesOfDevice(
      const std::string& device_id) override;
  Result<int64_t> countByBootstrap(const std::string& bootstrap_fingerprint) override;
  Result<std::vector<CertificateRecord>> revokedCertificates(const std::string& issuer) override;
  Result<void> setCertificateStatus(const std::string& serial, CertStatus status, int reason,
                                    std::time_t at) override;

  Result<DeviceRecord> findDevice(const std::string& id) override;
  Result<void> putDevice(const DeviceRecord& device) override;
  Result<int64_t> importDevices(const std::vector<DeviceRecord>& devices, std::time_t at) override;
  Result<std::vector<DeviceRecord>> listDevices(const DeviceFilter& filter) override;
  Result<void> setDeviceState(const std::string& id, DeviceState state, std::time_t at) override;

  Result<void> appendEvent(const EnrollmentEvent& event) override;
  Result<std::vector<EnrollmentEvent>> eventsOfDevice(const std::string& device_id) override;

  Result<PendingRecord> findPending(const std::string& id) override;
  Result<PendingRecord> findPendingByTransaction(const std::string& label,
                                                 const std::string& transaction_id) override;
  Result<void> insertPending(const PendingRecord& p) override;
  Result<void> decidePending(const std::string& id, PendingRecord::State state,
                             std::time_t at) override;
  Result<std::vector<PendingRecord>> listPending() override;

  Result<BasicCredentialRecord> findCredential(const std::string& username) override;
  Result<void> putCredential(const BasicCredentialRecord& c) override;

  Result<std::string> scepTransactionKey(const std::string& label,
                                         const std::string& transaction_id) override;
  Result<ScepTransactionState> scepTransactionState(const std::string& label,
                                                    const std::string& transaction_id,
                                                    const std::string& nonce_hex) override;
  Result<bool> rememberScepNonce(const std::string& transaction_id, const std::string& nonce_hex,
                                 std::time_t at) override;
  Result<void> commitTransactionGuard(const TransactionGuard& guard) override;
  Result<void> expireScepState(std::time_t before) override;

  Result<void> insertTokens(const std::vector<TokenRecord>& tokens) override;
  Result<TokenRecord> findToken(const std::string& token_hash) override;
  Result<void> revokeToken(const std::string& token_hash, std::time_t at) override;
  Result<std::vector<TokenRecord>> listTokens(const std::string& label) override;

  Result<void> addStation(const StationRecord& station) override;
  Result<void> removeStation(const std::string& name) override;
  Result<StationRecord> findStationByCertificate(const std::string& certificate_sha256) override;
  Result<std::vector<StationRecord>> listStations() override;

  Result<void> addOperator(const OperatorRecord& op) override;
  Result<void> removeOperator(const std::string& name) override;
  Result<OperatorRecord> findOperatorByCertificate(const std::string& certificate_sha256) override;
  Result<std::vector<OperatorRecord>> listOperators() override;

  Result<AuditEntry> appendAudit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> auditEntries(int64_t after_seq, int limit) override;

  Result<void> commitIssuance(const Issuance& issuance) override;
  Result<void> commitPending(const PendingRecord& record, const TransactionGuard& guard) override;
  Result<int> schemaVersion() override;

  // RevocationStore: defined in sql_revocation_store.cpp.
  Result<int64_t> countCertificates(const CertificateSelector& selector) override;
  Result<std::vector<CertificateRecord>> listCertificates(const CertificateSelector& selector,
                                                          int64_t limit,
                                                          const std::string& after_serial) override;
  Result<StatusChunk> changeCertificateStatus(const CertificateSelector& selector,
                                              const StatusChange& change, const std::string& after,
                                              int64_t limit) override;
  Result<int64_t> blockDevices(const CertificateSelector& selector, std::time_t at) override;
  Result<int64_t> revocationRevision() override;
  Result<std::vector<RevocationEntry>> revokedEntries(const std::string& issuer,
                                                      std::time_t not_after_from) override;
  Result<std::vector<RevocationEntry>> statusChangesSince(const std::string& issuer,
                                                          int64_t revision) override;
  Result<CertificateStatusRecord> certificateStatus(const std::string& serial) override;
  Result<CrlState> crlState(const std::string& issuer) override;
  Result<int64_t> nextCrlNumber(const std::string& issuer) override;
  Result<void> setCrlBase(const std::string& issuer, int64_t base_number, int64_t base_revision,
                          std::time_t at) override;

  /** The audit chain's last (seq, hash), when known; empty: read it from the table. */
  using AuditHead = std::optional<std::pair<int64_t, std::string>>;

 private:
  SqlStore(std::unique_ptr<SqlDialect> dialect, const std::string& connection, int max_sessions);
  Result<void> migrate();
  /**
   * Runs fn(session) and turns database exceptions into Errors classified by the dialect (busy:
   * whether it was the database's lock). Defined in sql_store_session.h.
   */
  template <typename T, typename Fn>
  Result<T> run(const char* what, Fn&& fn, bool* busy = nullptr);
  /** run() for statements that write. */
  template <typename T, typename Fn>
  Result<T> write(const char* what, Fn&& fn);
  /** The Error for a database exception: code from the dialect, counted. */
  pki::Error storeError(const char* what, const Poco::Exception& e) const;
  using Grouped = GroupCommit<Poco::Data::Session>;
  /** Commits a batch of issuances in one write transaction, one savepoint per item. */
  void commitBatch(const std::vector<Grouped::Item*>& batch);

  std::unique_ptr<SqlDialect> dialect_;
  std::unique_ptr<SessionPool> pool_;
  std::mutex write_mu_;
  Grouped issuances_{64};
  /** The audit chain's head as the batch being committed left it (under write_mu_). */
  AuditHead batch_audit_head_;
};

}  // namespace enroll::store
