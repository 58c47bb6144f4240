// One conformance suite for every store backend (STYLE.md, Store). SQLite now; PostgreSQL joins
// by adding a backend type to StoreBackends.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>

#include <Poco/Data/Session.h>
#include <Poco/File.h>

#include "server/store/sql_store.h"
#include "server/store/sqlite/sqlite_dialect.h"
#include "tests/support/enrolld_process.h"

namespace enroll::store {
namespace {

struct SqliteBackend {
  static constexpr const char* kName = "sqlite";
  explicit SqliteBackend(const std::string& dir) : path(dir + "/store.db") {}
  Result<std::unique_ptr<Store>> open() { return openSqliteStore(path); }
  std::string path;
};

template <typename Backend>
class StoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<Backend>(dir_.path());
    auto s = backend_->open();
    ASSERT_TRUE(s) << s.error().toString();
    store_ = std::move(s).value();
  }
  static CertificateRecord cert(const std::string& serial, const std::string& device) {
    CertificateRecord c;
    c.serial = serial;
    c.issuer = "issuing";
    c.device_id = device;
    c.subject = "CN=" + device;
    c.not_before = 100;
    c.not_after = 200;
    c.issued_at = 150;
    c.bootstrap_fingerprint = "fp-" + device;
    c.der = {0x30, 0x03, 0x02, 0x01, static_cast<uint8_t>(serial.size())};
    return c;
  }
  static Issuance issuance(const std::string& serial, const std::string& device) {
    Issuance i;
    i.certificate = cert(serial, device);
    i.event =
        EnrollmentEvent{150, "est", "", "enroll", device, "127.0.0.1:1", "issued", serial, "test"};
    return i;
  }

  enroll::testing::TempDir dir_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Store> store_;
};

using StoreBackends = ::testing::Types<SqliteBackend>;
TYPED_TEST_SUITE(StoreConformance, StoreBackends);

TYPED_TEST(StoreConformance, MigratesAnEmptyDatabaseToTheLatestSchema) {
  EXPECT_EQ(static_cast<int>(schemaMigrations().size()), this->store_->schemaVersion().value());
}

TYPED_TEST(StoreConformance, ReopensAnExistingDatabaseAndKeepsItsData) {
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("aa01", "D1")));
  this->store_.reset();
  auto again = this->backend_->open();
  ASSERT_TRUE(again) << again.error().toString();
  EXPECT_EQ(static_cast<int>(schemaMigrations().size()), (*again)->schemaVersion().value());
  EXPECT_TRUE((*again)->findCertificate("aa01"));
}

TYPED_TEST(StoreConformance, CommitsAnIssuanceAsOneUnit) {
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("aa01", "D1")));
  auto c = this->store_->findCertificate("aa01");
  ASSERT_TRUE(c);
  EXPECT_EQ("D1", c->device_id);
  EXPECT_EQ(this->cert("aa01", "D1").der, c->der);
  EXPECT_EQ(CertStatus::kGood, c->status);
  auto d = this->store_->findDevice("D1");
  ASSERT_TRUE(d);
  EXPECT_EQ(DeviceState::kEnrolled, d->state);
  EXPECT_EQ(1, d->enroll_count);
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("aa02", "D1")));
  EXPECT_EQ(2, this->store_->findDevice("D1")->enroll_count);
  EXPECT_EQ(2u, this->store_->eventsOfDevice("D1")->size());
  EXPECT_EQ(2u, this->store_->certificatesOfDevice("D1")->size());
  EXPECT_EQ(2, this->store_->countByBootstrap("fp-D1").value());
}

TYPED_TEST(StoreConformance, RefusesADuplicateSerialAndWritesNothingOfIt) {
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("aa01", "D1")));
  auto dup = this->store_->commitIssuance(this->issuance("aa01", "D2"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(pki::ErrorCode::kAlreadyExists, dup.error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findDevice("D2").error().code);
  EXPECT_TRUE(this->store_->eventsOfDevice("D2")->empty());
}

TYPED_TEST(StoreConformance, UnknownThingsAreNotFound) {
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findCertificate("ff").error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findDevice("nobody").error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findPending("x").error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findCredential("x").error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound,
            this->store_->setCertificateStatus("ff", CertStatus::kRevoked, 1, 5).error().code);
}

TYPED_TEST(StoreConformance, RevokesHoldsAndReleases) {
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("aa01", "D1")));
  ASSERT_TRUE(this->store_->setCertificateStatus("aa01", CertStatus::kRevoked, 1, 500));
  auto c = this->store_->findCertificate("aa01");
  EXPECT_EQ(CertStatus::kRevoked, c->status);
  EXPECT_EQ(500, c->revoked_at);
  EXPECT_EQ(1, c->revocation_reason);
  ASSERT_TRUE(this->store_->setCertificateStatus("aa01", CertStatus::kHold, 6, 600));
  ASSERT_TRUE(this->store_->setCertificateStatus("aa01", CertStatus::kGood, 0, 700));
  c = this->store_->findCertificate("aa01");
  EXPECT_EQ(CertStatus::kGood, c->status);
  EXPECT_EQ(0, c->revoked_at);
}

