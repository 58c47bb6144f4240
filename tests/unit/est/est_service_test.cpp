#include "protocols/est/est_service.h"

#include <gtest/gtest.h>

#include "pki/pkcs7.h"
#include "pki/server_generated_key.h"
#include "tests/support/core_fixture.h"

namespace enroll::testing {
namespace {

using est::EstOperation;

TEST(EstPath, ParsesLabelsAndOperations) {
  auto p = est::parseEstPath("/.well-known/est/cacerts");
  ASSERT_TRUE(p);
  EXPECT_EQ("", p->label);
  EXPECT_EQ(EstOperation::kCaCerts, p->operation);
  p = est::parseEstPath("/.well-known/est/line-7/simplereenroll?x=1");
  ASSERT_TRUE(p);
  EXPECT_EQ("line-7", p->label);
  EXPECT_EQ(EstOperation::kSimpleReEnroll, p->operation);
  EXPECT_FALSE(est::parseEstPath("/.well-known/est/"));
  EXPECT_FALSE(est::parseEstPath("/.well-known/est/a/b/cacerts"));
  EXPECT_FALSE(est::parseEstPath("/.well-known/est/unknownop"));
  EXPECT_FALSE(est::parseEstPath("/other"));
}

TEST(CsrAttrs, EncodesAP256RequestThatOpensslReads) {
  enrollment::CsrRequirements req;
  req.key_types = {pki::KeyType::kEcP256};
  req.challenge_password = true;
  pki::Bytes der = est::encodeCsrAttrs(req);
  // Parse back as a generic SEQUENCE with OpenSSL: challengePassword OID, an Attribute, the
  // signature OID.
  const unsigned char* p = der.data();
  pki::UniquePtr<ASN1_TYPE> t(d2i_ASN1_TYPE(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_TRUE(t);
  EXPECT_EQ(V_ASN1_SEQUENCE, t->type);
  EXPECT_EQ(der.data() + der.size(), p);
  std::string hex = pki::hexEncode(der);
  EXPECT_NE(std::string::npos, hex.find("2a864886f70d010907"));  // 1.2.840.113549.1.9.7
  EXPECT_NE(std::string::npos, hex.find("2a8648ce3d030107"));    // prime256v1
  EXPECT_NE(std::string::npos, hex.find("2a8648ce3d040302"));    // ecdsa-with-SHA256
}

TEST(CsrAttrs, IsEmptyWhenNothingIsWanted) { EXPECT_TRUE(est::encodeCsrAttrs({}).empty()); }

TEST(HttpStatus, MapsEveryErrorCode) {
  EXPECT_EQ(400, est::httpStatusFor(pki::ErrorCode::kMalformed));
  EXPECT_EQ(401, est::httpStatusFor(pki::ErrorCode::kUnauthenticated));
  EXPECT_EQ(403, est::httpStatusFor(pki::ErrorCode::kPermissionDenied));
  EXPECT_EQ(404, est::httpStatusFor(pki::ErrorCode::kNotFound));
  EXPECT_EQ(503, est::httpStatusFor(pki::ErrorCode::kUnavailable));
  EXPECT_EQ(500, est::httpStatusFor(pki::ErrorCode::kInternal));
}

class EstServiceOverTheCore : public CoreFixture {
 protected:
  est::EstRequest post(const std::string& path, const std::string& body) {
    est::EstRequest r;
    r.method = "POST";
    r.path = path;
    r.content_type = "application/pkcs10";
    r.body = body;
    r.credentials.tls_chain = {boot_->cert};
    return r;
  }
};

TEST_F(EstServiceOverTheCore, CacertsIsACertsOnlyChain) {
  est::EstService est(*service_);
  est::EstRequest r;
  r.method = "GET";
  r.path = "/.well-known/est/cacerts";
  auto resp = est.handle(r);
  ASSERT_EQ(200, resp.status);
  EXPECT_EQ("base64", resp.headers["Content-Transfer-Encoding"]);
  auto certs = pki::parseCertsOnly(*pki::base64Decode(resp.body));
  ASSERT_TRUE(certs);
  ASSERT_EQ(2u, certs->size());
  EXPECT_TRUE((*certs)[0] == issuing_->cert);
}

TEST_F(EstServiceOverTheCore, EnrollsFromBase64WithOrWithoutBreaks) {
  est::EstService est(*service_);
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto der = makeTestCsr("CN=DEV-1", key).toDer();
  for (const std::string& body : {pki::base64Encode(der), pki::base64EncodeLines(der)}) {
    auto resp = est.handle(post("/.well-known/est/simpleenroll", body));
    ASSERT_EQ(200, resp.status) << resp.body;
    EXPECT_EQ("issued", resp.outcome);
    EXPECT_EQ("DEV-1", resp.device_id);
    auto certs = pki::parseCertsOnly(*pki::base64Decode(resp.body));
    ASSERT_EQ(1u, certs->size());
    EXPECT_EQ(key.publicKeyDer(), (*certs)[0].publicKeyDer());
  }
}

TEST_F(EstServiceOverTheCore, AnswersEachErrorWithItsStatus) {
  est::EstService est(*service_, est::EstOptions{2048});
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  std::string good = pki::base64Encode(makeTestCsr("CN=DEV-1", key).toDer());
  EXPECT_EQ(400, est.handle(post("/.well-known/est/simpleenroll", "!!!")).status);
  EXPECT_EQ(400, est.handle(post("/.well-known/est/simpleenroll", "aGVsbG8=")).status);
  EXPECT_EQ(404, est.handle(post("/.well-known/est/nolabel/simpleenroll", good)).status);
  EXPECT_EQ(413, est.handle(post("/.well-known/est/simpleenroll", std::string(4096, 'A'))).status);
  auto wrong_type = post("/.well-known/est/simpleenroll", good);
  wrong_type.content_type = "application/json";
  EXPECT_EQ(415, est.handle(wrong_type).status);
  auto anonymous = post("/.well-known/est/simpleenroll", good);
  anonymous.credentials.tls_chain.clear();
  auto r401 = est.handle(anonymous);
  EXPECT_EQ(401, r401.status);
  EXPECT_EQ("Basic realm=\"enrolld default\"", r401.headers["WWW-Authenticate"]);
  auto get = post("/.well-known/est/simpleenroll", good);
  get.method = "GET";
  EXPECT_EQ(405, est.handle(get).status);
  EXPECT_EQ(501, est.handle(post("/.well-known/est/fullcmc", good)).status);
}

TEST_F(EstServiceOverTheCore, ServerKeyGenAnswersMultipartWithKeyAndCertificate) {
  est::EstService est(*service_);
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto resp = est.handle(post("/.well-known/est/serverkeygen",
                              pki::base64Encode(makeTestCsr("CN=DEV-1", key).toDer())));
  ASSERT_EQ(200, resp.status) << resp.body;
  ASSERT_EQ(0u, resp.content_type.rfind("multipart/mixed; boundary=", 0));
  EXPECT_NE(std::string::npos, resp.body.find("Content-Type: application/pkcs8"));
  EXPECT_NE(std::string::npos,
            resp.body.find("Content-Type: application/pkcs7-mime; smime-type=certs-only"));
}

/** The body of the part of a multipart/mixed answer whose Content-Type starts with type. */
std::string partBody(const std::string& body, const std::string& type) {
  size_t at = body.find("Content-Type: " + type);
  if (at == std::string::npos) return "";
  size_t start = body.find("\r\n\r\n", at);
  size_t end = body.find("--", start);
  return body.substr(start + 4, end - start - 4);
}

TEST_F(EstServiceOverTheCore, ServerKeyGenAnswersAServerGeneratedKeyPartWhenTheCsrNamesTheKey) {
  est::EstService est(*service_);
  auto throwaway = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto csr = makeTestCsrWithKeyId("CN=DEV-1", throwaway, "1.2.840.113549.1.9.16.2.54",
                                  pki::keyIdentifier(boot_->cert));
  auto resp = est.handle(post("/.well-known/est/serverkeygen", pki::base64Encode(csr.toDer())));
  ASSERT_EQ(200, resp.status) << resp.body;
  EXPECT_EQ(std::string::npos, resp.body.find("application/pkcs8"));
  auto key_part = pki::base64Decode(
      partBody(resp.body, "application/pkcs7-mime; smime-type=server-generated-key"));
  ASSERT_TRUE(key_part);
  auto cert_part =
      pki::base64Decode(partBody(resp.body, "application/pkcs7-mime; smime-type=certs-only"));
  ASSERT_TRUE(cert_part);
  auto certs = pki::parseCertsOnly(*cert_part);
  ASSERT_TRUE(certs);
  auto opened = openServerGeneratedKey(*key_part, *boot_, root_->cert, kNow);
  EXPECT_TRUE(opened.signature_ok);
  ASSERT_TRUE(opened.key);
  EXPECT_EQ(opened.key->publicKeyDer(), certs->front().publicKeyDer());

  auto other =
      makeTestCsrWithKeyId("CN=DEV-1", throwaway, "1.2.840.113549.1.9.16.2.54", {0xde, 0xad});
  auto refused =
      est.handle(post("/.well-known/est/serverkeygen", pki::base64Encode(other.toDer())));
  EXPECT_EQ(400, refused.status);
  EXPECT_NE(std::string::npos, refused.body.find("id-aa-asymmDecryptKeyID")) << refused.body;
}

}  // namespace
}  // namespace enroll::testing
