// The pkiMessage decoder, fed with messages from the PKCS7-based test client.
#include "protocols/scep/pki_message.h"

#include <gtest/gtest.h>

#include "pki/pkcs7.h"
#include "protocols/scep/scep_oids.h"
#include "scep_test_client.h"
#include "test_ca.h"

namespace enroll::scep {
namespace {

using pki::Bytes;
using namespace test;

class PkiMessageTest : public ::testing::Test {
 protected:
  ClientMessage request() {
    return ClientMessage{
        19,          "tx-abc",   Bytes(16, 7),  makeCsr(device_key, "dev", "secret").toDer(),
        device_self, device_key, ra.certificate};
  }
  pki::Result<PkiMessage> decode(const ClientMessage& m, bool legacy = false) {
    return decodePkiMessage(buildPkiMessage(m), ra, AlgorithmPolicy(legacy), std::time(nullptr));
  }

  TestCa ca{"Codec CA", 0};
  RaIdentity ra{ca.issue(rsaKey(1).native(), "Codec RA"), rsaKey(1)};
  pki::PrivateKey device_key = rsaKey(2);
  pki::Certificate device_self = selfSigned(device_key, "dev");
};

TEST(ScepOids, RegistersTheVerisignArcOnce) {
  const auto& oids = ScepOids::get();
  EXPECT_EQ(oids.transaction_id, OBJ_txt2nid("2.16.840.1.113733.1.9.7"));
  EXPECT_EQ(oids.message_type, OBJ_txt2nid("2.16.840.1.113733.1.9.2"));
  EXPECT_EQ(&oids, &ScepOids::get());
}

TEST_F(PkiMessageTest, DecodesAttributesSignerAndDecryptedCsr) {
  auto m = request();
  auto msg = decode(m);
  ASSERT_TRUE(msg) << msg.error().toString();
  EXPECT_FALSE(msg->refusal) << msg->refusal->reason;
  EXPECT_EQ(msg->type, MessageType::kPKCSReq);
  EXPECT_EQ(msg->transaction_id, "tx-abc");
  EXPECT_EQ(msg->sender_nonce, Bytes(16, 7));
  EXPECT_EQ(msg->digest_nid, NID_sha256);
  EXPECT_EQ(msg->cipher_nid, NID_aes_256_cbc);
  EXPECT_EQ(msg->message_data, m.message_data);
  ASSERT_TRUE(msg->signer);
  EXPECT_TRUE(*msg->signer == device_self);
  EXPECT_TRUE(msg->signer_self_signed);
  EXPECT_TRUE(msg->legacy_algorithms.empty());
}

TEST_F(PkiMessageTest, RejectsBytesThatAreNotCmsAsMalformed) {
  auto msg = decodePkiMessage(Bytes{1, 2, 3}, ra, AlgorithmPolicy(), std::time(nullptr));
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().code, pki::ErrorCode::kMalformed);
}

TEST_F(PkiMessageTest, RejectsADegenerateSignedDataWithoutSignerAsMalformed) {
  auto degenerate = pki::makeCertsOnly({ca.certificate()});
  ASSERT_TRUE(degenerate);
  auto msg = decodePkiMessage(*degenerate, ra, AlgorithmPolicy(), std::time(nullptr));
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().code, pki::ErrorCode::kMalformed);
}

TEST_F(PkiMessageTest, RefusesAnEnvelopeForAnotherRecipientWithBadMessageCheck) {
  auto m = request();
  m.recipient = ca.certificate();
  auto msg = decode(m);
  ASSERT_TRUE(msg);
  ASSERT_TRUE(msg->refusal);
  EXPECT_EQ(msg->refusal->fail_info, FailInfo::kBadMessageCheck);
  EXPECT_TRUE(msg->message_data.empty());
  EXPECT_EQ(msg->transaction_id, "tx-abc");  // still known, for the CertRep
}

TEST_F(PkiMessageTest, RefusesTripleDesWithBadAlgUnlessLegacy) {
  auto m = request();
  m.cipher = EVP_des_ede3_cbc();
  auto strict = decode(m);
  ASSERT_TRUE(strict);
  ASSERT_TRUE(strict->refusal);
  EXPECT_EQ(strict->refusal->fail_info, FailInfo::kBadAlg);
  ASSERT_TRUE(loadLegacyProviders());
  auto legacy = decode(m, true);
  ASSERT_TRUE(legacy);
  EXPECT_FALSE(legacy->refusal) << legacy->refusal->reason;
  EXPECT_EQ(legacy->legacy_algorithms, "des-ede3-cbc");
}

TEST_F(PkiMessageTest, RefusesAMissingSenderNonce) {
  auto m = request();
  m.sender_nonce.clear();
  auto msg = decode(m);
  ASSERT_TRUE(msg);
  ASSERT_TRUE(msg->refusal);
  EXPECT_EQ(msg->refusal->fail_info, FailInfo::kBadRequest);
}

TEST_F(PkiMessageTest, RefusesASignerNotYetValidWithBadTime) {
  auto m = request();
  m.signer = ca.issue(device_key.native(), "dev", std::time(nullptr) + 86400,
                      std::time(nullptr) + 86400L * 2);
  auto msg = decode(m);
  ASSERT_TRUE(msg);
  ASSERT_TRUE(msg->refusal);
  EXPECT_EQ(msg->refusal->fail_info, FailInfo::kBadTime);
}

TEST_F(PkiMessageTest, ParsesIssuerAndSerialNumber) {
  auto cert = ca.issue(device_key.native(), "dev");
  auto id = parseIssuerAndSerial(issuerAndSerial(cert));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->issuer, cert.issuer());
  EXPECT_EQ(id->serial_hex, cert.serialHex());
}

TEST_F(PkiMessageTest, ParsesIssuerAndSubject) {
  auto names = parseIssuerAndSubject(issuerAndSubject(ca.certificate(), "dev"));
  ASSERT_TRUE(names);
  EXPECT_EQ(names->issuer, ca.certificate().subject());
  EXPECT_EQ(names->subject, "CN=dev");
}

TEST_F(PkiMessageTest, RejectsTruncatedIssuerAndSubject) {
  auto der = issuerAndSubject(ca.certificate(), "dev");
  der.resize(der.size() - 3);
  EXPECT_FALSE(parseIssuerAndSubject(der));
  EXPECT_FALSE(parseIssuerAndSerial(Bytes{0x30, 0x00}));
}

}  // namespace
}  // namespace enroll::scep