TYPED_TEST(StoreConformance, KeepsRegistryFieldsOnPutAndEnrollment) {
  DeviceRecord d;
  d.id = "D9";
  d.model = "M1";
  d.batch = "B2";
  d.product_line = "PL";
  d.labels = "{\"site\":\"x\"}";
  ASSERT_TRUE(this->store_->putDevice(d));
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("bb01", "D9")));
  auto got = this->store_->findDevice("D9");
  ASSERT_TRUE(got);
  EXPECT_EQ("M1", got->model);
  EXPECT_EQ("B2", got->batch);
  EXPECT_EQ("{\"site\":\"x\"}", got->labels);
  EXPECT_EQ(DeviceState::kEnrolled, got->state);
}

TYPED_TEST(StoreConformance, TracksPendingRequestsThroughTheirStates) {
  PendingRecord p;
  p.id = "default/abc";
  p.label = "";
  p.device_id = "D1";
  p.transaction_id = "abc";
  p.csr_der = {1, 2, 3};
  p.created_at = 10;
  ASSERT_TRUE(this->store_->insertPending(p));
  EXPECT_EQ(pki::ErrorCode::kAlreadyExists, this->store_->insertPending(p).error().code);
  EXPECT_EQ("D1", this->store_->findPendingByTransaction("", "abc")->device_id);
  ASSERT_TRUE(this->store_->decidePending("default/abc", PendingRecord::State::kApproved, 20));
  auto i = this->issuance("cc01", "D1");
  i.pending_id = "default/abc";
  ASSERT_TRUE(this->store_->commitIssuance(i));
  auto after = this->store_->findPending("default/abc");
  EXPECT_EQ(PendingRecord::State::kIssued, after->state);
  EXPECT_EQ("cc01", after->serial);
  EXPECT_EQ((pki::Bytes{1, 2, 3}), after->csr_der);
}

TYPED_TEST(StoreConformance, StoresCredentials) {
  BasicCredentialRecord c{"u1", "lab", "D1", "hash1", 5};
  ASSERT_TRUE(this->store_->putCredential(c));
  c.password_hash = "hash2";
  ASSERT_TRUE(this->store_->putCredential(c));
  EXPECT_EQ("hash2", this->store_->findCredential("u1")->password_hash);
}

TYPED_TEST(StoreConformance, ConsumesATokenOnlyOnceWithItsIssuance) {
  TokenRecord t{"h1", "", "D1", "B", 10, 1000, 0, 0, ""};
  ASSERT_TRUE(this->store_->insertTokens({t}));
  EXPECT_EQ(pki::ErrorCode::kAlreadyExists, this->store_->insertTokens({t}).error().code);
  auto first = this->issuance("dd01", "D1");
  first.token_hash = "h1";
  ASSERT_TRUE(this->store_->commitIssuance(first));
  EXPECT_EQ("dd01", this->store_->findToken("h1")->serial);
  auto second = this->issuance("dd02", "D1");
  second.token_hash = "h1";
  auto refused = this->store_->commitIssuance(second);
  ASSERT_FALSE(refused);
  EXPECT_EQ(pki::ErrorCode::kPermissionDenied, refused.error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findCertificate("dd02").error().code);
  EXPECT_EQ(1, this->store_->findDevice("D1")->enroll_count);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->revokeToken("h1", 20).error().code);
  EXPECT_EQ(1u, this->store_->listTokens("")->size());
}

// ---- SCEP transaction guard (RFC 8894 3.2.1): committed with the issuance or the held request

TransactionGuard scepGuard(const std::string& tx, const std::string& nonce,
                           const std::string& key) {
  return TransactionGuard{"", tx, nonce, key, 150};
}

TYPED_TEST(StoreConformance, RefusesAReplayedGuardAtCommitAndIssuesNothing) {
  auto first = this->issuance("f001", "S1");
  first.guard = scepGuard("tx-1", "n1", "key-a");
  ASSERT_TRUE(this->store_->commitIssuance(first));
  auto state = this->store_->scepTransactionState("", "tx-1", "n1");
  ASSERT_TRUE(state) << state.error().toString();
  EXPECT_EQ("key-a", state->public_key_sha256);
  EXPECT_TRUE(state->nonce_seen);
  EXPECT_EQ("key-a", this->store_->scepTransactionKey("", "tx-1").value());

  // The same message again, as a concurrent copy that passed every read would commit it.
  auto replay = this->issuance("f002", "S1");
  replay.guard = scepGuard("tx-1", "n1", "key-a");
  auto refused = this->store_->commitIssuance(replay);
  ASSERT_FALSE(refused);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, refused.error().code);
  EXPECT_NE(std::string::npos, refused.error().message.find("replayed"));
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findCertificate("f002").error().code);
  EXPECT_EQ(1, this->store_->findDevice("S1")->enroll_count);

  // A new nonce with the same key is no replay; another key under the transactionID is refused,
  // and its nonce is not recorded.
  auto again = this->issuance("f003", "S1");
  again.guard = scepGuard("tx-1", "n2", "key-a");
  ASSERT_TRUE(this->store_->commitIssuance(again));
  auto other = this->issuance("f004", "S2");
  other.guard = scepGuard("tx-1", "n3", "key-b");
  auto wrong_key = this->store_->commitIssuance(other);
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, wrong_key.error().code);
  EXPECT_NE(std::string::npos, wrong_key.error().message.find("another key"));
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findCertificate("f004").error().code);
  EXPECT_FALSE(this->store_->scepTransactionState("", "tx-1", "n3")->nonce_seen);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findDevice("S2").error().code);
}

