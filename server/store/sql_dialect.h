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
   * An SQL expression for the text value of one key of a JSON object column, with one `?` that
   * takes jsonKeyParameter(key). Keys are checked by the caller ([A-Za-z0-9_.-]).
   */
  virtual std::string jsonTextField(const std::string& column) const = 0;
  virtual std::string jsonKeyParameter(const std::string& key) const = 0;
};

}  // namespace enroll::store
