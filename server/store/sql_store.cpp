#include "server/store/sql_store.h"

#include "server/store/sql_store_session.h"

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Tuple.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <optional>

namespace enroll::store {

using namespace Poco::Data::Keywords;
using pki::ErrorCode;
using pki::makeError;
using Poco::Int64;

const std::vector<std::vector<std::string>>& schemaMigrations() {
  // Version N is schemaMigrations()[N-1]. Never edit a released migration: add a new one.
  static const std::vector<std::vector<std::string>> kMigrations = {
      {
          "CREATE TABLE devices (id TEXT PRIMARY KEY, model TEXT NOT NULL, batch TEXT NOT NULL,"
          " product_line TEXT NOT NULL, labels TEXT NOT NULL, bootstrap_fingerprint TEXT NOT NULL,"
          " ek_hash TEXT NOT NULL, state TEXT NOT NULL, enroll_count {bigint} NOT NULL,"
          " created_at {bigint} NOT NULL, updated_at {bigint} NOT NULL)",
          "CREATE TABLE certificates (serial TEXT PRIMARY KEY, issuer TEXT NOT NULL,"
          " device_id TEXT NOT NULL, label TEXT NOT NULL, profile TEXT NOT NULL,"
          " protocol TEXT NOT NULL, subject TEXT NOT NULL, not_before {bigint} NOT NULL,"
          " not_after {bigint} NOT NULL, issued_at {bigint} NOT NULL, status TEXT NOT NULL,"
          " revoked_at {bigint} NOT NULL, revocation_reason INTEGER NOT NULL,"
          " public_key_sha256 TEXT NOT NULL, bootstrap_fingerprint TEXT NOT NULL,"
          " station TEXT NOT NULL, der {blob} NOT NULL)",
          "CREATE INDEX certificates_device ON certificates(device_id)",
          "CREATE INDEX certificates_bootstrap ON certificates(bootstrap_fingerprint)",
          "CREATE TABLE enrollment_events (id {autoinc_pk}, at {bigint} NOT NULL,"
          " protocol TEXT NOT NULL, label TEXT NOT NULL, operation TEXT NOT NULL,"
          " device_id TEXT NOT NULL, peer TEXT NOT NULL, outcome TEXT NOT NULL,"
          " serial TEXT NOT NULL, reason TEXT NOT NULL)",
          "CREATE INDEX enrollment_events_device ON enrollment_events(device_id)",
          "CREATE TABLE pending_requests (id TEXT PRIMARY KEY, label TEXT NOT NULL,"
          " device_id TEXT NOT NULL, transaction_id TEXT NOT NULL, csr {blob} NOT NULL,"
          " state TEXT NOT NULL, created_at {bigint} NOT NULL, decided_at {bigint} NOT NULL,"
          " serial TEXT NOT NULL)",
          "CREATE INDEX pending_requests_tx ON pending_requests(label, transaction_id)",
          "CREATE TABLE basic_credentials (username TEXT PRIMARY KEY, label TEXT NOT NULL,"
          " device_id TEXT NOT NULL, password_hash TEXT NOT NULL, created_at {bigint} NOT NULL)",
      },
      {
          "CREATE TABLE scep_transactions (label TEXT NOT NULL, transaction_id TEXT NOT NULL,"
          " public_key_sha256 TEXT NOT NULL, created_at {bigint} NOT NULL,"
          " PRIMARY KEY (label, transaction_id))",
          "CREATE TABLE scep_nonces (transaction_id TEXT NOT NULL, nonce TEXT NOT NULL,"
          " seen_at {bigint} NOT NULL, PRIMARY KEY (transaction_id, nonce))",
          "CREATE INDEX certificates_revoked ON certificates(issuer, status)",
      },
      {
          "CREATE TABLE tokens (token_hash TEXT PRIMARY KEY, label TEXT NOT NULL,"
          " device_id TEXT NOT NULL, batch TEXT NOT NULL, created_at {bigint} NOT NULL,"
          " expires_at {bigint} NOT NULL, used_at {bigint} NOT NULL, revoked_at {bigint} NOT NULL,"
          " serial TEXT NOT NULL)",
          "CREATE INDEX tokens_label ON tokens(label, created_at)",
      },
      {
          "CREATE TABLE stations (name TEXT PRIMARY KEY, certificate_sha256 TEXT NOT NULL UNIQUE,"
          " created_at {bigint} NOT NULL)",
          "CREATE INDEX certificates_station ON certificates(station)",
      },
      {
          // Bulk revocation, CRL and OCSP (server/store/sql_revocation_store.cpp).
          "ALTER TABLE certificates ADD COLUMN bootstrap_ca TEXT NOT NULL DEFAULT ''",
          "ALTER TABLE certificates ADD COLUMN status_revision {bigint} NOT NULL DEFAULT 0",
          "CREATE INDEX certificates_status_revision ON certificates(issuer, status_revision)",
          "CREATE INDEX certificates_bootstrap_ca ON certificates(bootstrap_ca)",
          "CREATE INDEX certificates_issued_at ON certificates(issued_at)",
          "CREATE INDEX devices_batch ON devices(batch)",
          "CREATE INDEX devices_model ON devices(model)",
          "CREATE INDEX devices_product_line ON devices(product_line)",
          "CREATE TABLE revocation_state (id INTEGER PRIMARY KEY, revision {bigint} NOT NULL)",
          "INSERT INTO revocation_state (id, revision) VALUES (1, 0)",
          "CREATE TABLE crl_state (issuer TEXT PRIMARY KEY, crl_number {bigint} NOT NULL,"
          " base_number {bigint} NOT NULL, base_revision {bigint} NOT NULL,"
          " base_at {bigint} NOT NULL)",
      },
      {
          // The admin API: operators and the hash-chained audit log.
          "CREATE TABLE operators (name TEXT PRIMARY KEY, certificate_sha256 TEXT NOT NULL UNIQUE,"
          " role TEXT NOT NULL, created_at {bigint} NOT NULL)",
          "CREATE TABLE audit_log (seq {bigint} PRIMARY KEY, at {bigint} NOT NULL,"
          " actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
          " outcome TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,"
          " hash TEXT NOT NULL)",
          "CREATE INDEX devices_state ON devices(state)",
      },
  };
  return kMigrations;
}

SqlStore::SqlStore(std::unique_ptr<SqlDialect> dialect, const std::string& connection,
                   int max_sessions)
    : dialect_(std::move(dialect)) {
  dialect_->registerConnector();
  const SqlDialect* d = dialect_.get();
  pool_ = std::make_unique<SessionPool>(
      [d, connection] {
        Poco::Data::Session s(d->connector(), connection, 5);  // login timeout, seconds
        d->prepareSession(s);
        return s;
      },
      static_cast<size_t>(max_sessions), [d](Poco::Data::Session& s) { d->forgetSession(s); });
}

SqlStore::~SqlStore() = default;

Result<std::unique_ptr<SqlStore>> SqlStore::open(std::unique_ptr<SqlDialect> dialect,
                                                 const std::string& connection, int max_sessions) {
  std::unique_ptr<SqlStore> store;
  try {
    store.reset(new SqlStore(std::move(dialect), connection, max_sessions));
    auto lease = store->pool_->get();
    store->dialect_->prepareDatabase(*lease);
  } catch (const Poco::Exception& e) {
    return makeError(ErrorCode::kUnavailable, "cannot open the database", e.displayText());
  }
  ENROLL_CHECK(store->migrate());
  return store;
}

std::vector<std::pair<std::string, int64_t>> storeErrorCounts() {
  std::vector<std::pair<std::string, int64_t>> out;
  for (size_t i = 0; i < storeErrorCounters().size(); ++i) {
    int64_t n = storeErrorCounters()[i].load(std::memory_order_relaxed);
    if (n > 0) out.emplace_back(std::string(pki::errorCodeName(static_cast<ErrorCode>(i))), n);
  }
  return out;
}

Result<void> SqlStore::migrate() {
  return write<void>("migrate", [&](Poco::Data::Session& s) -> Result<void> {
    s << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
         " applied_at " +
             dialect_->translate("{bigint}") + " NOT NULL)",
        now;
    int current = 0;
    s << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", into(current), now;
    const auto& all = schemaMigrations();
    if (current > static_cast<int>(all.size())) {
      return makeError(ErrorCode::kInternal, "the database was written by a newer enrolld",
                       "schema version " + std::to_string(current));
    }
    for (auto v = static_cast<size_t>(current); v < all.size(); ++v) {
      s.begin();
      try {
        for (const auto& sql : all[v]) s << dialect_->translate(sql), now;
        int version = static_cast<int>(v + 1);
        Int64 at = std::time(nullptr);
        s << "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", bind(version),
            bind(at), now;
        s.commit();
      } catch (...) {
        s.rollback();
        throw;
      }
    }
    return pki::ok();
  });
}

Result<int> SqlStore::schemaVersion() {
  return run<int>("schema version", [&](Poco::Data::Session& s) -> Result<int> {
    int v = 0;
    s << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", into(v), now;
    return v;
  });
}

// ---- certificates

namespace {

constexpr const char* kCertColumns =
    "serial, issuer, device_id, label, profile, protocol, subject, not_before, not_after,"
    " issued_at, status, revoked_at, revocation_reason, public_key_sha256,"
    " bootstrap_fingerprint, station, der, bootstrap_ca";

using CertRow = Poco::Tuple<std::string, std::string, std::string, std::string, std::string,
                            std::string, std::string, Int64, Int64, Int64, std::string, Int64, int,
                            std::string, std::string, std::string, Poco::Data::BLOB, std::string>;

CertificateRecord fromRow(const CertRow& r) {
  CertificateRecord c;
  c.serial = r.get<0>();
  c.issuer = r.get<1>();
  c.device_id = r.get<2>();
  c.label = r.get<3>();
  c.profile = r.get<4>();
  c.protocol = r.get<5>();
  c.subject = r.get<6>();
  c.not_before = r.get<7>();
  c.not_after = r.get<8>();
  c.issued_at = r.get<9>();
  c.status = parseCertStatus(r.get<10>());
  c.revoked_at = r.get<11>();
  c.revocation_reason = r.get<12>();
  c.public_key_sha256 = r.get<13>();
  c.bootstrap_fingerprint = r.get<14>();
  c.station = r.get<15>();
  const auto& blob = r.get<16>();
  c.der.assign(blob.rawContent(), blob.rawContent() + blob.size());
  c.bootstrap_ca = r.get<17>();
  return c;
}

void insertCertificate(const SqlDialect& d, Poco::Data::Session& s, const CertificateRecord& c) {
  static const std::string sql = std::string("INSERT INTO certificates (") + kCertColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  d.execute(s, sql,
            {c.serial, c.issuer, c.device_id, c.label, c.profile, c.protocol, c.subject,
             c.not_before, c.not_after, c.issued_at, certStatusName(c.status), c.revoked_at,
             c.revocation_reason, c.public_key_sha256, c.bootstrap_fingerprint, c.station,
             SqlBlob{c.der.data(), c.der.size()}, c.bootstrap_ca});
}

/**
 * Appends an audit entry inside the caller's transaction: reads the chain's head, links to it.
 * Two writers racing for the same seq collide on the primary key instead of forking the chain.
 */
/**
 * Appends an audit entry after the chain's head. head, when given, is the head as this transaction
 * last wrote it (a batch of issuances appends one entry after the other without reading the head
 * back each time); empty, it is read from the table. It is left at the new entry.
 */
AuditEntry insertAudit(const SqlDialect& d, Poco::Data::Session& s, AuditEntry a,
                       SqlStore::AuditHead* head = nullptr) {
  SqlStore::AuditHead read_here;
  if (head == nullptr) head = &read_here;
  if (!*head) {
    auto last = d.queryRow(s, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", {});
    const auto* seq = last ? std::get_if<int64_t>(&last->at(0)) : nullptr;
    const auto* hash = last ? std::get_if<std::string>(&last->at(1)) : nullptr;
    if (last && (seq == nullptr || hash == nullptr))
      throw Poco::Data::DataException("the audit log's last entry is unreadable");
    *head = last ? std::make_pair(*seq, *hash) : std::make_pair(int64_t{0}, std::string(64, '0'));
  }
  a.seq = (*head)->first + 1;
  a.prev_hash = (*head)->second;
  a.hash = auditEntryHash(a);
  d.execute(s,
            "INSERT INTO audit_log (seq, at, actor, action, target, outcome, detail, prev_hash,"
            " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {a.seq, a.at, a.actor, a.action, a.target, a.outcome, a.detail, a.prev_hash, a.hash});
  *head = std::make_pair(a.seq, a.hash);
  return a;
}

/** Records an enrollment event and its audit entry (inside the caller's transaction). */
void insertEvent(const SqlDialect& d, Poco::Data::Session& s, const EnrollmentEvent& e,
                 SqlStore::AuditHead* audit_head = nullptr) {
  d.execute(
      s,
      "INSERT INTO enrollment_events (at, protocol, label, operation, device_id, peer,"
      " outcome, serial, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {e.at, e.protocol, e.label, e.operation, e.device_id, e.peer, e.outcome, e.serial, e.reason});
  insertAudit(d, s, auditEntryOf(e), audit_head);
}

}  // namespace

Result<CertificateRecord> SqlStore::findCertificate(const std::string& serial) {
  return run<CertificateRecord>(
      "find certificate", [&](Poco::Data::Session& s) -> Result<CertificateRecord> {
        std::vector<CertRow> rows;
        s << "SELECT " << kCertColumns << " FROM certificates WHERE serial = ?", into(rows),
            bind(serial), now;
        if (rows.empty())
          return makeError(ErrorCode::kNotFound, "no certificate with serial " + serial);
        return fromRow(rows.front());
      });
}

Result<std::vector<CertificateRecord>> SqlStore::certificatesOfDevice(
    const std::string& device_id) {
  using Out = std::vector<CertificateRecord>;
  return run<Out>("certificates of device", [&](Poco::Data::Session& s) -> Result<Out> {
    std::vector<CertRow> rows;
    s << "SELECT " << kCertColumns << " FROM certificates WHERE device_id = ? ORDER BY issued_at",
        into(rows), bind(device_id), now;
    Out out;
    for (const auto& r : rows) out.push_back(fromRow(r));
    return out;
  });
}

Result<int64_t> SqlStore::countByBootstrap(const std::string& bootstrap_fingerprint) {
  return run<int64_t>("count by bootstrap", [&](Poco::Data::Session& s) -> Result<int64_t> {
    Int64 n = 0;
    s << "SELECT COUNT(*) FROM certificates WHERE bootstrap_fingerprint = ?", into(n),
        bind(bootstrap_fingerprint), now;
    return static_cast<int64_t>(n);
  });
}

Result<std::vector<CertificateRecord>> SqlStore::revokedCertificates(const std::string& issuer) {
  using Out = std::vector<CertificateRecord>;
  return run<Out>("revoked certificates", [&](Poco::Data::Session& s) -> Result<Out> {
    std::vector<CertRow> rows;
    s << "SELECT " << kCertColumns
      << " FROM certificates WHERE issuer = ? AND status <> 'good'"
         " ORDER BY revoked_at",
        into(rows), bind(issuer), now;
    Out out;
    for (const auto& r : rows) out.push_back(fromRow(r));
    return out;
  });
}

// setCertificateStatus lives in sql_revocation_store.cpp: every status change bumps the
// revocation revision.

// ---- devices

namespace {
using DeviceRow = Poco::Tuple<std::string, std::string, std::string, std::string, std::string,
                              std::string, std::string, std::string, Int64, Int64, Int64>;
constexpr const char* kDeviceColumns =
    "id, model, batch, product_line, labels, bootstrap_fingerprint, ek_hash, state,"
    " enroll_count, created_at, updated_at";
}  // namespace

namespace {
Result<DeviceRecord> deviceFromRow(const DeviceRow& r) {
  DeviceRecord d;
  d.id = r.get<0>();
  d.model = r.get<1>();
  d.batch = r.get<2>();
  d.product_line = r.get<3>();
  d.labels = r.get<4>();
  d.bootstrap_fingerprint = r.get<5>();
  d.ek_hash = r.get<6>();
  if (!parseDeviceState(r.get<7>(), &d.state)) {
    return makeError(ErrorCode::kInternal, "corrupt device state", r.get<7>());
  }
  d.enroll_count = r.get<8>();
  d.created_at = r.get<9>();
  d.updated_at = r.get<10>();
  return d;
}

/** A row SqlDialect::queryRow read, as POCO extracts it into a DeviceRow (NULL: "" or 0). */
DeviceRow deviceRowOf(const std::vector<SqlField>& fields) {
  auto text = [&](size_t i) {
    const auto* value = i < fields.size() ? std::get_if<std::string>(&fields[i]) : nullptr;
    return value != nullptr ? *value : std::string();
  };
  auto number = [&](size_t i) -> Int64 {
    const auto* value = i < fields.size() ? std::get_if<int64_t>(&fields[i]) : nullptr;
    return value != nullptr ? *value : 0;
  };
  return {text(0), text(1), text(2),   text(3),   text(4),   text(5),
          text(6), text(7), number(8), number(9), number(10)};
}

/** A registry label key we accept in filters (it goes into a JSON path). */
bool validLabelKey(const std::string& key) {
  if (key.empty() || key.size() > 64) return false;
  return std::ranges::all_of(key, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  });
}
}  // namespace

Result<DeviceRecord> SqlStore::findDevice(const std::string& id) {
  return run<DeviceRecord>("find device", [&](Poco::Data::Session& s) -> Result<DeviceRecord> {
    // On every enrollment's path (the registry check): a statement kept prepared.
    static const std::string sql =
        std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE id = ?";
    auto row = dialect_->queryRow(s, sql, {id});
    if (!row) return makeError(ErrorCode::kNotFound, "unknown device " + id);
    return deviceFromRow(deviceRowOf(*row));
  });
}

Result<std::vector<DeviceRecord>> SqlStore::listDevices(const DeviceFilter& filter) {
  using Out = std::vector<DeviceRecord>;
  if (!filter.state.empty()) {
    DeviceState st;
    if (!parseDeviceState(filter.state, &st))
      return makeError(ErrorCode::kInvalidArgument, "unknown device state " + filter.state);
  }
  for (const auto& [k, v] : filter.labels) {
    if (!validLabelKey(k))
      return makeError(ErrorCode::kInvalidArgument, "invalid label key '" + k + "'");
  }
  if (filter.limit <= 0 || filter.limit > 10000)
    return makeError(ErrorCode::kInvalidArgument, "limit must be between 1 and 10000");
  return run<Out>("list devices", [&](Poco::Data::Session& s) -> Result<Out> {
    std::string sql = std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE id > ?";
    std::vector<std::string> params = {filter.after_id};
    auto equal = [&](const char* column, const std::string& value) {
      if (value.empty()) return;
      sql += std::string(" AND ") + column + " = ?";
      params.push_back(value);
    };
    equal("state", filter.state);
    equal("model", filter.model);
    equal("batch", filter.batch);
    equal("product_line", filter.product_line);
    for (const auto& [k, v] : filter.labels) {
      sql += " AND " + dialect_->jsonTextField("labels") + " = ?";
      params.push_back(dialect_->jsonKeyParameter(k));
      params.push_back(v);
    }
    sql += " ORDER BY id LIMIT " + std::to_string(filter.limit);
    std::vector<DeviceRow> rows;
    Poco::Data::Statement st(s);
    st << sql, into(rows);
    for (const auto& p : params) st.addBind(bind(p));
    st.execute();
    Out out;
    for (const auto& r : rows) {
      ENROLL_TRY(auto d, deviceFromRow(r));
      out.push_back(std::move(d));
    }
    return out;
  });
}

Result<void> SqlStore::setDeviceState(const std::string& id, DeviceState state, std::time_t at) {
  return write<void>("set device state", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 when = at;
    Poco::Data::Statement st(s);
    st << "UPDATE devices SET state = ?, updated_at = ? WHERE id = ?", bind(deviceStateName(state)),
        bind(when), bind(id);
    if (st.execute() == 0) return makeError(ErrorCode::kNotFound, "unknown device " + id);
    return pki::ok();
  });
}

Result<void> SqlStore::putDevice(const DeviceRecord& d) {
  return write<void>("put device", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 created = d.created_at ? d.created_at : std::time(nullptr);
    Int64 updated = d.updated_at ? d.updated_at : created;
    Int64 count = d.enroll_count;
    std::string state = deviceStateName(d.state);
    s << "INSERT INTO devices (" << kDeviceColumns
      << ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
         " ON CONFLICT (id) DO UPDATE SET model = excluded.model, batch = excluded.batch,"
         " product_line = excluded.product_line, labels = excluded.labels,"
         " bootstrap_fingerprint = excluded.bootstrap_fingerprint, ek_hash = excluded.ek_hash,"
         " state = excluded.state, updated_at = excluded.updated_at",
        bind(d.id), bind(d.model), bind(d.batch), bind(d.product_line), bind(d.labels),
        bind(d.bootstrap_fingerprint), bind(d.ek_hash), bind(state), bind(count), bind(created),
        bind(updated), now;
    return pki::ok();
  });
}

Result<int64_t> SqlStore::importDevices(const std::vector<DeviceRecord>& devices, std::time_t at) {
  return write<int64_t>("import devices", [&](Poco::Data::Session& s) -> Result<int64_t> {
    std::vector<std::string> id, model, batch, line, labels, fp, ek, state;
    for (const auto& d : devices) {
      id.push_back(d.id);
      model.push_back(d.model);
      batch.push_back(d.batch);
      line.push_back(d.product_line);
      labels.push_back(d.labels.empty() ? "{}" : d.labels);
      fp.push_back(d.bootstrap_fingerprint);
      ek.push_back(d.ek_hash);
      state.push_back(deviceStateName(d.state));
    }
    std::vector<Int64> when(devices.size(), at);  // POCO batch binding: every binding a vector
    Int64 before = 0, after = 0;
    s.begin();
    try {
      s << "SELECT COUNT(*) FROM devices", into(before), now;
      if (!devices.empty()) {
        // One prepared statement, executed once per row (POCO binds the vectors).
        s << "INSERT INTO devices (" << kDeviceColumns
          << ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (id) DO UPDATE SET"
             " model = excluded.model, batch = excluded.batch, product_line = "
             "excluded.product_line,"
             " labels = excluded.labels, bootstrap_fingerprint = excluded.bootstrap_fingerprint,"
             " ek_hash = excluded.ek_hash, updated_at = excluded.updated_at,"
             " state = CASE WHEN excluded.state IN ('blocked', 'retired') THEN excluded.state"
             " WHEN devices.state = 'expected' THEN excluded.state ELSE devices.state END",
            use(id), use(model), use(batch), use(line), use(labels), use(fp), use(ek), use(state),
            use(when), use(when), now;
      }
      s << "SELECT COUNT(*) FROM devices", into(after), now;
      s.commit();
    } catch (...) {
      s.rollback();
      throw;
    }
    return static_cast<int64_t>(after - before);
  });
}

// ---- events

Result<void> SqlStore::appendEvent(const EnrollmentEvent& event) {
  return write<void>("append event", [&](Poco::Data::Session& s) -> Result<void> {
    s.begin();
    try {
      insertEvent(*dialect_, s, event);
      s.commit();
    } catch (...) {
      s.rollback();
      throw;
    }
    return pki::ok();
  });
}

Result<std::vector<EnrollmentEvent>> SqlStore::eventsOfDevice(const std::string& device_id) {
  using Out = std::vector<EnrollmentEvent>;
  return run<Out>("events of device", [&](Poco::Data::Session& s) -> Result<Out> {
    std::vector<Poco::Tuple<Int64, std::string, std::string, std::string, std::string, std::string,
                            std::string, std::string, std::string>>
        rows;
    s << "SELECT at, protocol, label, operation, device_id, peer, outcome, serial, reason"
         " FROM enrollment_events WHERE device_id = ? ORDER BY id",
        into(rows), bind(device_id), now;
    Out out;
    for (const auto& r : rows) {
      out.push_back(EnrollmentEvent{r.get<0>(), r.get<1>(), r.get<2>(), r.get<3>(), r.get<4>(),
                                    r.get<5>(), r.get<6>(), r.get<7>(), r.get<8>()});
    }
    return out;
  });
}

// ---- pending requests

namespace {
using PendingRow = Poco::Tuple<std::string, std::string, std::string, std::string, Poco::Data::BLOB,
                               std::string, Int64, Int64, std::string>;
constexpr const char* kPendingColumns =
    "id, label, device_id, transaction_id, csr, state, created_at, decided_at, serial";

PendingRecord fromRow(const PendingRow& r) {
  PendingRecord p;
  p.id = r.get<0>();
  p.label = r.get<1>();
  p.device_id = r.get<2>();
  p.transaction_id = r.get<3>();
  const auto& blob = r.get<4>();
  p.csr_der.assign(blob.rawContent(), blob.rawContent() + blob.size());
  p.state = parsePendingState(r.get<5>());
  p.created_at = r.get<6>();
  p.decided_at = r.get<7>();
  p.serial = r.get<8>();
  return p;
}
}  // namespace

Result<PendingRecord> SqlStore::findPending(const std::string& id) {
  return run<PendingRecord>("find pending", [&](Poco::Data::Session& s) -> Result<PendingRecord> {
    std::vector<PendingRow> rows;
    s << "SELECT " << kPendingColumns << " FROM pending_requests WHERE id = ?", into(rows),
        bind(id), now;
    if (rows.empty()) return makeError(ErrorCode::kNotFound, "no pending request " + id);
    return fromRow(rows.front());
  });
}

Result<PendingRecord> SqlStore::findPendingByTransaction(const std::string& label,
                                                         const std::string& transaction_id) {
  return run<PendingRecord>("find pending", [&](Poco::Data::Session& s) -> Result<PendingRecord> {
    std::vector<PendingRow> rows;
    s << "SELECT " << kPendingColumns
      << " FROM pending_requests WHERE label = ? AND transaction_id = ?",
        into(rows), bind(label), bind(transaction_id), now;
    if (rows.empty())
      return makeError(ErrorCode::kNotFound, "no pending request for that transaction");
    return fromRow(rows.front());
  });
}

namespace {
void insertPendingRow(Poco::Data::Session& s, const PendingRecord& p) {
  Poco::Data::BLOB csr(p.csr_der.data(), p.csr_der.size());
  Int64 created = p.created_at, decided = p.decided_at;
  s << "INSERT INTO pending_requests (" << kPendingColumns
    << ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      bind(p.id), bind(p.label), bind(p.device_id), bind(p.transaction_id), bind(csr),
      bind(pendingStateName(p.state)), bind(created), bind(decided), bind(p.serial), now;
}
}  // namespace

Result<void> SqlStore::insertPending(const PendingRecord& p) {
  return write<void>("insert pending", [&](Poco::Data::Session& s) -> Result<void> {
    insertPendingRow(s, p);
    return pki::ok();
  });
}

Result<void> SqlStore::decidePending(const std::string& id, PendingRecord::State state,
                                     std::time_t at) {
  return write<void>("decide pending", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 when = at;
    Poco::Data::Statement st(s);
    st << "UPDATE pending_requests SET state = ?, decided_at = ? WHERE id = ?",
        bind(pendingStateName(state)), bind(when), bind(id);
    if (st.execute() == 0) return makeError(ErrorCode::kNotFound, "no pending request " + id);
    return pki::ok();
  });
}

