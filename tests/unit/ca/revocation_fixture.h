#pragma once
/** Shared by the revocation unit tests: a SQLite store, a real issuing CA, issued records. */
#include <gtest/gtest.h>

#include "pki/clock.h"
#include "server/ca/certificate_authority.h"
#include "server/store/sqlite/sqlite_dialect.h"
#include "tests/support/enrolld_process.h"
#include "tests/support/test_ca.h"

namespace enroll::testing {

class RevocationFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::openSqliteStore(dir_.path() + "/store.db", 10000, false);
    ASSERT_TRUE(s) << s.error().toString();
    store_ = std::move(s).value();
    root_ = makeTestCa("Test Root");
    issuing_ = makeTestCa("Test Issuing", &root_);
    auto ca =
        ca::CertificateAuthority::create("issuing", {issuing_.cert, root_.cert}, issuing_.key);
    ASSERT_TRUE(ca) << ca.error().toString();
    ca_ = *ca;
  }

  /** Commits a certificate record (serial in hex) for a device. */
  void issue(const std::string& serial, const std::string& device, const std::string& batch = "",
             const std::string& issuer = "issuing") {
    if (!batch.empty()) {
      store::DeviceRecord d;
      d.id = device;
      d.batch = batch;
      d.labels = "{}";
      ASSERT_TRUE(store_->putDevice(d));
    }
    store::Issuance i;
    auto& c = i.certificate;
    c.serial = serial;
    c.issuer = issuer;
    c.device_id = device;
    c.subject = "CN=" + device;
    c.not_before = clock_.now() - 10;
    c.not_after = clock_.now() + 86400 * 30;
    c.issued_at = clock_.now();
    c.der = {0x30, 0x00};
    i.event =
        store::EnrollmentEvent{c.issued_at, "est", "", "enroll", device, "", "issued", serial, ""};
    ASSERT_TRUE(store_->commitIssuance(i));
  }

  TempDir dir_;
  pki::FixedClock clock_{std::time(nullptr)};
  std::unique_ptr<store::Store> store_;
  KeyedCert root_{makeTestCa("unused")};
  KeyedCert issuing_{makeTestCa("unused")};
  std::shared_ptr<ca::CertificateAuthority> ca_;
};

}  // namespace enroll::testing
