#include "server/ca/profile.h"

#include <gtest/gtest.h>

#include "tests/support/test_ca.h"
#include "tests/support/vectors.h"

namespace enroll::ca {
namespace {

using enroll::testing::makeTestCsr;
using enroll::testing::vectorBytes;

TEST(Template, RendersKnownVariables) {
  auto r = renderTemplate("urn:dev:{device.model}:{device.id}",
                          {{"device.id", "D1"}, {"device.model", "M7"}});
  ASSERT_TRUE(r);
  EXPECT_EQ("urn:dev:M7:D1", *r);
}

TEST(Template, RefusesAMissingOrEmptyValue) {
  EXPECT_FALSE(renderTemplate("CN={device.batch}", {{"device.id", "D1"}}));
  EXPECT_FALSE(renderTemplate("CN={device.batch}", {{"device.batch", ""}}));
  EXPECT_FALSE(renderTemplate("CN={device.id", {{"device.id", "D1"}}));
}

TEST(Template, ListsItsVariables) {
  auto v = templateVariables("O=x,CN={device.id}-{label}");
  ASSERT_EQ(2u, v.size());
  EXPECT_EQ("device.id", v[0]);
  EXPECT_EQ("label", v[1]);
}

TEST(CheckRequest, BuildsTheSubjectAndSansFromTheIdentity) {
  Profile p;
  p.subject = "O=Acme,CN={device.id}";
  p.subject_alt_names = {"URI:urn:dev:serial:{device.id}"};
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto names = checkRequest(p, makeTestCsr("CN=whatever", key), {{"device.id", "D-9"}});
  ASSERT_TRUE(names) << names.error().toString();
  EXPECT_EQ("CN=D-9,O=Acme", pki::nameToString(names->subject.get()));
  ASSERT_EQ(1u, names->subject_alt_names.size());
  EXPECT_EQ("URI:urn:dev:serial:D-9", names->subject_alt_names[0]);
}

TEST(CheckRequest, MatchPolicyRefusesAnotherSubject) {
  Profile p;
  p.subject_policy = SubjectPolicy::kMatch;
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto bad = checkRequest(p, makeTestCsr("CN=someone-else", key), {{"device.id", "D-9"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(pki::ErrorCode::kPermissionDenied, bad.error().code);
  EXPECT_TRUE(checkRequest(p, makeTestCsr("CN=D-9", key), {{"device.id", "D-9"}}));
}

TEST(CheckRequest, RefusesSansTheProfileDoesNotMake) {
  Profile p;
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto csr = makeTestCsr("CN=x", key, "", {"evil.example"});
  auto r = checkRequest(p, csr, {{"device.id", "D"}});
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find("DNS:evil.example"));
  p.allow_csr_dns_names = true;
  auto ok = checkRequest(p, csr, {{"device.id", "D"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ("DNS:evil.example", ok->subject_alt_names.back());
}

TEST(CheckRequest, RefusesRsa1024MadeByOpenssl) {
  auto csr = *pki::CertificateRequest::fromDer(vectorBytes("rsa1024-csr.der"));
  auto r = checkRequest(Profile{}, csr, {{"device.id", "D"}});
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find("under 2048 bits"));
}

TEST(CheckRequest, RefusesSha1UnlessTheProfileAllowsIt) {
  auto csr = *pki::CertificateRequest::fromDer(vectorBytes("sha1-csr.der"));
  Profile p;
  auto r = checkRequest(p, csr, {{"device.id", "D"}});
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find("weak digest"));
  p.allow_sha1_csr = true;
  EXPECT_TRUE(checkRequest(p, csr, {{"device.id", "D"}}));
}

TEST(CheckRequest, AcceptsEd25519WhenAllowed) {
  auto csr = *pki::CertificateRequest::fromDer(vectorBytes("ed25519-csr.der"));
  Profile p;
  EXPECT_TRUE(checkRequest(p, csr, {{"device.id", "D"}}));
  p.allowed_keys = {pki::KeyType::kEcP256};
  EXPECT_FALSE(checkRequest(p, csr, {{"device.id", "D"}}));
}

TEST(CheckRequest, RefusesABadSignature) {
  auto der = vectorBytes("p256-csr.der");
  der[der.size() - 3] ^= 0x40;
  auto csr = *pki::CertificateRequest::fromDer(der);
  auto r = checkRequest(Profile{}, csr, {{"device.id", "D"}});
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find("proof of possession"));
}

TEST(ParseName, HandlesEscapedCommasAndRefusesUnknownTypes) {
  auto n = parseName("O=Acme\\, Inc,CN=x");
  ASSERT_TRUE(n);
  EXPECT_EQ("Acme, Inc", pki::nameEntry(n->get(), NID_organizationName).value());
  EXPECT_FALSE(parseName("XYZ=1"));
  EXPECT_FALSE(parseName("novalue"));
}

}  // namespace
}  // namespace enroll::ca
