// Messages made by scepclient (Debian package scep 2.1.0); see vectors/README.md for how.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "protocols/scep/pki_message.h"
#include "protocols/scep/scep_service.h"
#include "scep_test_client.h"
#include "test_ca.h"
#include "test_enroller.h"

namespace enroll::scep {
namespace {

using pki::Bytes;
using namespace test;

std::string readText(const std::string& name) {
  std::ifstream in(std::string(SCEP_VECTORS_DIR) + "/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
Bytes readBytes(const std::string& name) {
  auto s = readText(name);
  return Bytes(s.begin(), s.end());
}
pki::Certificate certificate(const std::string& name) {
  return *pki::Certificate::fromPem(readText(name));
}
pki::PrivateKey key(const std::string& name) { return *pki::PrivateKey::fromPem(readText(name)); }

class ScepclientVector : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loadLegacyProviders()); }
  pki::Result<PkiMessage> decode(const std::string& file, bool legacy) {
    return decodePkiMessage(readBytes(file), ra, AlgorithmPolicy(legacy), std::time(nullptr));
  }
  RaIdentity ra{certificate("vector-ra.pem"), key("vector-ra.key")};
};

TEST_F(ScepclientVector, PKCSReqDecodesInLegacyModeAsSha1AndDes) {
  auto msg = decode("scepclient-pkcsreq.der", true);
  ASSERT_TRUE(msg) << msg.error().toString();
  ASSERT_FALSE(msg->refusal) << msg->refusal->reason;
  EXPECT_EQ(msg->type, MessageType::kPKCSReq);
  EXPECT_EQ(msg->transaction_id, "mJYTTTmdtYU9bVYV2DulsO60G5s=");
  EXPECT_EQ(msg->sender_nonce.size(), 16u);
  EXPECT_EQ(msg->digest_nid, NID_sha1);
  EXPECT_EQ(msg->cipher_nid, NID_des_cbc);
  EXPECT_EQ(msg->legacy_algorithms, "sha1, des-cbc");
  ASSERT_TRUE(msg->signer);
  EXPECT_TRUE(msg->signer_self_signed);
  EXPECT_TRUE(*msg->signer == certificate("scepclient-self.pem"));

  auto csr = pki::CertificateRequest::fromDer(msg->message_data);
  ASSERT_TRUE(csr);
  EXPECT_TRUE(csr->verifySignature());
  EXPECT_EQ(csr->subjectEntry(NID_commonName).value_or(""), "device-vector");
  ASSERT_TRUE(csr->challengePassword());
  EXPECT_EQ(csr->challengePassword()->reveal(), "secret");
  EXPECT_EQ(csr->publicKeyDer(), key("scepclient-device.key").publicKeyDer());
}

TEST_F(ScepclientVector, PKCSReqIsRefusedWithBadAlgOutsideLegacyMode) {
  auto msg = decode("scepclient-pkcsreq.der", false);
  ASSERT_TRUE(msg);
  ASSERT_TRUE(msg->refusal);
  EXPECT_EQ(msg->refusal->fail_info, FailInfo::kBadAlg);
}

TEST_F(ScepclientVector, TransactionIdStaysTheSameForTheSameKey) {
  // scepclient derives the transactionID from its key (none of SHA-1/SHA-256 over the SPKI or
  // RSAPublicKey matched), so the service binds it by recording, not by recomputing: a renewal
  // with the same key reuses the transactionID and the same binding.
  auto first = decode("scepclient-pkcsreq.der", true);
  auto renewal = decode("scepclient-renewalreq.der", true);
  ASSERT_TRUE(first && renewal);
  EXPECT_EQ(first->transaction_id, renewal->transaction_id);
  EXPECT_NE(first->sender_nonce, renewal->sender_nonce);
}

TEST_F(ScepclientVector, RenewalReqDecodesWithTheCurrentCertificateAsSigner) {
  auto msg = decode("scepclient-renewalreq.der", true);
  ASSERT_TRUE(msg) << msg.error().toString();
  ASSERT_FALSE(msg->refusal) << msg->refusal->reason;
  EXPECT_EQ(msg->type, MessageType::kRenewalReq);
  ASSERT_TRUE(msg->signer);
  EXPECT_FALSE(msg->signer_self_signed);
  EXPECT_TRUE(*msg->signer == certificate("scepclient-device.pem"));
}

TEST_F(ScepclientVector, ServiceIssuesForTheRealRequestAndTheDeviceKeyOpensTheReply) {
  TestCa ca(certificate("vector-ca.pem"), key("vector-ca.key"));
  TestEnroller enroller(ca, "secret");
  TestDirectory directory(ca, enroller);
  std::map<std::string, ScepLabelConfig> labels;
  labels.emplace("", ScepLabelConfig{ra.certificate, ra.key, {}, true});
  auto service = ScepService::create(enroller, directory, std::move(labels));
  ASSERT_TRUE(service) << service.error().toString();

  auto response =
      service->handle({"POST", "", "PKIOperation", "", readBytes("scepclient-pkcsreq.der"), ""});
  ASSERT_EQ(response.status, 200) << response.outcome;
  EXPECT_EQ(response.content_type, "application/x-pki-message");
  auto rep = readCertRep(response.body, ra.certificate, certificate("scepclient-self.pem"),
                         key("scepclient-device.key"));
  EXPECT_TRUE(rep.signature_ok);
  EXPECT_EQ(rep.pki_status, "0") << response.outcome;
  EXPECT_EQ(rep.signer_digest_nid, NID_sha1);
  EXPECT_EQ(rep.cipher_nid, NID_des_cbc);
  ASSERT_EQ(rep.certificates.size(), 1u);
  EXPECT_EQ(rep.certificates[0].publicKeyDer(), key("scepclient-device.key").publicKeyDer());
}

}  // namespace
}  // namespace enroll::scep