TYPED_TEST(StoreConformance, OfTwoConcurrentIdenticalGuardsOneCommits) {
  // Both writers start together: a read-then-write check would let both through.
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    const std::string tx = "tx-c" + std::to_string(round);
    std::atomic<int> ready{0};
    std::array<Result<void>, 2> results;
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        auto i = this->issuance("c" + std::to_string(round) + std::to_string(t), "C1");
        i.guard = scepGuard(tx, "same-nonce", "key-c");
        ready.fetch_add(1);
        while (ready.load() < 2) std::this_thread::yield();
        results[static_cast<size_t>(t)] = this->store_->commitIssuance(i);
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_NE(static_cast<bool>(results[0]), static_cast<bool>(results[1])) << "round " << round;
    for (const auto& r : results) {
      if (!r) {
        EXPECT_EQ(pki::ErrorCode::kInvalidArgument, r.error().code) << r.error().toString();
      }
    }
  }
  EXPECT_EQ(kRounds, this->store_->findDevice("C1")->enroll_count);
}

TYPED_TEST(StoreConformance, ConcurrentIssuancesCommitTogetherAndAreRefusedAlone) {
  // Issuances from many threads share transactions (group commit): a refused one (a serial
  // already used, a blocked device) must leave no trace, and must not take the others with it.
  DeviceRecord blocked;
  blocked.id = "BLOCKED";
  blocked.labels = "{}";
  blocked.state = DeviceState::kBlocked;
  ASSERT_TRUE(this->store_->putDevice(blocked));
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("dup0", "G-first")));
  constexpr int kThreads = 12;
  constexpr int kEach = 25;
  std::atomic<int> ready{0};
  std::atomic<int> issued{0};
  std::atomic<int> duplicates{0};
  std::atomic<int> denied{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int n = 0; n < kEach; ++n) {
        const std::string id = std::to_string(t) + "-" + std::to_string(n);
        Issuance i = this->issuance("g" + id, "G-" + id);
        if (n % 5 == 1) i = this->issuance("dup0", "G-" + id);  // the serial is taken
        if (n % 5 == 3) i = this->issuance("b" + id, "BLOCKED");
        auto r = this->store_->commitIssuance(i);
        if (r)
          issued.fetch_add(1);
        else if (r.error().code == pki::ErrorCode::kAlreadyExists)
          duplicates.fetch_add(1);
        else if (r.error().code == pki::ErrorCode::kPermissionDenied)
          denied.fetch_add(1);
        else
          other.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(kThreads * kEach * 3 / 5, issued.load());
  EXPECT_EQ(kThreads * kEach / 5, duplicates.load());
  EXPECT_EQ(kThreads * kEach / 5, denied.load());
  EXPECT_EQ(0, other.load());
  for (int t = 0; t < kThreads; ++t) {
    for (int n = 0; n < kEach; ++n) {
      const std::string id = std::to_string(t) + "-" + std::to_string(n);
      const bool kept = n % 5 != 1 && n % 5 != 3;
      EXPECT_EQ(kept, static_cast<bool>(this->store_->findDevice("G-" + id))) << id;
      EXPECT_EQ(n % 5 != 1 && n % 5 != 3,
                static_cast<bool>(this->store_->findCertificate("g" + id)))
          << id;
      EXPECT_FALSE(this->store_->findCertificate("b" + id)) << id;
    }
  }
  EXPECT_EQ("G-first", this->store_->findCertificate("dup0")->device_id);
  EXPECT_EQ(0, this->store_->findDevice("BLOCKED")->enroll_count);
  // One audit entry per issuance, in one unbroken chain.
  auto entries = this->store_->auditEntries(0, 10000);
  ASSERT_TRUE(entries);
  EXPECT_EQ(static_cast<size_t>(1 + issued.load()), entries->size());
  AuditChainVerifier verifier;
  for (const auto& e : *entries) ASSERT_TRUE(verifier.add(e)) << verifier.reason();
}