Result<std::vector<PendingRecord>> SqlStore::listPending() {
  using Out = std::vector<PendingRecord>;
  return run<Out>("list pending", [&](Poco::Data::Session& s) -> Result<Out> {
    std::vector<PendingRow> rows;
    s << "SELECT " << kPendingColumns << " FROM pending_requests ORDER BY created_at", into(rows),
        now;
    Out out;
    for (const auto& r : rows) out.push_back(fromRow(r));
    return out;
  });
}

// ---- credentials

Result<BasicCredentialRecord> SqlStore::findCredential(const std::string& username) {
  return run<BasicCredentialRecord>(
      "find credential", [&](Poco::Data::Session& s) -> Result<BasicCredentialRecord> {
        std::vector<Poco::Tuple<std::string, std::string, std::string, std::string, Int64>> rows;
        s << "SELECT username, label, device_id, password_hash, created_at FROM basic_credentials"
             " WHERE username = ?",
            into(rows), bind(username), now;
        if (rows.empty()) return makeError(ErrorCode::kNotFound, "unknown user");
        const auto& r = rows.front();
        return BasicCredentialRecord{r.get<0>(), r.get<1>(), r.get<2>(), r.get<3>(), r.get<4>()};
      });
}

Result<void> SqlStore::putCredential(const BasicCredentialRecord& c) {
  return write<void>("put credential", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 created = c.created_at ? c.created_at : std::time(nullptr);
    s << "INSERT INTO basic_credentials (username, label, device_id, password_hash, created_at)"
         " VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET label = excluded.label,"
         " device_id = excluded.device_id, password_hash = excluded.password_hash",
        bind(c.username), bind(c.label), bind(c.device_id), bind(c.password_hash), bind(created),
        now;
    return pki::ok();
  });
}

