// The CertRep encoder, read back with the PKCS7-based test client.
#include "protocols/scep/cert_rep.h"

#include <gtest/gtest.h>

#include "scep_test_client.h"
#include "test_ca.h"

namespace enroll::scep {
namespace {

using pki::Bytes;
using namespace test;

class CertRepTest : public ::testing::Test {
 protected:
  CertRep base() {
    CertRep rep;
    rep.transaction_id = "tx-9";
    rep.recipient_nonce = Bytes(16, 9);
    return rep;
  }
  ClientCertRep read(const CertRep& rep) {
    auto der = encodeCertRep(rep, ra);
    EXPECT_TRUE(der) << der.error().toString();
    return readCertRep(*der, ra.certificate, device_self, device_key);
  }

  TestCa ca{"CertRep CA", 0};
  RaIdentity ra{ca.issue(rsaKey(1).native(), "CertRep RA"), rsaKey(1)};
  pki::PrivateKey device_key = rsaKey(2);
  pki::Certificate device_self = selfSigned(device_key, "dev");
};

TEST_F(CertRepTest, FailureCarriesFailInfoNoncesAndNoContent) {
  auto rep = base();
  rep.status = PkiStatus::kFailure;
  rep.fail_info = FailInfo::kBadCertId;
  auto got = read(rep);
  EXPECT_TRUE(got.signature_ok);
  EXPECT_EQ(got.message_type, "3");
  EXPECT_EQ(got.pki_status, "2");
  EXPECT_EQ(got.fail_info, "4");
  EXPECT_EQ(got.transaction_id, "tx-9");
  EXPECT_EQ(got.recipient_nonce, Bytes(16, 9));
  EXPECT_EQ(got.sender_nonce.size(), 16u);
  EXPECT_EQ(got.signer_digest_nid, NID_sha256);
}

TEST_F(CertRepTest, PendingCarriesNoFailInfo) {
  auto rep = base();
  rep.status = PkiStatus::kPending;
  auto got = read(rep);
  EXPECT_EQ(got.pki_status, "3");
  EXPECT_TRUE(got.fail_info.empty());
}

TEST_F(CertRepTest, SuccessIsEncryptedToTheRequesterWithTheChosenAlgorithms) {
  auto rep = base();
  rep.status = PkiStatus::kSuccess;
  rep.recipient = device_self;
  rep.certificates = {ca.certificate()};
  rep.digest_nid = NID_sha512;
  rep.cipher_nid = NID_aes_256_cbc;
  auto got = read(rep);
  EXPECT_TRUE(got.signature_ok);
  EXPECT_EQ(got.pki_status, "0");
  EXPECT_EQ(got.signer_digest_nid, NID_sha512);
  EXPECT_EQ(got.cipher_nid, NID_aes_256_cbc);
  ASSERT_EQ(got.certificates.size(), 1u);
  EXPECT_TRUE(got.certificates[0] == ca.certificate());
}

TEST_F(CertRepTest, SuccessDefaultsToAes128AndSha256) {
  auto rep = base();
  rep.status = PkiStatus::kSuccess;
  rep.recipient = device_self;
  rep.crl_der = ca.crlDer();
  auto got = read(rep);
  EXPECT_EQ(got.cipher_nid, NID_aes_128_cbc);
  EXPECT_EQ(got.signer_digest_nid, NID_sha256);
  EXPECT_EQ(got.crl_count, 1);
}

TEST_F(CertRepTest, SuccessWithoutRecipientIsAnInternalError) {
  auto rep = base();
  rep.status = PkiStatus::kSuccess;
  auto der = encodeCertRep(rep, ra);
  ASSERT_FALSE(der);
  EXPECT_EQ(der.error().code, pki::ErrorCode::kInternal);
}

TEST_F(CertRepTest, EveryReplyHasAFreshSenderNonce) {
  auto rep = base();
  EXPECT_NE(read(rep).sender_nonce, read(rep).sender_nonce);
}

}  // namespace
}  // namespace enroll::scep