TYPED_TEST(StoreConformance, CommitsAHeldRequestWithItsGuard) {
  PendingRecord p;
  p.id = "default/key-p";
  p.device_id = "P1";
  p.transaction_id = "key-p";
  p.csr_der = {0x30, 0x00};
  p.created_at = 150;
  ASSERT_TRUE(this->store_->commitPending(p, scepGuard("tx-p", "n1", "key-p")));
  EXPECT_EQ("key-p", this->store_->scepTransactionKey("", "tx-p").value());
  EXPECT_TRUE(this->store_->findPending("default/key-p"));

  // A held request under a transactionID bound to another key is not recorded at all.
  PendingRecord q = p;
  q.id = "default/key-q";
  auto refused = this->store_->commitPending(q, scepGuard("tx-p", "n2", "key-q"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, refused.error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findPending("default/key-q").error().code);

  // The guard on its own: a second transactionID for the held key, then its replay.
  ASSERT_TRUE(this->store_->commitTransactionGuard(scepGuard("tx-p2", "n3", "key-p")));
  EXPECT_EQ("key-p", this->store_->scepTransactionKey("", "tx-p2").value());
  auto replay = this->store_->commitTransactionGuard(scepGuard("tx-p2", "n3", "key-p"));
  ASSERT_FALSE(replay);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, replay.error().code);
}

TYPED_TEST(StoreConformance, ImportsDevicesIdempotentlyWithoutUndoingEnrollment) {
  std::vector<DeviceRecord> rows(3);
  for (int i = 0; i < 3; ++i) {
    rows[i].id = "R-" + std::to_string(i);
    rows[i].model = "M1";
    rows[i].labels = "{}";
  }
  auto first = this->store_->importDevices(rows, 100);
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_EQ(3, *first);
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("ee01", "R-0")));
  rows[0].model = "M2";
  rows[1].state = DeviceState::kBlocked;
  EXPECT_EQ(0, this->store_->importDevices(rows, 200).value());
  auto enrolled = this->store_->findDevice("R-0");
  EXPECT_EQ("M2", enrolled->model);
  EXPECT_EQ(DeviceState::kEnrolled, enrolled->state);  // the file's "expected" does not undo it
  EXPECT_EQ(1, enrolled->enroll_count);
  EXPECT_EQ(DeviceState::kBlocked, this->store_->findDevice("R-1")->state);
}

// ---- RevocationStore

/** A small fleet: 3 devices in two batches, 5 certificates with varied fields. */
template <typename Store>
void populateFleet(Store& store) {
  auto device = [&](const std::string& id, const std::string& model, const std::string& batch,
                    const std::string& line, const std::string& labels) {
    DeviceRecord d;
    d.id = id;
    d.model = model;
    d.batch = batch;
    d.product_line = line;
    d.labels = labels;
    ASSERT_TRUE(store.putDevice(d));
  };
  device("D1", "M1", "B1", "PL1", R"({"site":"north","tier":"gold"})");
  device("D2", "M2", "B1", "PL1", R"({"site":"south"})");
  device("D3", "M1", "B2", "PL2", "not json");
  auto issue = [&](const std::string& serial, const std::string& dev, const std::string& label,
                   const std::string& bootstrap_ca, const std::string& station,
                   std::time_t issued_at, std::time_t not_after) {
    Issuance i;
    auto& c = i.certificate;
    c.serial = serial;
    c.issuer = "issuing";
    c.device_id = dev;
    c.label = label;
    c.subject = "CN=" + dev;
    c.not_before = issued_at;
    c.not_after = not_after;
    c.issued_at = issued_at;
    c.bootstrap_ca = bootstrap_ca;
    c.station = station;
    c.der = {0x30, 0x00};
    i.event = EnrollmentEvent{issued_at, "est", label, "enroll", dev, "p", "issued", serial, ""};
    ASSERT_TRUE(store.commitIssuance(i));
  };
  issue("a1", "D1", "", "ca-x", "", 1000, 5000);
  issue("a2", "D1", "line", "ca-x", "st1", 2000, 6000);
  issue("b1", "D2", "", "ca-y", "st1", 3000, 7000);
  issue("c1", "D3", "line", "ca-y", "", 4000, 8000);
  issue("c2", "D3", "", "", "", 5000, 9000);
}

std::vector<std::string> serialsOf(const std::vector<CertificateRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.serial);
  return out;
}

