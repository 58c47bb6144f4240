#include "server/store/sqlite/sqlite_dialect.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/File.h>
#include <Poco/Path.h>

#include <sqlite3.h>

#include "server/store/sql_store.h"

namespace enroll::store {

using namespace Poco::Data::Keywords;

/**
 * The statements execute() has prepared on one connection, by SQL text. Only the thread holding
 * the connection's lease uses them; each is reset after every run, so none holds a lock between
 * runs. They are finalized before the connection closes (SessionPool calls forgetSession).
 */
class SqliteDialect::PreparedStatements {
 public:
  explicit PreparedStatements(sqlite3* db) : db_(db) {}
  PreparedStatements(const PreparedStatements&) = delete;
  PreparedStatements& operator=(const PreparedStatements&) = delete;
  ~PreparedStatements() {
    for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  }

  /** Runs sql with values bound; read(statement) sees its first row, if there is one. */
  template <typename Read>
  size_t run(const std::string& sql, std::initializer_list<SqlValue> values, Read&& read) {
    sqlite3_stmt* statement = prepared(sql);
    int position = 0;
    for (const SqlValue& value : values) {
      ++position;
      int rc = SQLITE_OK;
      // SQLITE_STATIC: the values outlive the step below, and the bindings are cleared after it.
      if (const auto* i = std::get_if<int64_t>(&value)) {
        rc = sqlite3_bind_int64(statement, position, *i);
      } else if (const auto* text = std::get_if<std::string_view>(&value)) {
        rc = sqlite3_bind_text(statement, position, text->empty() ? "" : text->data(),
                               static_cast<int>(text->size()), SQLITE_STATIC);
      } else {
        const auto& blob = std::get<SqlBlob>(value);
        rc = blob.size == 0 ? sqlite3_bind_zeroblob(statement, position, 0)
                            : sqlite3_bind_blob(statement, position, blob.data,
                                                static_cast<int>(blob.size), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) fail(statement, rc, sql);
    }
    const int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) fail(statement, rc, sql);
    if (rc == SQLITE_ROW) read(statement);
    const auto changed = static_cast<size_t>(sqlite3_changes(db_));
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return changed;
  }

 private:
  sqlite3_stmt* prepared(const std::string& sql) {
    auto found = statements_.find(sql);
    if (found != statements_.end()) return found->second;
    sqlite3_stmt* statement = nullptr;
    const int rc =
        sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size() + 1), &statement, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(statement);
      Poco::Data::SQLite::Utility::throwException(db_, rc, sql);
    }
    statements_.emplace(sql, statement);
    return statement;
  }

  /** Throws what POCO Data throws for rc (so SqliteDialect::classify reads it the same way). */
  [[noreturn]] void fail(sqlite3_stmt* statement, int rc, const std::string& sql) {
    const std::string message = Poco::Data::SQLite::Utility::lastError(db_);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    Poco::Data::SQLite::Utility::throwException(db_, rc, message + " in: " + sql);
    std::abort();  // throwException always throws
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

SqliteDialect::SqliteDialect(int busy_timeout_ms, bool full_sync)
    : busy_timeout_ms_(busy_timeout_ms), full_sync_(full_sync) {}

SqliteDialect::~SqliteDialect() = default;

SqliteDialect::PreparedStatements& SqliteDialect::preparedOn(Poco::Data::Session& session) const {
  sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(session);
  std::lock_guard<std::mutex> lock(prepared_mu_);
  auto& slot = prepared_[db];
  if (!slot) slot = std::make_unique<PreparedStatements>(db);
  return *slot;
}

size_t SqliteDialect::execute(Poco::Data::Session& session, const std::string& sql,
                              std::initializer_list<SqlValue> values) const {
  return preparedOn(session).run(sql, values, [](sqlite3_stmt*) {});
}

std::optional<std::vector<SqlField>> SqliteDialect::queryRow(
    Poco::Data::Session& session, const std::string& sql,
    std::initializer_list<SqlValue> values) const {
  std::optional<std::vector<SqlField>> row;
  preparedOn(session).run(sql, values, [&](sqlite3_stmt* statement) {
    row.emplace();
    for (int column = 0; column < sqlite3_column_count(statement); ++column) {
      switch (sqlite3_column_type(statement, column)) {
        case SQLITE_NULL:
          row->emplace_back();
          break;
        case SQLITE_INTEGER:
          row->emplace_back(int64_t{sqlite3_column_int64(statement, column)});
          break;
        default: {
          const auto* text = sqlite3_column_text(statement, column);
          const int size = sqlite3_column_bytes(statement, column);
          row->emplace_back(text == nullptr ? std::string()
                                            : std::string(reinterpret_cast<const char*>(text),
                                                          static_cast<size_t>(size)));
        }
      }
    }
  });
  return row;
}

void SqliteDialect::forgetSession(Poco::Data::Session& session) const {
  const void* db = Poco::Data::SQLite::Utility::dbHandle(session);
  std::unique_ptr<PreparedStatements> statements;
  std::lock_guard<std::mutex> lock(prepared_mu_);
  auto found = prepared_.find(db);
  if (found != prepared_.end()) {
    statements = std::move(found->second);
    prepared_.erase(found);
  }
}

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
