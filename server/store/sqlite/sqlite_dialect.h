#pragma once
/** SQLite through POCO Data: WAL mode, a busy timeout, SQLite's type names. */
#include <memory>
#include <string>

#include "server/store/sql_dialect.h"
#include "server/store/store.h"

namespace enroll::store {

class SqliteDialect final : public SqlDialect {
 public:
  std::string connector() const override { return "SQLite"; }
  void registerConnector() const override;
  std::string translate(const std::string& sql) const override;
  void prepareSession(Poco::Data::Session& session) const override;
  void prepareDatabase(Poco::Data::Session& session) const override;
  pki::ErrorCode classify(const Poco::Exception& e) const override;
};

/** Opens (creating and migrating) the SQLite database at path. */
pki::Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path);

}  // namespace enroll::store
