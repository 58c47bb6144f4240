// SqlStore's RevocationStore: certificate selection, chunked status changes, the revocation
// revision, CRL numbering and the rows CRLs and OCSP read. Kept apart from sql_store.cpp.
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Tuple.h>

#include <optional>

#include "server/store/sql_store.h"
#include "server/store/sql_store_session.h"

namespace enroll::store {

using namespace Poco::Data::Keywords;
using pki::ErrorCode;
using pki::makeError;
using Poco::Int64;

namespace {

/** One bound value of a dynamically built statement. */
struct Param {
  bool is_int = false;
  std::string text;
  Int64 number = 0;
};

/** A condition built from a selector, with the values its placeholders take, in order. */
struct Where {
  std::string sql;
  std::vector<Param> params;
};

std::string jsonArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (unsigned char c : items[i]) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        char esc[8];
        snprintf(esc, sizeof esc, "\\u%04x", c);
        out += esc;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '"';
  }
  return out + "]";
}

/** The selector's registry fields as conditions on the devices table, and their parameters. */
std::pair<std::vector<std::string>, std::vector<Param>> registryConditions(
    const CertificateSelector& sel, const SqlDialect& dialect) {
  std::vector<std::string> conds;
  std::vector<Param> params;
  auto device = [&](const std::string& cond, const std::string& value) {
    conds.push_back(cond);
    params.push_back({false, value, 0});
  };
  if (!sel.model.empty()) device("devices.model = ?", sel.model);
  if (!sel.batch.empty()) device("devices.batch = ?", sel.batch);
  if (!sel.product_line.empty()) device("devices.product_line = ?", sel.product_line);
  for (const auto& [key, value] : sel.device_labels) {
    device(dialect.jsonTextField("devices.labels") + " = ?", dialect.jsonKeyParameter(key));
    params.push_back({false, value, 0});
  }
  return {conds, params};
}

/** True when the selector names devices only (ids, registry fields), no certificate property. */
bool namesDevicesOnly(const CertificateSelector& sel) {
  return sel.serials.empty() && sel.label.empty() && sel.bootstrap_ca.empty() &&
         sel.station.empty() && sel.issued_from == 0 && sel.issued_to == 0 &&
         sel.expiring_before == 0 && !sel.status &&
         (!sel.device_ids.empty() || !sel.model.empty() || !sel.batch.empty() ||
          !sel.product_line.empty() || !sel.device_labels.empty());
}

/**
 * The WHERE condition over the certificates table (columns qualified) for a selector. keyset:
 * the condition of a walk in serial order (ORDER BY serial LIMIT n): only the serial and the
 * explicit serial/device lists may use an index, registry fields are checked per row, so each
 * chunk reads only its own part of the table instead of every match again.
 */
Where selectorWhere(const CertificateSelector& sel, const SqlDialect& dialect, bool keyset) {
  std::vector<std::string> conds;
  Where w;
  auto col = [&](const std::string& column) { return keyset ? dialect.unindexed(column) : column; };
  auto text = [&](const std::string& cond, const std::string& value) {
    conds.push_back(cond);
    w.params.push_back({false, value, 0});
  };
  auto number = [&](const std::string& cond, std::time_t value) {
    conds.push_back(cond);
    w.params.push_back({true, {}, static_cast<Int64>(value)});
  };
  if (!sel.serials.empty()) text(dialect.inJsonList("certificates.serial"), jsonArray(sel.serials));
  if (!sel.device_ids.empty())
    text(dialect.inJsonList("certificates.device_id"), jsonArray(sel.device_ids));
  // Registry fields: the certificate's device must match them all.
  auto [device_conds, device_params] = registryConditions(sel, dialect);
  if (!device_conds.empty()) {
    std::string all;
    for (size_t i = 0; i < device_conds.size(); ++i) all += (i ? " AND " : "") + device_conds[i];
    // keyset: a lookup of the row's device by primary key; otherwise the registry's indexes
    // find the devices first.
    conds.push_back(keyset ? "EXISTS (SELECT 1 FROM devices WHERE devices.id ="
                             " certificates.device_id AND " +
                                 all + ")"
                           : "certificates.device_id IN (SELECT devices.id FROM devices WHERE " +
                                 all + ")");
    w.params.insert(w.params.end(), device_params.begin(), device_params.end());
  }
  if (!sel.label.empty())
    text(col("certificates.label") + " = ?", sel.label == "default" ? std::string() : sel.label);
  if (!sel.bootstrap_ca.empty()) text(col("certificates.bootstrap_ca") + " = ?", sel.bootstrap_ca);
  if (!sel.station.empty()) text(col("certificates.station") + " = ?", sel.station);
  if (sel.issued_from != 0) number(col("certificates.issued_at") + " >= ?", sel.issued_from);
  if (sel.issued_to != 0) number(col("certificates.issued_at") + " < ?", sel.issued_to);
  if (sel.expiring_before != 0) number(col("certificates.not_after") + " < ?", sel.expiring_before);
  if (sel.status) text(col("certificates.status") + " = ?", certStatusName(*sel.status));
  if (conds.empty()) {
    w.sql = "1 = 1";
  } else {
    for (size_t i = 0; i < conds.size(); ++i) w.sql += (i ? " AND " : "") + conds[i];
  }
  return w;
}