TYPED_TEST(StoreConformance, SelectsCertificatesByEveryField) {
  populateFleet(*this->store_);
  auto select = [&](const CertificateSelector& sel) {
    auto got = this->store_->listCertificates(sel, 100, "");
    EXPECT_TRUE(got) << got.error().toString();
    auto n = this->store_->countCertificates(sel);
    EXPECT_EQ(static_cast<int64_t>(got->size()), n.value());
    return serialsOf(*got);
  };
  using V = std::vector<std::string>;
  CertificateSelector s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ((V{"a1", "a2", "b1", "c1", "c2"}), select(s));
  s = {};
  s.serials = {"a2", "c1", "zz"};
  EXPECT_FALSE(s.empty());
  EXPECT_EQ((V{"a2", "c1"}), select(s));
  s = {};
  s.device_ids = {"D1", "D2"};
  EXPECT_EQ((V{"a1", "a2", "b1"}), select(s));
  s = {};
  s.model = "M1";
  EXPECT_EQ((V{"a1", "a2", "c1", "c2"}), select(s));
  s = {};
  s.batch = "B1";
  EXPECT_EQ((V{"a1", "a2", "b1"}), select(s));
  s = {};
  s.product_line = "PL2";
  EXPECT_EQ((V{"c1", "c2"}), select(s));
  s = {};
  s.device_labels = {{"site", "north"}};
  EXPECT_EQ((V{"a1", "a2"}), select(s));
  s.device_labels = {{"site", "north"}, {"tier", "silver"}};
  EXPECT_EQ(V{}, select(s));
  s = {};
  s.label = "line";
  EXPECT_EQ((V{"a2", "c1"}), select(s));
  s.label = "default";
  EXPECT_EQ((V{"a1", "b1", "c2"}), select(s));
  s = {};
  s.bootstrap_ca = "ca-y";
  EXPECT_EQ((V{"b1", "c1"}), select(s));
  s = {};
  s.station = "st1";
  EXPECT_EQ((V{"a2", "b1"}), select(s));
  s = {};
  s.issued_from = 2000;
  s.issued_to = 4000;
  EXPECT_EQ((V{"a2", "b1"}), select(s));
  s = {};
  s.expiring_before = 7000;
  EXPECT_EQ((V{"a1", "a2"}), select(s));
  s = {};
  s.status = CertStatus::kRevoked;
  EXPECT_EQ(V{}, select(s));
  // Fields combine with AND.
  s = {};
  s.model = "M1";
  s.station = "st1";
  EXPECT_EQ(V{"a2"}, select(s));
  // Keyset pagination.
  s = {};
  EXPECT_EQ((V{"a1", "a2"}), serialsOf(this->store_->listCertificates(s, 2, "").value()));
  EXPECT_EQ((V{"b1", "c1"}), serialsOf(this->store_->listCertificates(s, 2, "a2").value()));
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument,
            this->store_->listCertificates(s, 0, "").error().code);
}

TYPED_TEST(StoreConformance, ChangesStatusInChunksOnlyWhereItChanges) {
  populateFleet(*this->store_);
  CertificateSelector all;
  all.issued_from = 1;
  StatusChange revoke{CertStatus::kRevoked, 1, 777};
  auto r0 = this->store_->revocationRevision().value();
  auto first = this->store_->changeCertificateStatus(all, revoke, "", 2);
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_EQ(2, first->changed);
  EXPECT_FALSE(first->cursor.empty());
  EXPECT_GT(first->revision, r0);
  auto second = this->store_->changeCertificateStatus(all, revoke, first->cursor, 2);
  EXPECT_EQ(2, second->changed);
  auto third = this->store_->changeCertificateStatus(all, revoke, second->cursor, 2);
  EXPECT_EQ(1, third->changed);
  auto done = this->store_->changeCertificateStatus(all, revoke, third->cursor, 2);
  EXPECT_EQ(0, done->changed);
  EXPECT_EQ("", done->cursor);
  auto c = this->store_->findCertificate("b1").value();
  EXPECT_EQ(CertStatus::kRevoked, c.status);
  EXPECT_EQ(777, c.revoked_at);
  EXPECT_EQ(1, c.revocation_reason);
  // Idempotent: nothing left to change, the revision does not move.
  auto r1 = this->store_->revocationRevision().value();
  auto again = this->store_->changeCertificateStatus(all, revoke, "", 100);
  EXPECT_EQ(0, again->changed);
  EXPECT_EQ(r1, this->store_->revocationRevision().value());
  // Hold applies to good certificates only; release to held ones only.
  CertificateSelector d3;
  d3.device_ids = {"D3"};
  ASSERT_TRUE(this->store_->setCertificateStatus("c2", CertStatus::kGood, 0, 0));
  EXPECT_EQ(
      1, this->store_->changeCertificateStatus(d3, {CertStatus::kHold, 6, 900}, "", 10)->changed);
  EXPECT_EQ(CertStatus::kRevoked, this->store_->findCertificate("c1")->status);
  EXPECT_EQ(
      1, this->store_->changeCertificateStatus(d3, {CertStatus::kGood, 0, 950}, "", 10)->changed);
  auto released = this->store_->findCertificate("c2").value();
  EXPECT_EQ(CertStatus::kGood, released.status);
  EXPECT_EQ(0, released.revoked_at);
}

TYPED_TEST(StoreConformance, ReportsRevokedEntriesDeltasAndStatus) {
  populateFleet(*this->store_);
  ASSERT_TRUE(this->store_->setCertificateStatus("a1", CertStatus::kRevoked, 1, 100));
  int64_t base = this->store_->revocationRevision().value();
  ASSERT_TRUE(this->store_->setCertificateStatus("b1", CertStatus::kHold, 6, 200));
  ASSERT_TRUE(this->store_->setCertificateStatus("a2", CertStatus::kHold, 6, 300));
  ASSERT_TRUE(this->store_->setCertificateStatus("a2", CertStatus::kGood, 0, 0));
  auto revoked = this->store_->revokedEntries("issuing", 0).value();
  EXPECT_EQ(2u, revoked.size());
  EXPECT_TRUE(this->store_->revokedEntries("other", 0)->empty());
  EXPECT_EQ(1u, this->store_->revokedEntries("issuing", 6000)->size());  // a1 expired at 5000
  auto changes = this->store_->statusChangesSince("issuing", base).value();
  ASSERT_EQ(2u, changes.size());
  for (const auto& e : changes) {
    if (e.serial == "a2") {
      EXPECT_EQ(CertStatus::kGood, e.status);  // released: removeFromCRL
    } else {
      EXPECT_EQ("b1", e.serial);
      EXPECT_EQ(CertStatus::kHold, e.status);
    }
  }
  auto st = this->store_->certificateStatus("a1").value();
  EXPECT_EQ("issuing", st.issuer);
  EXPECT_EQ(CertStatus::kRevoked, st.status);
  EXPECT_EQ(100, st.revoked_at);
  EXPECT_EQ(1, st.reason);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->certificateStatus("ff").error().code);
  EXPECT_EQ("ca-x", this->store_->findCertificate("a1")->bootstrap_ca);
}

