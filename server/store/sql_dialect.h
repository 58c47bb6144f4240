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
};

}  // namespace enroll::store
