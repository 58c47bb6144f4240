#pragma once
/**
 * Test support: the real issuance core (SQLite store in a temporary folder, a fixed clock,
 * a root + issuing CA, a manufacturer CA with bootstrap certificates) without any transport.
 */
#include <gtest/gtest.h>

#include <memory>

#include "pki/clock.h"
#include "provisioning/authorizer.h"
#include "server/ca/enrollment_service.h"
#include "server/store/sqlite/sqlite_dialect.h"
#include "tests/support/enrolld_process.h"
#include "tests/support/test_ca.h"

namespace enroll::testing {

class CoreFixture : public ::testing::Test {
 protected:
  static constexpr std::time_t kNow = 1893456000;  // 2030-01-01T00:00:00Z

  void SetUp() override {
    root_ = std::make_unique<KeyedCert>(
        makeTestCa("Test Root", nullptr, kNow - 86400, kNow + 20 * 365 * 86400L));
    issuing_ = std::make_unique<KeyedCert>(
        makeTestCa("Test Issuing", root_.get(), kNow - 86400, kNow + 10 * 365 * 86400L));
    maker_ = std::make_unique<KeyedCert>(
        makeTestCa("Maker CA", nullptr, kNow - 86400, kNow + 20 * 365 * 86400L));
    boot_ = std::make_unique<KeyedCert>(
        makeTestLeaf("serialNumber=DEV-1,CN=DEV-1", *maker_, kNow - 3600, kNow + 365 * 86400L));
    auto store = store::openSqliteStore(dir_.path() + "/test.db");
    ASSERT_TRUE(store) << store.error().toString();
    store_ = std::move(store).value();
    auto trust = std::make_shared<provisioning::TrustStore>();
    ASSERT_TRUE(trust->add({"maker", {maker_->cert}, {}}));
    authorizer_ = std::make_unique<provisioning::Authorizer>(trust, *store_, clock_);
    ca_ =
        *ca::CertificateAuthority::create("issuing", {issuing_->cert, root_->cert}, issuing_->key);
    service_ = std::make_unique<ca::EnrollmentService>(makeLabels(), *authorizer_, *store_, clock_);
  }

  /** The default label, plus labels tests change through edit(). */
  std::shared_ptr<ca::LabelMap> makeLabels() {
    auto labels = std::make_shared<ca::LabelMap>();
    ca::Label def;
    def.name = "";
    def.ca = ca_;
    def.policy.bootstrap_trust = {"maker"};
    def.policy.allow_basic = true;
    (*labels)[""] = def;
    return labels;
  }

  /** Changes the default label's settings. */
  template <typename Fn>
  void editDefault(Fn fn) {
    auto labels = makeLabels();
    fn((*labels)[""]);
    service_->setLabels(labels);
  }

  enrollment::EnrollmentRequest bootstrapRequest(const KeyedCert& boot, const pki::PrivateKey& key,
                                                 const std::string& subject = "CN=DEV-1") {
    enrollment::EnrollmentRequest r{enrollment::Protocol::kEst,
                                    "",
                                    enrollment::Operation::kEnroll,
                                    makeTestCsr(subject, key),
                                    {},
                                    std::nullopt,
                                    {}};
    r.credentials.tls_chain = {boot.cert};
    return r;
  }

  pki::Certificate enrollOnce(const pki::PrivateKey& key) {
    auto r = service_->enroll(bootstrapRequest(*boot_, key));
    EXPECT_TRUE(r) << (r ? "" : r.error().toString());
    return *r->certificate;
  }

  TempDir dir_;
  pki::FixedClock clock_{kNow};
  std::unique_ptr<KeyedCert> root_, issuing_, maker_, boot_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<provisioning::Authorizer> authorizer_;
  std::shared_ptr<ca::CertificateAuthority> ca_;
  std::unique_ptr<ca::EnrollmentService> service_;
};

}  // namespace enroll::testing