/** Binds params in order (by reference: params must outlive the statement's execution). */
void bindAll(Poco::Data::Statement& st, std::vector<Param>& params) {
  for (auto& p : params) {
    if (p.is_int)
      st, use(p.number);
    else
      st, use(p.text);
  }
}

/** Statuses a change moves a certificate away from (RevocationStore::changeCertificateStatus). */
std::string fromStatusCondition(CertStatus to, const SqlDialect& dialect) {
  std::string status = dialect.unindexed("certificates.status");
  switch (to) {
    case CertStatus::kRevoked:
      return status + " <> 'revoked'";
    case CertStatus::kHold:
      return status + " = 'good'";
    case CertStatus::kGood:
      return status + " = 'hold'";
  }
  return "1 = 0";
}

/** Bumps the revocation revision inside the caller's transaction and returns the new value. */
Int64 bumpRevision(Poco::Data::Session& s) {
  s << "UPDATE revocation_state SET revision = revision + 1 WHERE id = 1", now;
  Int64 revision = 0;
  s << "SELECT revision FROM revocation_state WHERE id = 1", into(revision), now;
  return revision;
}

}  // namespace

Result<int64_t> SqlStore::countCertificates(const CertificateSelector& selector) {
  return run<int64_t>("count certificates", [&](Poco::Data::Session& s) -> Result<int64_t> {
    Where w = selectorWhere(selector, *dialect_, false);
    Int64 n = 0;
    Poco::Data::Statement st(s);
    st << "SELECT COUNT(*) FROM certificates WHERE " + w.sql;
    bindAll(st, w.params);
    st, into(n);
    st.execute();
    return static_cast<int64_t>(n);
  });
}