// ---- SCEP state

namespace {
/**
 * Records a TransactionGuard inside the caller's transaction. Both checks are unique keys that
 * hold at commit, not a read before the write: of two concurrent identical messages, one
 * commits and the other finds the row. Returns the refusal; the caller rolls back.
 */
std::optional<pki::Error> applyGuard(const SqlDialect& d, Poco::Data::Session& s,
                                     const TransactionGuard& g) {
  if (g.empty()) return std::nullopt;
  if (!g.nonce_hex.empty()) {
    const size_t inserted = d.execute(s,
                                      "INSERT INTO scep_nonces (transaction_id, nonce, seen_at)"
                                      " VALUES (?, ?, ?) ON CONFLICT (transaction_id, nonce)"
                                      " DO NOTHING",
                                      {g.transaction_id, g.nonce_hex, g.at});
    if (inserted != 1) {
      return makeError(ErrorCode::kInvalidArgument, "replayed senderNonce",
                       "transactionID " + g.transaction_id + " nonce " + g.nonce_hex);
    }
  }
  if (!g.public_key_sha256.empty()) {
    // Inserted, or kept when bound to the same key (1 row); bound to another key: 0 rows.
    const size_t bound = d.execute(
        s,
        "INSERT INTO scep_transactions (label, transaction_id, public_key_sha256, created_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (label, transaction_id) DO UPDATE"
        " SET created_at = scep_transactions.created_at"
        " WHERE scep_transactions.public_key_sha256 = excluded.public_key_sha256",
        {g.label, g.transaction_id, g.public_key_sha256, g.at});
    if (bound != 1) {
      return makeError(ErrorCode::kInvalidArgument, "transactionID already used with another key",
                       "transactionID " + g.transaction_id);
    }
  }
  return std::nullopt;
}
}  // namespace

