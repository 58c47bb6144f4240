#pragma once
/**
 * What differs between SQL databases, kept behind one small interface so that SqlStore holds
 * all the SQL that is the same everywhere. sqlite/ implements it now; postgres/ will follow.
 */
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <string>

#include "pki/error.h"

namespace enroll::store {

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
};

}  // namespace enroll::store