TYPED_TEST(StoreConformance, BlocksTheDevicesOfSelectedCertificates) {
  populateFleet(*this->store_);
  CertificateSelector b1;
  b1.batch = "B1";
  EXPECT_EQ(2, this->store_->blockDevices(b1, 50).value());
  EXPECT_EQ(DeviceState::kBlocked, this->store_->findDevice("D1")->state);
  EXPECT_EQ(DeviceState::kBlocked, this->store_->findDevice("D2")->state);
  EXPECT_EQ(DeviceState::kEnrolled, this->store_->findDevice("D3")->state);
  EXPECT_EQ(0, this->store_->blockDevices(b1, 60).value());  // idempotent
}

TYPED_TEST(StoreConformance, BlocksRegistryDevicesNotYetEnrolledWhenTheSelectorNamesDevicesOnly) {
  populateFleet(*this->store_);
  for (const char* id : {"D4", "D5", "D6"}) {  // registered, never enrolled
    DeviceRecord d;
    d.id = id;
    d.model = "M1";
    d.batch = std::string(id) == "D6" ? "B3" : "B2";
    d.labels = std::string(id) == "D5" ? R"({"site":"north"})" : "{}";
    ASSERT_TRUE(this->store_->putDevice(d));
  }
  // A certificate property (the label): only devices with such a certificate.
  CertificateSelector by_label;
  by_label.batch = "B2";
  by_label.label = "line";
  EXPECT_EQ(1, this->store_->blockDevices(by_label, 50).value());  // D3 (c1)
  EXPECT_EQ(DeviceState::kExpected, this->store_->findDevice("D4")->state);
  // Registry fields only: every matching device, enrolled or not.
  CertificateSelector b2;
  b2.batch = "B2";
  EXPECT_EQ(2, this->store_->blockDevices(b2, 60).value());  // D4, D5 (D3 already blocked)
  EXPECT_EQ(DeviceState::kBlocked, this->store_->findDevice("D4")->state);
  EXPECT_EQ(DeviceState::kBlocked, this->store_->findDevice("D5")->state);
  EXPECT_EQ(DeviceState::kExpected, this->store_->findDevice("D6")->state);
  CertificateSelector north;
  north.device_labels["site"] = "north";
  EXPECT_EQ(1, this->store_->blockDevices(north, 70).value());  // D1 (D5 already blocked)
  CertificateSelector ids;
  ids.device_ids = {"D6", "D2", "NOT-REGISTERED"};
  EXPECT_EQ(2, this->store_->blockDevices(ids, 80).value());
  EXPECT_EQ(DeviceState::kBlocked, this->store_->findDevice("D6")->state);
  EXPECT_EQ(80, this->store_->findDevice("D6")->updated_at);
}

TYPED_TEST(StoreConformance, NumbersCrlsMonotonicallyAndKeepsTheBase) {
  EXPECT_EQ(0, this->store_->crlState("issuing")->crl_number);
  EXPECT_EQ(1, this->store_->nextCrlNumber("issuing").value());
  EXPECT_EQ(2, this->store_->nextCrlNumber("issuing").value());
  EXPECT_EQ(1, this->store_->nextCrlNumber("other").value());
  ASSERT_TRUE(this->store_->setCrlBase("issuing", 2, 7, 1000));
  ASSERT_TRUE(this->store_->setCrlBase("issuing", 1, 3, 2000));  // never backwards
  auto st = this->store_->crlState("issuing").value();
  EXPECT_EQ(2, st.crl_number);
  EXPECT_EQ(2, st.base_number);
  EXPECT_EQ(7, st.base_revision);
  EXPECT_EQ(1000, st.base_at);
  this->store_.reset();  // persisted
  auto again = this->backend_->open();
  EXPECT_EQ(3, (*again)->nextCrlNumber("issuing").value());
}