Result<std::string> SqlStore::scepTransactionKey(const std::string& label,
                                                 const std::string& transaction_id) {
  return run<std::string>("scep transaction", [&](Poco::Data::Session& s) -> Result<std::string> {
    std::vector<std::string> keys;
    s << "SELECT public_key_sha256 FROM scep_transactions WHERE label = ? AND transaction_id = ?",
        into(keys), bind(label), bind(transaction_id), now;
    if (keys.empty()) return makeError(ErrorCode::kNotFound, "unknown transactionID");
    return keys.front();
  });
}

Result<bool> SqlStore::rememberScepNonce(const std::string& transaction_id,
                                         const std::string& nonce_hex, std::time_t at) {
  return write<bool>("remember scep nonce", [&](Poco::Data::Session& s) -> Result<bool> {
    Int64 when = at;
    Poco::Data::Statement st(s);
    st << "INSERT INTO scep_nonces (transaction_id, nonce, seen_at) VALUES (?, ?, ?)"
          " ON CONFLICT (transaction_id, nonce) DO NOTHING",
        bind(transaction_id), bind(nonce_hex), bind(when);
    return st.execute() == 1;
  });
}

Result<ScepTransactionState> SqlStore::scepTransactionState(const std::string& label,
                                                            const std::string& transaction_id,
                                                            const std::string& nonce_hex) {
  return run<ScepTransactionState>(
      "scep transaction", [&](Poco::Data::Session& s) -> Result<ScepTransactionState> {
        // One statement for both (this is on every PKCSReq's path).
        auto row = dialect_->queryRow(
            s,
            "SELECT (SELECT public_key_sha256 FROM scep_transactions WHERE label = ? AND"
            " transaction_id = ?), (SELECT COUNT(*) FROM scep_nonces WHERE transaction_id = ?"
            " AND nonce = ?)",
            {label, transaction_id, transaction_id, nonce_hex});
        ScepTransactionState state;
        if (!row || row->size() != 2)
          return makeError(ErrorCode::kInternal, "the SCEP transaction query gave no row");
        if (const auto* key = std::get_if<std::string>(&row->at(0))) state.public_key_sha256 = *key;
        const auto* seen = std::get_if<int64_t>(&row->at(1));
        state.nonce_seen = seen != nullptr && *seen > 0;
        return state;
      });
}