Result<std::vector<CertificateRecord>> SqlStore::listCertificates(
    const CertificateSelector& selector, int64_t limit, const std::string& after_serial) {
  if (limit < 1 || limit > 10000)
    return makeError(ErrorCode::kInvalidArgument, "limit must be 1 to 10000");
  using Serials = std::vector<std::string>;
  ENROLL_TRY(Serials serials,
             run<Serials>("list certificates", [&](Poco::Data::Session& s) -> Result<Serials> {
               Where w = selectorWhere(selector, *dialect_, true);
               w.params.push_back({false, after_serial, 0});
               Serials out;
               Poco::Data::Statement st(s);
               st << "SELECT serial FROM certificates WHERE " + w.sql +
                         " AND certificates.serial > ? ORDER BY serial LIMIT " +
                         std::to_string(limit);
               bindAll(st, w.params);
               st, into(out);
               st.execute();
               return out;
             }));
  // Whole records through findCertificate, so the row layout stays in one place.
  std::vector<CertificateRecord> out;
  out.reserve(serials.size());
  for (const auto& serial : serials) {
    auto record = findCertificate(serial);
    if (!record) {
      if (record.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
      return std::move(record).error();
    }
    out.push_back(std::move(record).value());
  }
  return out;
}

Result<StatusChunk> SqlStore::changeCertificateStatus(const CertificateSelector& selector,
                                                      const StatusChange& change,
                                                      const std::string& after, int64_t limit) {
  if (limit < 1) return makeError(ErrorCode::kInvalidArgument, "chunk size must be positive");
  // The cursor is the last chunk key done: an integer (SQLite rowid) or a serial.
  const bool integer_key = dialect_->chunkKeyIsInteger();
  Param from{integer_key, integer_key ? std::string() : after, -1};
  if (integer_key && !after.empty()) {
    char* end = nullptr;
    from.number = std::strtoll(after.c_str(), &end, 10);
    if (*end != '\0') return makeError(ErrorCode::kInvalidArgument, "bad cursor " + after);
  }
  return write<StatusChunk>(
      "change certificate status", [&](Poco::Data::Session& s) -> Result<StatusChunk> {
        Where w = selectorWhere(selector, *dialect_, true);
        std::string key = dialect_->chunkKey();
        std::string cond = w.sql + " AND " + fromStatusCondition(change.status, *dialect_);
        StatusChunk chunk;
        dialect_->beginBulkWrite(s);
        s.begin();
        try {
          // The last key of this chunk: the next `limit` rows to change after the cursor.
          std::vector<Param> params = w.params;
          params.push_back(from);
          Poco::Data::Statement pick(s);
          pick << "SELECT MAX(k) FROM (SELECT " + key + " AS k FROM certificates WHERE " + cond +
                      " AND " + key + " > ? ORDER BY " + key + " LIMIT " + std::to_string(limit) +
                      ") AS chunk";
          bindAll(pick, params);
          Param to{integer_key, {}, 0};
          Poco::Nullable<Int64> last_number;
          Poco::Nullable<std::string> last_text;
          if (integer_key)
            pick, into(last_number);
          else
            pick, into(last_text);
          pick.execute();
          if (integer_key ? last_number.isNull() : last_text.isNull()) {
            s.commit();
            dialect_->endBulkWrite(s);
            return chunk;
          }
          if (integer_key) {
            to.number = last_number.value();
            chunk.cursor = std::to_string(to.number);
          } else {
            to.text = last_text.value();
            chunk.cursor = to.text;
          }
          Int64 revision = bumpRevision(s);
          bool good = change.status == CertStatus::kGood;
          std::vector<Param> update = {
              {false, certStatusName(change.status), 0},
              {true, {}, good ? 0 : static_cast<Int64>(change.at)},
              {true, {}, good ? 0 : static_cast<Int64>(change.reason)},
              {true, {}, revision},
          };
          update.insert(update.end(), w.params.begin(), w.params.end());
          update.push_back(from);
          update.push_back(to);
          Poco::Data::Statement st(s);
          st << "UPDATE certificates SET status = ?, revoked_at = ?, revocation_reason = ?,"
                " status_revision = ? WHERE " +
                    cond + " AND " + key + " > ? AND " + key + " <= ?";
          bindAll(st, update);
          chunk.changed = static_cast<int64_t>(st.execute());
          chunk.revision = revision;
          s.commit();
        } catch (...) {
          s.rollback();
          throw;
        }
        dialect_->endBulkWrite(s);
        return chunk;
      });
}

Result<void> SqlStore::setCertificateStatus(const std::string& serial, CertStatus status,
                                            int reason, std::time_t at) {
  return write<void>("set certificate status", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 when = status == CertStatus::kGood ? 0 : at;
    int why = status == CertStatus::kGood ? 0 : reason;
    s.begin();
    try {
      Int64 revision = bumpRevision(s);
      Poco::Data::Statement st(s);
      st << "UPDATE certificates SET status = ?, revoked_at = ?, revocation_reason = ?,"
            " status_revision = ? WHERE serial = ?",
          bind(certStatusName(status)), bind(when), bind(why), bind(revision), bind(serial);
      if (st.execute() == 0) {
        s.rollback();
        return makeError(ErrorCode::kNotFound, "no certificate with serial " + serial);
      }
      s.commit();
    } catch (...) {
      s.rollback();
      throw;
    }
    return pki::ok();
  });
}

Result<int64_t> SqlStore::blockDevices(const CertificateSelector& selector, std::time_t at) {
  return write<int64_t>("block devices", [&](Poco::Data::Session& s) -> Result<int64_t> {
    std::vector<Param> params = {{true, {}, static_cast<Int64>(at)}};
    std::string which;
    if (namesDevicesOnly(selector)) {
      // The registry's devices themselves, enrolled or not: a batch blocked now cannot enroll
      // later either.
      auto [conds, registry] = registryConditions(selector, *dialect_);
      if (!selector.device_ids.empty()) {
        conds.push_back(dialect_->inJsonList("devices.id"));
        registry.push_back({false, jsonArray(selector.device_ids), 0});
      }
      for (size_t i = 0; i < conds.size(); ++i) which += (i ? " AND " : "") + conds[i];
      params.insert(params.end(), registry.begin(), registry.end());
    } else {
      Where w = selectorWhere(selector, *dialect_, false);
      which = "id IN (SELECT certificates.device_id FROM certificates WHERE " + w.sql + ")";
      params.insert(params.end(), w.params.begin(), w.params.end());
    }
    Poco::Data::Statement st(s);
    st << "UPDATE devices SET state = 'blocked', updated_at = ? WHERE state NOT IN"
          " ('blocked', 'retired') AND " +
              which;
    bindAll(st, params);
    return static_cast<int64_t>(st.execute());
  });
}

Result<int64_t> SqlStore::revocationRevision() {
  return run<int64_t>("revocation revision", [&](Poco::Data::Session& s) -> Result<int64_t> {
    Int64 revision = 0;
    s << "SELECT revision FROM revocation_state WHERE id = 1", into(revision), now;
    return static_cast<int64_t>(revision);
  });
}

