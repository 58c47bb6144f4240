#include "provisioning/trust_store.h"

#include <gtest/gtest.h>

#include "provisioning/password_hash.h"
#include "tests/support/test_ca.h"
#include "tests/support/vectors.h"

namespace enroll::provisioning {
namespace {

using enroll::testing::vectorText;

pki::Certificate vectorCert(const std::string& name) {
  return *pki::Certificate::fromPem(vectorText(name));
}

TEST(TrustStore, VerifiesABootstrapCertificateMadeByOpenssl) {
  TrustStore t;
  ASSERT_TRUE(t.add({"maker", {vectorCert("maker-ca.pem")}, {}}));
  auto v = t.verify({vectorCert("sn-device.pem")}, {"maker"}, std::time(nullptr));
  ASSERT_TRUE(v) << v.error().toString();
  EXPECT_EQ("maker", v->anchor_set);
  EXPECT_EQ(2u, v->path.size());
}

TEST(TrustStore, OnlyTrustsTheSetsALabelNames) {
  TrustStore t;
  ASSERT_TRUE(t.add({"maker", {vectorCert("maker-ca.pem")}, {}}));
  auto other = enroll::testing::makeTestCa("Other");
  ASSERT_TRUE(t.add({"other", {other.cert}, {}}));
  EXPECT_FALSE(t.verify({vectorCert("sn-device.pem")}, {"other"}, std::time(nullptr)));
  EXPECT_TRUE(t.verify({vectorCert("sn-device.pem")}, {"other", "maker"}, std::time(nullptr)));
}

TEST(TrustStore, RefusesASetWhoseAnchorIsNotACa) {
  TrustStore t;
  auto r = t.add({"bad", {vectorCert("sn-device.pem")}, {}});
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find("not a CA"));
}

TEST(TrustStore, UsesIntermediatesFromTheSetOrFromThePeer) {
  auto root = enroll::testing::makeTestCa("Maker Root");
  auto inter = enroll::testing::makeTestCa("Maker Intermediate", &root);
  auto leaf = enroll::testing::makeTestLeaf("serialNumber=I-1,CN=I-1", inter);
  TrustStore without;
  ASSERT_TRUE(without.add({"m", {root.cert}, {}}));
  EXPECT_FALSE(without.verify({leaf.cert}, {"m"}, std::time(nullptr)));
  EXPECT_TRUE(without.verify({leaf.cert, inter.cert}, {"m"}, std::time(nullptr)));
  TrustStore with;
  ASSERT_TRUE(with.add({"m", {root.cert}, {inter.cert}}));
  EXPECT_TRUE(with.verify({leaf.cert}, {"m"}, std::time(nullptr)));
}

TEST(TrustStore, SaysWhyACertificateIsRefused) {
  TrustStore t;
  ASSERT_TRUE(t.add({"maker", {vectorCert("maker-ca.pem")}, {}}));
  auto leaf = vectorCert("sn-device.pem");
  auto expired = t.verify({leaf}, {"maker"}, leaf.notAfter() + 10);
  ASSERT_FALSE(expired);
  EXPECT_NE(std::string::npos, expired.error().message.find("expired"));
  auto early = t.verify({leaf}, {"maker"}, leaf.notBefore() - 10);
  ASSERT_FALSE(early);
  EXPECT_NE(std::string::npos, early.error().message.find("not yet valid"));
}

TEST(TrustStore, RefusesALeafWhoseKeyUsageForbidsSignatures) {
  TrustStore t;
  ASSERT_TRUE(t.add({"maker", {vectorCert("maker-ca.pem")}, {}}));
  auto r = t.verify({vectorCert("ku-device.pem")}, {"maker"}, std::time(nullptr));
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find("digitalSignature"));
}

TEST(DeviceId, ComesFromTheSubjectSerialNumber) {
  EXPECT_EQ("SN-0007",
            deviceIdOf(vectorCert("sn-device.pem"), DeviceIdSource::kSubjectSerialNumber).value());
  EXPECT_EQ("SN-0007",
            deviceIdOf(vectorCert("sn-device.pem"), DeviceIdSource::kSubjectCommonName).value());
}

TEST(DeviceId, ComesFromAHardwareModuleNameMadeByOpenssl) {
  // RFC 4108 5: hwSerialNum inside the id-on-hardwareModuleName otherName.
  EXPECT_EQ("HW-0042",
            deviceIdOf(vectorCert("hmn-device.pem"), DeviceIdSource::kHardwareModuleName).value());
  EXPECT_FALSE(deviceIdOf(vectorCert("sn-device.pem"), DeviceIdSource::kHardwareModuleName));
}

TEST(DeviceId, SourceNamesParse) {
  EXPECT_TRUE(parseDeviceIdSource("serialNumber"));
  EXPECT_TRUE(parseDeviceIdSource("hardware-module-name"));
  EXPECT_FALSE(parseDeviceIdSource("mac"));
}

TEST(PasswordHash, VerifiesTheRightPasswordOnly) {
  auto h = hashPassword(pki::SecretString("correct horse"), 1000);
  ASSERT_TRUE(h);
  EXPECT_EQ(0u, h->rfind("pbkdf2-sha256$1000$", 0));
  EXPECT_TRUE(verifyPassword(pki::SecretString("correct horse"), *h));
  EXPECT_FALSE(verifyPassword(pki::SecretString("correct horsE"), *h));
  EXPECT_FALSE(verifyPassword(pki::SecretString("correct horse"), "plain-text"));
}

TEST(PasswordHash, SaltsEveryHash) {
  EXPECT_NE(*hashPassword(pki::SecretString("same"), 1000),
            *hashPassword(pki::SecretString("same"), 1000));
}

}  // namespace
}  // namespace enroll::provisioning