Result<void> SqlStore::commitTransactionGuard(const TransactionGuard& guard) {
  return write<void>("commit scep guard", [&](Poco::Data::Session& s) -> Result<void> {
    s.begin();
    try {
      if (auto refused = applyGuard(*dialect_, s, guard)) {
        s.rollback();
        return *std::move(refused);
      }
      s.commit();
    } catch (...) {
      s.rollback();
      throw;
    }
    return pki::ok();
  });
}

Result<void> SqlStore::expireScepState(std::time_t before) {
  return write<void>("expire scep state", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 when = before;
    s << "DELETE FROM scep_nonces WHERE seen_at < ?", bind(when), now;
    s << "DELETE FROM scep_transactions WHERE created_at < ? AND public_key_sha256 NOT IN"
         " (SELECT public_key_sha256 FROM certificates)",
        bind(when), now;
    return pki::ok();
  });
}

// ---- one-time tokens

namespace {
using TokenRow = Poco::Tuple<std::string, std::string, std::string, std::string, Int64, Int64,
                             Int64, Int64, std::string>;
constexpr const char* kTokenColumns =
    "token_hash, label, device_id, batch, created_at, expires_at, used_at, revoked_at, serial";

TokenRecord fromRow(const TokenRow& r) {
  return TokenRecord{r.get<0>(), r.get<1>(), r.get<2>(), r.get<3>(), r.get<4>(),
                     r.get<5>(), r.get<6>(), r.get<7>(), r.get<8>()};
}
}  // namespace