TEST(SqliteDialect, KeepsStatementsPreparedAndReportsErrorsAsPocoDoes) {
  enroll::testing::TempDir dir;
  SqliteDialect dialect;
  dialect.registerConnector();
  Poco::Data::Session s("SQLite", dir.path() + "/dialect.db");
  s << "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, body BLOB)", Poco::Data::Keywords::now;
  const std::string insert = "INSERT INTO t (id, n, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
  const uint8_t bytes[] = {0x00, 0x01, 0xFF};
  for (int i = 0; i < 3; ++i) {
    const std::string id = "row-" + std::to_string(i);
    EXPECT_EQ(1U, dialect.execute(s, insert, {id, int64_t{40} + i, SqlBlob{bytes, sizeof bytes}}));
  }
  EXPECT_EQ(0U, dialect.execute(s, insert, {"row-1", int64_t{7}, SqlBlob{bytes, 0}}));  // kept
  EXPECT_EQ(1U, dialect.execute(s, insert, {"", int64_t{0}, SqlBlob{bytes, 0}}));  // "" is not NULL
  auto row = dialect.queryRow(s, "SELECT n, id, length(body), NULL FROM t WHERE id = ?", {"row-2"});
  ASSERT_TRUE(row);
  ASSERT_EQ(4U, row->size());
  EXPECT_EQ(SqlField{int64_t{42}}, row->at(0));
  EXPECT_EQ(SqlField{std::string("row-2")}, row->at(1));
  EXPECT_EQ(SqlField{int64_t{3}}, row->at(2));
  EXPECT_EQ(SqlField{}, row->at(3));
  EXPECT_EQ(SqlField{int64_t{1}},
            dialect.queryRow(s, "SELECT COUNT(*) FROM t WHERE id = ?", {""})->at(0));
  EXPECT_FALSE(dialect.queryRow(s, "SELECT n FROM t WHERE id = ?", {"none"}));
  // A unique violation is POCO's ConstraintViolationException (AlreadyExists to the store), and
  // the statement that failed runs again afterwards.
  const std::string strict = "INSERT INTO t (id, n) VALUES (?, ?)";
  try {
    dialect.execute(s, strict, {"row-0", int64_t{1}});
    ADD_FAILURE() << "a duplicate key was inserted";
  } catch (const Poco::Exception& e) {
    EXPECT_EQ(pki::ErrorCode::kAlreadyExists, dialect.classify(e)) << e.displayText();
  }
  EXPECT_EQ(1U, dialect.execute(s, strict, {"row-9", int64_t{1}}));
  EXPECT_THROW(dialect.execute(s, "INSERT INTO nowhere VALUES (?)", {int64_t{1}}), Poco::Exception);
  dialect.forgetSession(s);
  s.close();
}

TEST(SqliteStore, ClosesItsConnectionsWithTheirPreparedStatements) {
  // SQLite removes the write-ahead log when the last connection to a database closes; a
  // connection kept open by a statement never finalized would leave it behind.
  enroll::testing::TempDir dir;
  const std::string path = dir.path() + "/store.db";
  {
    auto store = openSqliteStore(path);
    ASSERT_TRUE(store) << store.error().toString();
    for (int i = 0; i < 20; ++i) {
      Issuance issuance;
      issuance.certificate.serial = "cc" + std::to_string(i);
      issuance.certificate.issuer = "issuing";
      issuance.certificate.device_id = "D" + std::to_string(i % 3);
      issuance.certificate.der = {0x30, 0x00};
      issuance.event = EnrollmentEvent{150,
                                       "est",
                                       "",
                                       "enroll",
                                       issuance.certificate.device_id,
                                       "127.0.0.1:1",
                                       "issued",
                                       issuance.certificate.serial,
                                       ""};
      ASSERT_TRUE((*store)->commitIssuance(issuance));
    }
    EXPECT_TRUE(Poco::File(path + "-wal").exists());
  }
  EXPECT_FALSE(Poco::File(path + "-wal").exists());
}

TEST(SqliteStore, ReportsAnUnopenableDatabaseAsUnavailable) {
  auto s = openSqliteStore("/nonexistent-folder/x/y.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(pki::ErrorCode::kUnavailable, s.error().code);
}

TYPED_TEST(StoreConformance, ListsDevicesByRegistryFieldsAndLabelsPageByPage) {
  std::vector<DeviceRecord> devices;
  for (int i = 0; i < 5; ++i) {
    DeviceRecord d;
    d.id = "DEV-" + std::to_string(i);
    d.model = i < 3 ? "M1" : "M2";
    d.batch = i % 2 == 0 ? "B-even" : "B-odd";
    d.product_line = "sensors";
    d.labels = i == 4 ? R"({"site":"lyon","tier":"gold"})" : R"({"site":"oslo"})";
    devices.push_back(d);
  }
  ASSERT_TRUE(this->store_->importDevices(devices, 10));
  DeviceFilter f;
  f.model = "M1";
  auto m1 = this->store_->listDevices(f);
  ASSERT_TRUE(m1) << m1.error().toString();
  EXPECT_EQ(3U, m1->size());
  f.batch = "B-even";
  EXPECT_EQ(2U, this->store_->listDevices(f)->size());
  DeviceFilter by_label;
  by_label.labels["site"] = "lyon";
  auto lyon = this->store_->listDevices(by_label);
  ASSERT_TRUE(lyon) << lyon.error().toString();
  ASSERT_EQ(1U, lyon->size());
  EXPECT_EQ("DEV-4", lyon->front().id);
  DeviceFilter page;
  page.limit = 2;
  auto first = this->store_->listDevices(page);
  ASSERT_EQ(2U, first->size());
  page.after_id = first->back().id;
  auto second = this->store_->listDevices(page);
  ASSERT_EQ(2U, second->size());
  EXPECT_EQ("DEV-2", second->front().id);
  DeviceFilter bad;
  bad.labels["x'); DROP TABLE devices; --"] = "1";
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, this->store_->listDevices(bad).error().code);
  bad = DeviceFilter{};
  bad.state = "lost";
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, this->store_->listDevices(bad).error().code);
}