namespace {

/** The rows as entries; the serials are moved out (a million of them for a full CRL). */
std::vector<RevocationEntry> toEntries(std::vector<std::string>& serial,
                                       const std::vector<std::string>& status,
                                       const std::vector<Int64>& at, const std::vector<int>& why) {
  std::vector<RevocationEntry> out(serial.size());
  for (size_t i = 0; i < serial.size(); ++i) {
    out[i].serial = std::move(serial[i]);
    out[i].status = parseCertStatus(status[i]);
    out[i].revoked_at = static_cast<std::time_t>(at[i]);
    out[i].reason = why[i];
  }
  return out;
}

/** The entries of one issuer's certificates that meet condition (one ? for value). */
std::vector<RevocationEntry> selectEntries(Poco::Data::Session& s, const char* condition,
                                           const std::string& issuer, Int64 value) {
  std::vector<std::string> serial, status;
  std::vector<Int64> at;
  std::vector<int> why;
  s << "SELECT serial, status, revoked_at, revocation_reason FROM certificates"
       " WHERE issuer = ? AND "
    << condition,
      bind(issuer), bind(value), into(serial), into(status), into(at), into(why), now;
  return toEntries(serial, status, at, why);
}

}  // namespace

Result<std::vector<RevocationEntry>> SqlStore::revokedEntries(const std::string& issuer,
                                                              std::time_t not_after_from) {
  using Out = std::vector<RevocationEntry>;
  return run<Out>("revoked entries", [&](Poco::Data::Session& s) -> Result<Out> {
    return selectEntries(s, "status <> 'good' AND not_after >= ?", issuer, not_after_from);
  });
}

Result<std::vector<RevocationEntry>> SqlStore::statusChangesSince(const std::string& issuer,
                                                                  int64_t revision) {
  using Out = std::vector<RevocationEntry>;
  return run<Out>("status changes", [&](Poco::Data::Session& s) -> Result<Out> {
    return selectEntries(s, "status_revision > ?", issuer, revision);
  });
}

Result<CertificateStatusRecord> SqlStore::certificateStatus(const std::string& serial) {
  return run<CertificateStatusRecord>(
      "certificate status", [&](Poco::Data::Session& s) -> Result<CertificateStatusRecord> {
        std::vector<Poco::Tuple<std::string, std::string, Int64, int, Int64>> rows;
        s << "SELECT issuer, status, revoked_at, revocation_reason, not_after FROM certificates"
             " WHERE serial = ?",
            bind(serial), into(rows), now;
        if (rows.empty())
          return makeError(ErrorCode::kNotFound, "no certificate with serial " + serial);
        const auto& r = rows.front();
        CertificateStatusRecord out;
        out.serial = serial;
        out.issuer = r.get<0>();
        out.status = parseCertStatus(r.get<1>());
        out.revoked_at = r.get<2>();
        out.reason = r.get<3>();
        out.not_after = r.get<4>();
        return out;
      });
}

Result<CrlState> SqlStore::crlState(const std::string& issuer) {
  return run<CrlState>("crl state", [&](Poco::Data::Session& s) -> Result<CrlState> {
    std::vector<Poco::Tuple<Int64, Int64, Int64, Int64>> rows;
    s << "SELECT crl_number, base_number, base_revision, base_at FROM crl_state WHERE issuer = ?",
        bind(issuer), into(rows), now;
    CrlState out;
    out.issuer = issuer;
    if (!rows.empty()) {
      out.crl_number = rows[0].get<0>();
      out.base_number = rows[0].get<1>();
      out.base_revision = rows[0].get<2>();
      out.base_at = rows[0].get<3>();
    }
    return out;
  });
}

Result<int64_t> SqlStore::nextCrlNumber(const std::string& issuer) {
  return write<int64_t>("next crl number", [&](Poco::Data::Session& s) -> Result<int64_t> {
    Int64 number = 0;
    s.begin();
    try {
      s << "INSERT INTO crl_state (issuer, crl_number, base_number, base_revision, base_at)"
           " VALUES (?, 1, 0, 0, 0) ON CONFLICT (issuer) DO UPDATE SET"
           " crl_number = crl_state.crl_number + 1",
          bind(issuer), now;
      s << "SELECT crl_number FROM crl_state WHERE issuer = ?", bind(issuer), into(number), now;
      s.commit();
    } catch (...) {
      s.rollback();
      throw;
    }
    return static_cast<int64_t>(number);
  });
}

Result<void> SqlStore::setCrlBase(const std::string& issuer, int64_t base_number,
                                  int64_t base_revision, std::time_t at) {
  return write<void>("set crl base", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 number = base_number, revision = base_revision, when = at;
    // Never moves the base backwards (another node may have published a newer one).
    s << "UPDATE crl_state SET base_number = ?, base_revision = ?, base_at = ?"
         " WHERE issuer = ? AND base_number < ?",
        bind(number), bind(revision), bind(when), bind(issuer), bind(number), now;
    return pki::ok();
  });
}

}  // namespace enroll::store
