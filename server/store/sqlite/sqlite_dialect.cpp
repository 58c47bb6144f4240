#include "server/store/sqlite/sqlite_dialect.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/File.h>
#include <Poco/Path.h>

#include "server/store/sql_store.h"

namespace enroll::store {

using namespace Poco::Data::Keywords;

void SqliteDialect::registerConnector() const {
  Poco::Data::SQLite::Connector::registerConnector();
}

static void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

std::string SqliteDialect::translate(const std::string& sql) const {
  std::string out = sql;
  replaceAll(out, "{blob}", "BLOB");
  replaceAll(out, "{bigint}", "INTEGER");
  replaceAll(out, "{autoinc_pk}", "INTEGER PRIMARY KEY AUTOINCREMENT");
  return out;
}

void SqliteDialect::prepareSession(Poco::Data::Session& session) const {
  // Writers queue on SQLite's lock for a while instead of failing at once.
  session << "PRAGMA busy_timeout = " + std::to_string(busy_timeout_ms_), now;
  // 1 MiB of page cache per connection (SQLite's default is 2 MiB); the pool keeps a few.
  session << "PRAGMA cache_size = -1024", now;
  // Per connection, not per database. FULL: every commit is on disk before it returns (a
  // certificate is never handed out and then forgotten at a power loss). NORMAL (WAL): syncs at
  // checkpoints only; commits survive a crash of enrolld but not of the machine.
  session << std::string("PRAGMA synchronous = ") + (full_sync_ ? "FULL" : "NORMAL"), now;
}

void SqliteDialect::beginBulkWrite(Poco::Data::Session& session) const {
  // 64 MiB of page cache for one chunk of a bulk status change: its pages stay in memory until
  // the commit writes each of them once (the 1 MiB default spills them to the WAL repeatedly).
  session << "PRAGMA cache_size = -65536", now;
}

void SqliteDialect::endBulkWrite(Poco::Data::Session& session) const {
  session << "PRAGMA cache_size = -1024", now;  // as prepareSession set it
}

void SqliteDialect::prepareDatabase(Poco::Data::Session& session) const {
  std::string mode;
  session << "PRAGMA journal_mode = WAL", into(mode), now;
}

pki::ErrorCode SqliteDialect::classify(const Poco::Exception& e) const {
  if (dynamic_cast<const Poco::Data::SQLite::ConstraintViolationException*>(&e)) {
    return pki::ErrorCode::kAlreadyExists;
  }
  return pki::ErrorCode::kUnavailable;
}

bool SqliteDialect::isBusy(const Poco::Exception& e) const {
  return dynamic_cast<const Poco::Data::SQLite::DBLockedException*>(&e) != nullptr ||
         dynamic_cast<const Poco::Data::SQLite::TableLockedException*>(&e) != nullptr ||
         e.displayText().find("database is locked") != std::string::npos;
}

std::string SqliteDialect::jsonTextField(const std::string& column) const {
  // json_valid guards rows whose labels are not JSON: they simply do not match.
  return "CASE WHEN json_valid(" + column + ") THEN json_extract(" + column + ", ?) END";
}

std::string SqliteDialect::jsonKeyParameter(const std::string& key) const {
  // A JSON path with the key quoted, so dots and spaces in keys are literal.
  std::string path = "$.\"";
  for (char c : key) {
    if (c == '"' || c == '\\') path += '\\';
    path += c;
  }
  return path + "\"";
}

std::string SqliteDialect::inJsonList(const std::string& column) const {
  return column + " IN (SELECT value FROM json_each(?))";
}

pki::Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path, int busy_timeout_ms,
                                                    bool full_sync) {
  Poco::Path folder = Poco::Path(path).parent();
  if (!Poco::File(folder).exists()) {
    return pki::makeError(pki::ErrorCode::kUnavailable, "cannot open the database",
                          "folder " + folder.toString() + " does not exist");
  }
  ENROLL_TRY(auto store,
             SqlStore::open(std::make_unique<SqliteDialect>(busy_timeout_ms, full_sync), path));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace enroll::store
