#pragma once
/**
 * SQLite through POCO Data: WAL mode, a busy timeout, SQLite's type names, and the statements of
 * execute() kept prepared on each connection.
 */
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/store/sql_dialect.h"
#include "server/store/store.h"

namespace enroll::store {

class SqliteDialect final : public SqlDialect {
 public:
  /** busy_timeout_ms: how long a writer waits for SQLite's lock before the store is Unavailable. */
  explicit SqliteDialect(int busy_timeout_ms = 10000, bool full_sync = true);
  ~SqliteDialect() override;
  std::string connector() const override { return "SQLite"; }
  void registerConnector() const override;
  bool singleWriter() const override { return true; }
  std::string translate(const std::string& sql) const override;
  void prepareSession(Poco::Data::Session& session) const override;
  void prepareDatabase(Poco::Data::Session& session) const override;
  pki::ErrorCode classify(const Poco::Exception& e) const override;
  bool isBusy(const Poco::Exception& e) const override;
  std::string jsonTextField(const std::string& column) const override;
  std::string jsonKeyParameter(const std::string& key) const override;
  std::string inJsonList(const std::string& column) const override;
  std::string unindexed(const std::string& column) const override { return "+" + column; }
  std::string chunkKey() const override { return "certificates.rowid"; }
  bool chunkKeyIsInteger() const override { return true; }
  void beginBulkWrite(Poco::Data::Session& session) const override;
  void endBulkWrite(Poco::Data::Session& session) const override;
  size_t execute(Poco::Data::Session& session, const std::string& sql,
                 std::initializer_list<SqlValue> values) const override;
  std::optional<std::vector<SqlField>> queryRow(
      Poco::Data::Session& session, const std::string& sql,
      std::initializer_list<SqlValue> values) const override;
  void forgetSession(Poco::Data::Session& session) const override;

 private:
  class PreparedStatements;  // one connection's, by SQL text
  PreparedStatements& preparedOn(Poco::Data::Session& session) const;

  int busy_timeout_ms_;
  bool full_sync_;
  mutable std::mutex prepared_mu_;
  mutable std::unordered_map<const void*, std::unique_ptr<PreparedStatements>> prepared_;
};

/** Opens (creating and migrating) the SQLite database at path. */
pki::Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                                    int busy_timeout_ms = 10000,
                                                    bool full_sync = true);

}  // namespace enroll::store
