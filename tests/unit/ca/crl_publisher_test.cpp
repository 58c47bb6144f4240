#include "server/ca/crl_publisher.h"

#include <chrono>
#include <thread>

#include "tests/unit/ca/revocation_fixture.h"

namespace enroll::ca {
namespace {

using store::CertStatus;

/** A parsed CRL, checked against the CA's key. */
struct ParsedCrl {
  pki::UniquePtr<X509_CRL> crl;
  int64_t number = -1;
  int64_t delta_base = -1;  ///< -1: not a delta CRL

  /** The reason of an entry; -2 when the serial is not listed, -1 when it has no reason. */
  int reasonOf(const std::string& hex) const {
    STACK_OF(X509_REVOKED)* all = X509_CRL_get_REVOKED(crl.get());
    for (int i = 0; i < sk_X509_REVOKED_num(all); ++i) {
      X509_REVOKED* r = sk_X509_REVOKED_value(all, i);
      pki::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), nullptr));
      char* text = BN_bn2hex(bn.get());
      std::string got(text);
      OPENSSL_free(text);
      for (auto& c : got) c = static_cast<char>(std::tolower(c));
      if (got != hex) continue;
      pki::UniquePtr<ASN1_STRING> reason(
          static_cast<ASN1_STRING*>(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, nullptr, nullptr)));
      return reason ? static_cast<int>(ASN1_ENUMERATED_get(reason.get())) : -1;
    }
    return -2;
  }
  int entries() const { return std::max(0, sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get()))); }
};

ParsedCrl parse(const PublishedCrl& published, const pki::Certificate& ca) {
  ParsedCrl out;
  const unsigned char* p = published.der.data();
  out.crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(published.der.size())));
  EXPECT_TRUE(out.crl);
  if (!out.crl) return out;
  EXPECT_EQ(1, X509_CRL_verify(out.crl.get(), ca.publicKey()));
  pki::UniquePtr<ASN1_STRING> number(static_cast<ASN1_STRING*>(
      X509_CRL_get_ext_d2i(out.crl.get(), NID_crl_number, nullptr, nullptr)));
  if (number) ASN1_INTEGER_get_int64(&out.number, number.get());
  int crit = -1;
  pki::UniquePtr<ASN1_STRING> base(static_cast<ASN1_STRING*>(
      X509_CRL_get_ext_d2i(out.crl.get(), NID_delta_crl, &crit, nullptr)));
  if (base) {
    ASN1_INTEGER_get_int64(&out.delta_base, base.get());
    EXPECT_EQ(1, crit);  // RFC 5280 5.2.4: critical
  }
  return out;
}

class CrlPublisherTest : public testing::RevocationFixture {
 protected:
  void SetUp() override {
    RevocationFixture::SetUp();
    issue("a1", "D1");
    issue("a2", "D2");
    issue("a3", "D3");
    settings_.next_update_seconds = 1000;
    settings_.delta_next_update_seconds = 100;
    settings_.delta_base_seconds = 10000;
    settings_.poll_milliseconds = 20;
    settings_.base_url = "http://pki.example:8080/";
  }
  ParsedCrl full(const CrlPublisher& p) {
    return parse(*p.fullCrl("issuing").value(), issuing_.cert);
  }
  ParsedCrl delta(const CrlPublisher& p) {
    return parse(*p.deltaCrl("issuing").value(), issuing_.cert);
  }
  CrlSettings settings_;
};

TEST_F(CrlPublisherTest, PublishesAFullAndADeltaCrlWithPersistedNumbers) {
  {
    CrlPublisher publisher({ca_}, *store_, clock_, settings_);
    EXPECT_EQ(pki::ErrorCode::kUnavailable, publisher.fullCrl("issuing").error().code);
    ASSERT_TRUE(publisher.refresh());
    auto f = full(publisher);
    auto d = delta(publisher);
    EXPECT_EQ(1, f.number);
    EXPECT_EQ(-1, f.delta_base);
    EXPECT_EQ(0, f.entries());
    EXPECT_EQ(2, d.number);
    EXPECT_EQ(1, d.delta_base);
    EXPECT_EQ(clock_.now() + 1000, pki::asn1TimeToEpoch(X509_CRL_get0_nextUpdate(f.crl.get())));
    // RFC 5280 5.2.6: the full CRL says where the deltas are.
    auto* freshest = static_cast<STACK_OF(DIST_POINT)*>(
        X509_CRL_get_ext_d2i(f.crl.get(), NID_freshest_crl, nullptr, nullptr));
    ASSERT_NE(nullptr, freshest);
    EXPECT_EQ(1, sk_DIST_POINT_num(freshest));
    sk_DIST_POINT_pop_free(freshest, DIST_POINT_free);
    EXPECT_EQ(pki::ErrorCode::kNotFound, publisher.fullCrl("nope").error().code);
  }
  // Numbers survive a restart and keep growing: an early delta (3), the full CRL (4), and the
  // delta published beside it (5), numbered above the full CRL so that clients combine them.
  CrlPublisher again({ca_}, *store_, clock_, settings_);
  ASSERT_TRUE(again.refresh());
  EXPECT_EQ(4, full(again).number);
  EXPECT_EQ(5, delta(again).number);
}

TEST_F(CrlPublisherTest, ListsRevokedAndHeldCertificatesOnceTheRevisionMoves) {
  CrlPublisher publisher({ca_}, *store_, clock_, settings_);
  ASSERT_TRUE(publisher.refresh());
  ASSERT_TRUE(store_->setCertificateStatus("a1", CertStatus::kRevoked, 1, clock_.now()));
  ASSERT_TRUE(store_->setCertificateStatus("a2", CertStatus::kHold, 6, clock_.now()));
  ASSERT_TRUE(publisher.refresh());
  auto f = full(publisher);
  EXPECT_EQ(4, f.number);
  EXPECT_EQ(1, f.reasonOf("a1"));
  EXPECT_EQ(6, f.reasonOf("a2"));
  EXPECT_EQ(-2, f.reasonOf("a3"));
  auto d = delta(publisher);
  EXPECT_EQ(5, d.number);
  EXPECT_EQ(1, d.delta_base);  // the base stays for delta_base_seconds
  EXPECT_EQ(2, d.entries());
  EXPECT_EQ(1, d.reasonOf("a1"));
}