Result<void> SqlStore::insertTokens(const std::vector<TokenRecord>& tokens) {
  return write<void>("insert tokens", [&](Poco::Data::Session& s) -> Result<void> {
    s.begin();
    try {
      for (const auto& t : tokens) {
        Int64 created = t.created_at, expires = t.expires_at, zero = 0;
        s << "INSERT INTO tokens (" << kTokenColumns << ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')",
            bind(t.token_hash), bind(t.label), bind(t.device_id), bind(t.batch), bind(created),
            bind(expires), bind(zero), bind(zero), now;
      }
      s.commit();
    } catch (...) {
      s.rollback();
      throw;
    }
    return pki::ok();
  });
}

Result<TokenRecord> SqlStore::findToken(const std::string& token_hash) {
  return run<TokenRecord>("find token", [&](Poco::Data::Session& s) -> Result<TokenRecord> {
    std::vector<TokenRow> rows;
    s << "SELECT " << kTokenColumns << " FROM tokens WHERE token_hash = ?", into(rows),
        bind(token_hash), now;
    if (rows.empty()) return makeError(ErrorCode::kNotFound, "unknown token");
    return fromRow(rows.front());
  });
}

Result<void> SqlStore::revokeToken(const std::string& token_hash, std::time_t at) {
  return write<void>("revoke token", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 when = at;
    Poco::Data::Statement st(s);
    st << "UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND used_at = 0 AND revoked_at = "
          "0",
        bind(when), bind(token_hash);
    if (st.execute() == 0) return makeError(ErrorCode::kNotFound, "no unused token with that hash");
    return pki::ok();
  });
}

