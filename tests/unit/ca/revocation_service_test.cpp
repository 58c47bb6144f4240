#include "server/ca/revocation_service.h"

#include "tests/unit/ca/revocation_fixture.h"

namespace enroll::ca {
namespace {

using store::CertStatus;

class RevocationService : public testing::RevocationFixture {
 protected:
  void SetUp() override {
    RevocationFixture::SetUp();
    for (int i = 1; i <= 5; ++i) issue("a" + std::to_string(i), "D" + std::to_string(i), "B1");
    issue("b1", "X1", "B2");
  }
  RevocationRequest batch(const std::string& b) {
    RevocationRequest r;
    r.selector.batch = b;
    return r;
  }
  CertStatus statusOf(const std::string& serial) { return store_->findCertificate(serial)->status; }
};

TEST_F(RevocationService, RefusesAnEmptySelector) {
  ca::RevocationService service(*store_, clock_);
  auto r = service.run(RevocationRequest{}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, r.error().code);
}

TEST_F(RevocationService, RefusesReasonsThatAreNotRevocations) {
  ca::RevocationService service(*store_, clock_);
  for (int reason : {6, 7, 8, 11, -1}) {
    auto r = batch("B1");
    r.reason = reason;
    auto got = service.run(r, {});
    ASSERT_FALSE(got) << reason;
    EXPECT_EQ(pki::ErrorCode::kInvalidArgument, got.error().code);
  }
  auto release = batch("B1");
  release.action = RevocationAction::kRelease;
  release.block_devices = true;
  EXPECT_FALSE(service.run(release, {}));
  EXPECT_EQ(CertStatus::kGood, statusOf("a1"));
}

TEST_F(RevocationService, DryRunCountsAndSamplesWithoutChanging) {
  ca::RevocationService service(*store_, clock_);
  auto r = batch("B1");
  r.dry_run = true;
  r.block_devices = true;
  auto got = service.run(r, {});
  ASSERT_TRUE(got) << got.error().toString();
  EXPECT_EQ(5, got->matched);
  EXPECT_EQ(0, got->changed);
  EXPECT_EQ(5u, got->sample.size());
  EXPECT_EQ(CertStatus::kGood, statusOf("a1"));
  EXPECT_EQ(store::DeviceState::kEnrolled, store_->findDevice("D1")->state);
}

TEST_F(RevocationService, RevokesInChunksWithProgressAndARepeatChangesNothing) {
  ca::RevocationService service(*store_, clock_, 2);
  auto r = batch("B1");
  r.reason = 1;
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto got = service.run(r, [&](int64_t done, int64_t total) {
    calls.emplace_back(done, total);
    return true;
  });
  ASSERT_TRUE(got) << got.error().toString();
  EXPECT_EQ(5, got->matched);
  EXPECT_EQ(5, got->changed);
  EXPECT_TRUE(got->completed);
  ASSERT_EQ(4u, calls.size());  // before, then after chunks of 2, 2, 1
  EXPECT_EQ(std::make_pair(int64_t{0}, int64_t{5}), calls.front());
  EXPECT_EQ(std::make_pair(int64_t{5}, int64_t{5}), calls.back());
  auto c = store_->findCertificate("a3").value();
  EXPECT_EQ(CertStatus::kRevoked, c.status);
  EXPECT_EQ(1, c.revocation_reason);
  EXPECT_EQ(clock_.now(), c.revoked_at);
  EXPECT_EQ(CertStatus::kGood, statusOf("b1"));
  clock_.advance(100);
  auto again = service.run(r, {});
  EXPECT_EQ(5, again->matched);
  EXPECT_EQ(0, again->changed);
  EXPECT_EQ(c.revoked_at, store_->findCertificate("a3")->revoked_at);  // first revocation kept
}

TEST_F(RevocationService, StopsBetweenChunksAndARerunFinishesTheJob) {
  ca::RevocationService service(*store_, clock_, 2);
  int calls = 0;
  auto got = service.run(batch("B1"), [&](int64_t, int64_t) { return ++calls < 2; });
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->completed);
  EXPECT_EQ(2, got->changed);
  auto rest = service.run(batch("B1"), {});
  EXPECT_TRUE(rest->completed);
  EXPECT_EQ(3, rest->changed);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(CertStatus::kRevoked, statusOf("a" + std::to_string(i)));
}

TEST_F(RevocationService, HoldsThenReleases) {
  ca::RevocationService service(*store_, clock_);
  auto hold = batch("B2");
  hold.action = RevocationAction::kHold;
  EXPECT_EQ(1, service.run(hold, {})->changed);
  auto held = store_->findCertificate("b1").value();
  EXPECT_EQ(CertStatus::kHold, held.status);
  EXPECT_EQ(6, held.revocation_reason);
  auto release = batch("B2");
  release.action = RevocationAction::kRelease;
  EXPECT_EQ(1, service.run(release, {})->changed);
  EXPECT_EQ(CertStatus::kGood, statusOf("b1"));
  EXPECT_EQ(0, service.run(release, {})->changed);
  // A revoked certificate is neither held nor released.
  ASSERT_TRUE(store_->setCertificateStatus("b1", CertStatus::kRevoked, 1, 5));
  EXPECT_EQ(0, service.run(hold, {})->changed);
  EXPECT_EQ(0, service.run(release, {})->changed);
  EXPECT_EQ(CertStatus::kRevoked, statusOf("b1"));
}

TEST_F(RevocationService, BlocksTheDevicesOfWhatItRevokes) {
  ca::RevocationService service(*store_, clock_);
  auto r = batch("B2");
  r.block_devices = true;
  auto got = service.run(r, {});
  EXPECT_EQ(1, got->devices_blocked);
  EXPECT_EQ(store::DeviceState::kBlocked, store_->findDevice("X1")->state);
  EXPECT_EQ(store::DeviceState::kEnrolled, store_->findDevice("D1")->state);
}

TEST_F(RevocationService, SelectsSerialsWrittenAnyWay) {
  ca::RevocationService service(*store_, clock_);
  RevocationRequest r;
  r.selector.serials = {"00A1", "0xa2", "a2"};
  auto got = service.run(r, {});
  ASSERT_TRUE(got) << got.error().toString();
  EXPECT_EQ(2, got->changed);
  r.selector.serials = {"not-hex"};
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, service.run(r, {}).error().code);
}

TEST(CrlReason, ParsesRfc5280NamesAndCodes) {
  EXPECT_EQ(1, parseCrlReason("keyCompromise").value());
  EXPECT_EQ(5, parseCrlReason("cessationofoperation").value());
  EXPECT_EQ(4, parseCrlReason("4").value());
  EXPECT_FALSE(parseCrlReason("7"));
  EXPECT_FALSE(parseCrlReason("stolen"));
  EXPECT_EQ("superseded", crlReasonName(4));
}

}  // namespace
}  // namespace enroll::ca