TEST_F(CrlPublisherTest, ABulkChangeMovesTheDeltaBaseSoLaterDeltasAreSmallAgain) {
  settings_.delta_rebase_entries = 1;
  CrlPublisher publisher({ca_}, *store_, clock_, settings_);
  ASSERT_TRUE(publisher.refresh());
  ASSERT_TRUE(store_->setCertificateStatus("a1", CertStatus::kRevoked, 1, clock_.now()));
  ASSERT_TRUE(store_->setCertificateStatus("a2", CertStatus::kRevoked, 1, clock_.now()));
  ASSERT_TRUE(publisher.refresh());
  // The delta made first carried both; the full CRL listing them became the base at once.
  auto base = full(publisher);
  EXPECT_EQ(1, base.reasonOf("a1"));
  EXPECT_EQ(1, base.reasonOf("a2"));
  EXPECT_EQ(base.number, delta(publisher).delta_base);
  ASSERT_TRUE(store_->setCertificateStatus("a3", CertStatus::kRevoked, 1, clock_.now()));
  ASSERT_TRUE(publisher.refresh());
  auto d = delta(publisher);
  EXPECT_EQ(base.number, d.delta_base);
  EXPECT_EQ(1, d.entries());  // only what came after the bulk change, not all three
  EXPECT_EQ(1, d.reasonOf("a3"));
}

TEST_F(CrlPublisherTest, ReleaseFromHoldIsRemoveFromCrlInTheDelta) {
  CrlPublisher publisher({ca_}, *store_, clock_, settings_);
  ASSERT_TRUE(publisher.refresh());
  ASSERT_TRUE(store_->setCertificateStatus("a2", CertStatus::kHold, 6, clock_.now()));
  ASSERT_TRUE(publisher.refresh());
  ASSERT_TRUE(store_->setCertificateStatus("a2", CertStatus::kGood, 0, clock_.now()));
  ASSERT_TRUE(publisher.refresh());
  EXPECT_EQ(-2, full(publisher).reasonOf("a2"));
  EXPECT_EQ(8, delta(publisher).reasonOf("a2"));  // RFC 5280 5.3.1 removeFromCRL
}

TEST_F(CrlPublisherTest, RepublishesOnlyOnChangeOrWhenHalfTheValidityHasPassed) {
  CrlPublisher publisher({ca_}, *store_, clock_, settings_);
  ASSERT_TRUE(publisher.refresh());
  ASSERT_TRUE(publisher.refresh());
  EXPECT_EQ(1, full(publisher).number);
  clock_.advance(49);
  ASSERT_TRUE(publisher.refresh());
  EXPECT_EQ(1, full(publisher).number);
  clock_.advance(1);  // half the delta's 100 s: a new delta, the full CRL stays
  ASSERT_TRUE(publisher.refresh());
  EXPECT_EQ(1, full(publisher).number);
  EXPECT_EQ(3, delta(publisher).number);
  EXPECT_EQ(1, delta(publisher).delta_base);
  clock_.advance(449);  // the delta is due again, the full CRL not yet
  ASSERT_TRUE(publisher.refresh());
  EXPECT_EQ(1, full(publisher).number);
  EXPECT_EQ(4, delta(publisher).number);
  clock_.advance(1);  // half the full CRL's 1000 s: the full CRL (5) and a delta above it (6)
  ASSERT_TRUE(publisher.refresh());
  EXPECT_EQ(5, full(publisher).number);
  EXPECT_EQ(6, delta(publisher).number);
  // After delta_base_seconds, a new full CRL becomes the base.
  clock_.advance(10000);
  ASSERT_TRUE(publisher.refresh());
  auto d = delta(publisher);
  EXPECT_EQ(full(publisher).number, d.delta_base);
}

TEST_F(CrlPublisherTest, ARowWithASerialThatIsNotHexIsAnErrorAndTheOldCrlsStay) {
  CrlPublisher publisher({ca_}, *store_, clock_, settings_);
  ASSERT_TRUE(publisher.refresh());
  issue("not-hex", "D9");
  ASSERT_TRUE(store_->setCertificateStatus("not-hex", CertStatus::kRevoked, 1, clock_.now()));
  auto done = publisher.refresh();
  ASSERT_FALSE(done);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, done.error().code);
  EXPECT_NE(std::string::npos, done.error().detail.find("not-hex")) << done.error().detail;
  EXPECT_EQ(1, full(publisher).number);
  EXPECT_EQ(2, delta(publisher).number);
}

TEST_F(CrlPublisherTest, TheBackgroundThreadPublishesACommitWithinASecond) {
  CrlPublisher publisher({ca_}, *store_, clock_, settings_);
  publisher.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!publisher.fullCrl("issuing") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(publisher.fullCrl("issuing"));
  ASSERT_TRUE(store_->setCertificateStatus("a3", CertStatus::kRevoked, 4, clock_.now()));
  auto committed = std::chrono::steady_clock::now();
  while (full(publisher).reasonOf("a3") != 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(4, full(publisher).reasonOf("a3"));
  EXPECT_LT(std::chrono::steady_clock::now() - committed, std::chrono::seconds(1));
  publisher.stop();
  publisher.stop();
}

}  // namespace
}  // namespace enroll::ca