Result<std::vector<TokenRecord>> SqlStore::listTokens(const std::string& label) {
  using Out = std::vector<TokenRecord>;
  return run<Out>("list tokens", [&](Poco::Data::Session& s) -> Result<Out> {
    std::vector<TokenRow> rows;
    if (label.empty()) {
      s << "SELECT " << kTokenColumns << " FROM tokens ORDER BY created_at DESC", into(rows), now;
    } else {
      s << "SELECT " << kTokenColumns << " FROM tokens WHERE label = ? ORDER BY created_at DESC",
          into(rows), bind(label), now;
    }
    Out out;
    for (const auto& r : rows) out.push_back(fromRow(r));
    return out;
  });
}

// ---- stations

Result<void> SqlStore::addStation(const StationRecord& st) {
  return write<void>("add station", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 created = st.created_at;
    s << "INSERT INTO stations (name, certificate_sha256, created_at) VALUES (?, ?, ?)",
        bind(st.name), bind(st.certificate_sha256), bind(created), now;
    return pki::ok();
  });
}

Result<void> SqlStore::removeStation(const std::string& name) {
  return write<void>("remove station", [&](Poco::Data::Session& s) -> Result<void> {
    Poco::Data::Statement st(s);
    st << "DELETE FROM stations WHERE name = ?", bind(name);
    if (st.execute() == 0) return makeError(ErrorCode::kNotFound, "no station named " + name);
    return pki::ok();
  });
}

Result<StationRecord> SqlStore::findStationByCertificate(const std::string& certificate_sha256) {
  return run<StationRecord>("find station", [&](Poco::Data::Session& s) -> Result<StationRecord> {
    std::vector<Poco::Tuple<std::string, std::string, Int64>> rows;
    s << "SELECT name, certificate_sha256, created_at FROM stations WHERE certificate_sha256 = ?",
        into(rows), bind(certificate_sha256), now;
    if (rows.empty()) return makeError(ErrorCode::kNotFound, "not a station");
    return StationRecord{rows[0].get<0>(), rows[0].get<1>(), rows[0].get<2>()};
  });
}

Result<std::vector<StationRecord>> SqlStore::listStations() {
  using Out = std::vector<StationRecord>;
  return run<Out>("list stations", [&](Poco::Data::Session& s) -> Result<Out> {
    std::vector<Poco::Tuple<std::string, std::string, Int64>> rows;
    s << "SELECT name, certificate_sha256, created_at FROM stations ORDER BY name", into(rows), now;
    Out out;
    for (const auto& r : rows) out.push_back({r.get<0>(), r.get<1>(), r.get<2>()});
    return out;
  });
}

// ---- issuance

// ---- operators (admin API identities)

Result<void> SqlStore::addOperator(const OperatorRecord& op) {
  return write<void>("add operator", [&](Poco::Data::Session& s) -> Result<void> {
    Int64 at = op.created_at;
    s << "INSERT INTO operators (name, certificate_sha256, role, created_at) VALUES (?, ?, ?, ?)",
        bind(op.name), bind(op.certificate_sha256), bind(roleName(op.role)), bind(at), now;
    return pki::ok();
  });
}

Result<void> SqlStore::removeOperator(const std::string& name) {
  return write<void>("remove operator", [&](Poco::Data::Session& s) -> Result<void> {
    Poco::Data::Statement st(s);
    st << "DELETE FROM operators WHERE name = ?", bind(name);
    if (st.execute() == 0) return makeError(ErrorCode::kNotFound, "no operator named " + name);
    return pki::ok();
  });
}

namespace {
using OperatorRow = Poco::Tuple<std::string, std::string, std::string, Int64>;
Result<OperatorRecord> operatorFromRow(const OperatorRow& r) {
  OperatorRecord op{r.get<0>(), r.get<1>(), Role::kViewer, r.get<3>()};
  if (!parseRole(r.get<2>(), &op.role))
    return makeError(ErrorCode::kInternal, "corrupt operator role", r.get<2>());
  return op;
}
}  // namespace

Result<OperatorRecord> SqlStore::findOperatorByCertificate(const std::string& certificate_sha256) {
  return run<OperatorRecord>(
      "find operator", [&](Poco::Data::Session& s) -> Result<OperatorRecord> {
        std::vector<OperatorRow> rows;
        s << "SELECT name, certificate_sha256, role, created_at FROM operators"
             " WHERE certificate_sha256 = ?",
            into(rows), bind(certificate_sha256), now;
        if (rows.empty()) return makeError(ErrorCode::kNotFound, "unknown operator certificate");
        return operatorFromRow(rows.front());
      });
}

