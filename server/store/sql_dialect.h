#pragma once
/**
 * What differs between SQL databases, kept behind one small interface so that SqlStore holds
 * all the SQL that is the same everywhere. sqlite/ implements it now; postgres/ will follow.
 */
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pki/error.h"

namespace enroll::store {

/** A BLOB for one `?` of SqlDialect::execute (the bytes must outlive the call). */
struct SqlBlob {
  const uint8_t* data;
  size_t size;
};
/** A value for one `?` of SqlDialect::execute: an integer, a text or a BLOB. */
using SqlValue = std::variant<int64_t, std::string_view, SqlBlob>;
/** One column of a row SqlDialect::queryRow read: NULL, an integer or a text. */
using SqlField = std::variant<std::monostate, int64_t, std::string>;

class SqlDialect {
 public:
  virtual ~SqlDialect() = default;
  /** The POCO Data connector name ("SQLite", "PostgreSQL"). */
  virtual std::string connector() const = 0;
  /** Registers the POCO connector (idempotent). */
  virtual void registerConnector() const = 0;
  /** Replaces type tokens in a migration: {blob}, {bigint}, {autoinc_pk}. */
  virtual std::string translate(const std::string& sql) const = 0;
  /** Runs per-connection settings on a session taken from the pool. */
  virtual void prepareSession(Poco::Data::Session& session) const = 0;
  /** True when the database allows one writer at a time (SQLite): writes are then serialized. */
  virtual bool singleWriter() const = 0;
  /** Runs once after opening, before migrations (e.g. SQLite WAL mode). */
  virtual void prepareDatabase(Poco::Data::Session& session) const = 0;
  /** Classifies a database exception: AlreadyExists for unique violations, Unavailable for busy/IO.
   */
  virtual pki::ErrorCode classify(const Poco::Exception& e) const = 0;
  /** True when the exception is the database's lock being held by another connection. */
  virtual bool isBusy(const Poco::Exception& e) const = 0;
  /**
   * An SQL expression for the text value under one key of a JSON object held in a TEXT column,
   * with one `?` placeholder for the value jsonKeyParameter(key) returns.
   */
  virtual std::string jsonTextField(const std::string& column) const = 0;
  /** What to bind for jsonTextField's placeholder to read key. */
  virtual std::string jsonKeyParameter(const std::string& key) const = 0;
  /**
   * An SQL condition "column is one of the list", with one `?` placeholder bound to the list as
   * a JSON array of strings: any length, one parameter.
   */
  virtual std::string inJsonList(const std::string& column) const = 0;
  /**
   * The column in a form the planner does not use an index for (SQLite: "+column"), so that a
   * keyset walk in primary key order stays one pass instead of sorting a large match per chunk.
   */
  virtual std::string unindexed(const std::string& column) const = 0;
  /**
   * The key bulk status changes walk the certificates table by: its physical order where the
   * database has one (SQLite: rowid), so that each chunk rewrites neighbouring pages once rather
   * than pages all over the table. A PostgreSQL dialect returns the serial (text).
   */
  virtual std::string chunkKey() const = 0;
  /** True when chunkKey() is an integer (the cursor is then its decimal text). */
  virtual bool chunkKeyIsInteger() const = 0;
  /** Per-session settings for one bulk write transaction (a larger page cache), and back. */
  virtual void beginBulkWrite(Poco::Data::Session& session) const = 0;
  virtual void endBulkWrite(Poco::Data::Session& session) const = 0;

  /**
   * Runs one statement that returns no rows, with values bound to its `?` placeholders in order,
   * and answers how many rows it changed; failures throw as POCO Data's own statements do. The
   * statements on every issuance's path go through here: POCO Data 1.11 prepares a statement
   * again on every execution, so a dialect may keep it prepared on the connection instead (the
   * SQLite one does). This default runs it through POCO.
   */
  virtual size_t execute(Poco::Data::Session& session, const std::string& sql,
                         std::initializer_list<SqlValue> values) const;
  /**
   * Runs a query of integer and text columns the way execute() runs a statement and returns its
   * first row, or nothing when it has none.
   */
  virtual std::optional<std::vector<SqlField>> queryRow(
      Poco::Data::Session& session, const std::string& sql,
      std::initializer_list<SqlValue> values) const;
  /** Drops what execute() keeps for a connection; the session pool calls it before closing one. */
  virtual void forgetSession(Poco::Data::Session& session) const { (void)session; }
};

}  // namespace enroll::store