TYPED_TEST(StoreConformance, SetsADeviceStateAndFiltersOnIt) {
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("aa01", "D1")));
  ASSERT_TRUE(this->store_->setDeviceState("D1", DeviceState::kBlocked, 300));
  EXPECT_EQ(DeviceState::kBlocked, this->store_->findDevice("D1")->state);
  DeviceFilter f;
  f.state = "blocked";
  EXPECT_EQ(1U, this->store_->listDevices(f)->size());
  EXPECT_EQ(pki::ErrorCode::kNotFound,
            this->store_->setDeviceState("nope", DeviceState::kBlocked, 300).error().code);
}

TYPED_TEST(StoreConformance, IssuesNothingToADeviceBlockedMeanwhile) {
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("aa01", "D1")));
  ASSERT_TRUE(this->store_->setDeviceState("D1", DeviceState::kBlocked, 300));
  auto refused = this->store_->commitIssuance(this->issuance("aa02", "D1"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(pki::ErrorCode::kPermissionDenied, refused.error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->findCertificate("aa02").error().code);
  auto d = this->store_->findDevice("D1");
  EXPECT_EQ(DeviceState::kBlocked, d->state);
  EXPECT_EQ(1, d->enroll_count);
}

TYPED_TEST(StoreConformance, PinsOperatorsByCertificate) {
  ASSERT_TRUE(this->store_->addOperator({"alice", "ab12", Role::kOperator, 5}));
  auto alice = this->store_->findOperatorByCertificate("ab12");
  ASSERT_TRUE(alice);
  EXPECT_EQ("alice", alice->name);
  EXPECT_EQ(Role::kOperator, alice->role);
  EXPECT_EQ(pki::ErrorCode::kAlreadyExists,
            this->store_->addOperator({"bob", "ab12", Role::kViewer, 5}).error().code);
  EXPECT_EQ(1U, this->store_->listOperators()->size());
  ASSERT_TRUE(this->store_->removeOperator("alice"));
  EXPECT_EQ(pki::ErrorCode::kNotFound,
            this->store_->findOperatorByCertificate("ab12").error().code);
  EXPECT_EQ(pki::ErrorCode::kNotFound, this->store_->removeOperator("alice").error().code);
}

TYPED_TEST(StoreConformance, ChainsIssuancesRefusalsAndAdminActionsInTheAuditLog) {
  ASSERT_TRUE(this->store_->commitIssuance(this->issuance("aa01", "D1")));
  ASSERT_TRUE(this->store_->appendEvent(
      {160, "scep", "", "PKCSReq", "D2", "127.0.0.1:2", "PermissionDenied", "", "bad challenge"}));
  AuditEntry admin;
  admin.at = 170;
  admin.actor = "operator:alice";
  admin.action = "tokens.create";
  admin.target = "line-1";
  admin.outcome = "ok";
  admin.detail = R"({"count":5})";
  auto appended = this->store_->appendAudit(admin);
  ASSERT_TRUE(appended) << appended.error().toString();
  EXPECT_EQ(3, appended->seq);

  auto entries = this->store_->auditEntries(0, 100);
  ASSERT_TRUE(entries);
  ASSERT_EQ(3U, entries->size());
  EXPECT_EQ("device:D1", (*entries)[0].actor);
  EXPECT_EQ("issued", (*entries)[0].outcome);
  EXPECT_EQ("PermissionDenied", (*entries)[1].outcome);
  AuditChainVerifier verifier;
  for (const auto& e : *entries) EXPECT_TRUE(verifier.add(e)) << verifier.reason();
  EXPECT_EQ(3, verifier.lastSeq());
  EXPECT_EQ(1U, this->store_->auditEntries(2, 100)->size());

  // A changed field or a missing entry breaks the chain where it happened.
  auto changed = *entries;
  changed[1].outcome = "issued";
  AuditChainVerifier v1;
  EXPECT_TRUE(v1.add(changed[0]));
  EXPECT_FALSE(v1.add(changed[1]));
  EXPECT_NE(std::string::npos, v1.reason().find("entry 2 was modified"));
  AuditChainVerifier v2;
  EXPECT_TRUE(v2.add((*entries)[0]));
  EXPECT_FALSE(v2.add((*entries)[2]));
  EXPECT_NE(std::string::npos, v2.reason().find("entry 2 is missing"));
}

}  // namespace
}  // namespace enroll::store