Result<std::vector<OperatorRecord>> SqlStore::listOperators() {
  using Out = std::vector<OperatorRecord>;
  return run<Out>("list operators", [&](Poco::Data::Session& s) -> Result<Out> {
    std::vector<OperatorRow> rows;
    s << "SELECT name, certificate_sha256, role, created_at FROM operators ORDER BY name",
        into(rows), now;
    Out out;
    for (const auto& r : rows) {
      ENROLL_TRY(auto op, operatorFromRow(r));
      out.push_back(std::move(op));
    }
    return out;
  });
}

// ---- audit log

Result<AuditEntry> SqlStore::appendAudit(const AuditEntry& entry) {
  return write<AuditEntry>("append audit entry", [&](Poco::Data::Session& s) -> Result<AuditEntry> {
    s.begin();
    try {
      AuditEntry done = insertAudit(*dialect_, s, entry);
      s.commit();
      return done;
    } catch (...) {
      s.rollback();
      throw;
    }
  });
}

Result<std::vector<AuditEntry>> SqlStore::auditEntries(int64_t after_seq, int limit) {
  using Out = std::vector<AuditEntry>;
  return run<Out>("read audit log", [&](Poco::Data::Session& s) -> Result<Out> {
    std::vector<Poco::Tuple<Int64, Int64, std::string, std::string, std::string, std::string,
                            std::string, std::string, std::string>>
        rows;
    Int64 after = after_seq;
    Int64 lim = limit;
    s << "SELECT seq, at, actor, action, target, outcome, detail, prev_hash, hash FROM audit_log"
         " WHERE seq > ? ORDER BY seq LIMIT ?",
        into(rows), bind(after), bind(lim), now;
    Out out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
      out.push_back({r.get<0>(), r.get<1>(), r.get<2>(), r.get<3>(), r.get<4>(), r.get<5>(),
                     r.get<6>(), r.get<7>(), r.get<8>()});
    }
    return out;
  });
}

Result<void> SqlStore::commitIssuance(const Issuance& issuance) {
  // Group commit: issuances from many threads share one transaction and one fsync.
  Grouped::Item item{
      [&](Poco::Data::Session& s) -> Result<void> {
        const CertificateRecord& c = issuance.certificate;
        const SqlDialect& d = *dialect_;
        if (auto refused = applyGuard(d, s, issuance.guard)) return *std::move(refused);
        insertCertificate(d, s, c);
        const int64_t at = c.issued_at;
        // A device blocked or retired after the request was authorized (an operator's bulk
        // revocation may block it meanwhile) gets nothing: the whole issuance is undone.
        static const std::string device_sql =
            std::string("INSERT INTO devices (") + kDeviceColumns +
            ") VALUES (?, '', '', '', '{}', ?, '', ?, 1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET state = excluded.state,"
            " enroll_count = devices.enroll_count + 1, updated_at = excluded.updated_at"
            " WHERE devices.state NOT IN ('blocked', 'retired')";
        if (d.execute(s, device_sql,
                      {c.device_id, c.bootstrap_fingerprint,
                       deviceStateName(DeviceState::kEnrolled), at, at}) != 1)
          return makeError(ErrorCode::kPermissionDenied,
                           "device " + c.device_id + " was blocked or retired meanwhile");
        // Single use, atomically: only an unused, unrevoked token is consumed.
        if (!issuance.token_hash.empty() &&
            d.execute(s,
                      "UPDATE tokens SET used_at = ?, serial = ? WHERE token_hash = ? AND"
                      " used_at = 0 AND revoked_at = 0",
                      {at, c.serial, issuance.token_hash}) != 1)
          return makeError(ErrorCode::kPermissionDenied,
                           "the enrollment token has already been used");
        if (!issuance.pending_id.empty()) {
          d.execute(s,
                    "UPDATE pending_requests SET state = 'issued', serial = ?, decided_at = ?"
                    " WHERE id = ?",
                    {c.serial, at, issuance.pending_id});
        }
        insertEvent(d, s, issuance.event, &batch_audit_head_);
        return pki::ok();
      },
      std::nullopt};
  return issuances_.submit(item, [this](const auto& batch) { commitBatch(batch); });
}

void SqlStore::commitBatch(const std::vector<Grouped::Item*>& batch) {
  std::vector<Result<void>> outcomes;
  Result<void> committed =
      write<void>("commit issuance", [&](Poco::Data::Session& s) -> Result<void> {
        outcomes.clear();  // a busy database runs the whole batch again
        batch_audit_head_.reset();
        s.begin();
        try {
          for (Grouped::Item* item : batch) {
            dialect_->execute(s, "SAVEPOINT issuance", {});
            Result<void> r = pki::ok();
            try {
              r = item->work(s);
            } catch (const Poco::Exception& e) {
              if (dialect_->isBusy(e)) throw;  // the database's lock: the whole batch again
              r = storeError("commit issuance", e);
            }
            if (!r) {
              dialect_->execute(s, "ROLLBACK TO SAVEPOINT issuance", {});
              batch_audit_head_.reset();  // read again: the undone item may have moved it
            }
            dialect_->execute(s, "RELEASE SAVEPOINT issuance", {});
            outcomes.push_back(std::move(r));
          }
          s.commit();
        } catch (...) {
          s.rollback();
          throw;
        }
        return pki::ok();
      });
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i]->result = committed ? std::move(outcomes[i]) : Result<void>(committed.error());
}

Result<void> SqlStore::commitPending(const PendingRecord& record, const TransactionGuard& guard) {
  return write<void>("insert pending", [&](Poco::Data::Session& s) -> Result<void> {
    s.begin();
    try {
      if (auto refused = applyGuard(*dialect_, s, guard)) {
        s.rollback();
        return *std::move(refused);
      }
      insertPendingRow(s, record);
      s.commit();
    } catch (...) {
      s.rollback();
      throw;
    }
    return pki::ok();
  });
}

}  // namespace enroll::store
