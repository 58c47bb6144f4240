#include "protocols/est/est_coaps.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include "pki/pkcs7.h"
#include "pki/server_generated_key.h"
#include "protocols/est/est_service.h"
#include "tests/support/core_fixture.h"

namespace enroll::testing {
namespace {

using est::CoapContentFormat;
using est::CoapMethod;
using est::CoapsOperation;

constexpr uint16_t ct(CoapContentFormat f) { return static_cast<uint16_t>(f); }

TEST(CoapsPath, ParsesTheFiveResourcesWithAndWithoutALabel) {
  auto p = est::parseCoapsPath("est/crts");
  ASSERT_TRUE(p);
  EXPECT_EQ("", p->label);
  EXPECT_EQ(CoapsOperation::kCrts, p->operation);
  p = est::parseCoapsPath("/est/line-7/sren");
  ASSERT_TRUE(p);
  EXPECT_EQ("line-7", p->label);
  EXPECT_EQ(CoapsOperation::kSren, p->operation);
  EXPECT_EQ(CoapsOperation::kSen, est::parseCoapsPath("est/sen")->operation);
  EXPECT_EQ(CoapsOperation::kAtt, est::parseCoapsPath("est/att")->operation);
  EXPECT_EQ(CoapsOperation::kSkg, est::parseCoapsPath("est/skg")->operation);
}

TEST(CoapsPath, RefusesAnythingElseAsNotFound) {
  for (const char* bad : {"", "est", "est/", "est/a/b/sen", "est/simpleenroll", "other/sen",
                          ".well-known/est/sen", "est/sen/extra"}) {
    auto p = est::parseCoapsPath(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(pki::ErrorCode::kNotFound, p.error().code) << bad;
  }
}

TEST(CoapCode, PrintsClassAndDetail) {
  EXPECT_EQ("2.05", est::coapCodeString(205));
  EXPECT_EQ("4.15", est::coapCodeString(415));
  EXPECT_EQ("4.00", est::coapCodeString(400));
  EXPECT_EQ("5.03", est::coapCodeString(503));
}

TEST(CoapCode, MapsEveryErrorCode) {
  EXPECT_EQ(400, est::coapCodeFor(pki::ErrorCode::kInvalidArgument));
  EXPECT_EQ(400, est::coapCodeFor(pki::ErrorCode::kMalformed));
  EXPECT_EQ(401, est::coapCodeFor(pki::ErrorCode::kUnauthenticated));
  EXPECT_EQ(403, est::coapCodeFor(pki::ErrorCode::kPermissionDenied));
  EXPECT_EQ(404, est::coapCodeFor(pki::ErrorCode::kNotFound));
  EXPECT_EQ(403, est::coapCodeFor(pki::ErrorCode::kAlreadyExists));
  EXPECT_EQ(503, est::coapCodeFor(pki::ErrorCode::kUnavailable));
  EXPECT_EQ(503, est::coapCodeFor(pki::ErrorCode::kPending));
  EXPECT_EQ(500, est::coapCodeFor(pki::ErrorCode::kInternal));
}

TEST(WellKnownCore, ListsEveryResourceWithItsTypeAndFormats) {
  std::string lf = est::wellKnownCore({"", "line-7"});
  EXPECT_NE(std::string::npos, lf.find("</est/crts>;rt=\"ace.est.crts\";ct=\"281 287\""));
  EXPECT_NE(std::string::npos, lf.find("</est/sen>;rt=\"ace.est.sen\";ct=\"281 287\""));
  EXPECT_NE(std::string::npos, lf.find("</est/sren>;rt=\"ace.est.sren\";ct=\"281 287\""));
  EXPECT_NE(std::string::npos, lf.find("</est/att>;rt=\"ace.est.att\";ct=285"));
  EXPECT_NE(std::string::npos, lf.find("</est/skg>;rt=\"ace.est.skg\";ct=62"));
  EXPECT_NE(std::string::npos, lf.find("</est/line-7/sen>;rt=\"ace.est.sen\""));
  EXPECT_EQ(std::string::npos, lf.find("<//"));
  EXPECT_EQ(0u, lf.rfind("</est>;rt=\"ace.est\",", 0));
}

TEST(MultipartCore, EncodesTheCborArrayByHand) {
  // RFC 8710 / RFC 8949: [284, h'0102', 281, h''] is 84 19 011c 42 0102 19 0119 40
  pki::Bytes out = est::encodeMultipartCore({{284, {1, 2}}, {281, {}}});
  EXPECT_EQ("8419011c42010219011940", pki::hexEncode(out));
}

TEST(MultipartCore, UsesLongerLengthsForLargeParts) {
  pki::Bytes big(300, 0xab);
  pki::Bytes out = est::encodeMultipartCore({{62, big}});
  // array(2), uint 62 (one extra byte), bstr with a two-byte length 0x012c
  EXPECT_EQ("82183e59012c", pki::hexEncode(pki::Bytes(out.begin(), out.begin() + 6)));
  EXPECT_EQ(6u + 300u, out.size());
  pki::Bytes small(23, 0);
  EXPECT_EQ(0x57, est::encodeMultipartCore({{0, small}})[2]);
  pki::Bytes edge = est::encodeMultipartCore({{0, pki::Bytes(24, 0)}});
  EXPECT_EQ("5818", pki::hexEncode(pki::Bytes(edge.begin() + 2, edge.begin() + 4)));
}

/** An Enroller that answers what the test says, for outcomes the core makes rarely. */
class ScriptedEnroller : public enrollment::Enroller {
 public:
  pki::Result<enrollment::LabelInfo> label(std::string_view name) const override {
    if (name == "missing") return pki::makeError(pki::ErrorCode::kNotFound, "no such label");
    enrollment::LabelInfo info;
    info.name = std::string(name);
    return info;
  }
  pki::Result<enrollment::EnrollmentResult> enroll(const enrollment::EnrollmentRequest&) override {
    ++calls;
    return next;
  }
  pki::Result<enrollment::EnrollmentResult> next =
      pki::makeError(pki::ErrorCode::kUnavailable, "store busy");
  int calls = 0;
};

class EstCoapsServiceOverTheCore : public CoreFixture {
 protected:
  est::CoapsRequest post(const std::string& path, const pki::Bytes& body) {
    est::CoapsRequest r;
    r.method = CoapMethod::kPost;
    r.path = path;
    r.content_format = ct(CoapContentFormat::kPkcs10);
    r.body = body;
    r.credentials.tls_chain = {boot_->cert};
    return r;
  }
  pki::Bytes csr(const std::string& subject = "CN=DEV-1") {
    return makeTestCsr(subject, *pki::PrivateKey::generate(pki::KeyType::kEcP256)).toDer();
  }
  static std::string text(const pki::Bytes& b) { return std::string(b.begin(), b.end()); }
};

TEST_F(EstCoapsServiceOverTheCore, CrtsIsABinaryCertsOnlyChainByDefault) {
  est::EstCoapsService coaps(*service_);
  est::CoapsRequest r;
  r.path = "est/crts";
  auto resp = coaps.handle(r);
  ASSERT_EQ(205, resp.code) << text(resp.body);
  EXPECT_EQ(ct(CoapContentFormat::kPkcs7CertsOnly), resp.content_format);
  auto certs = pki::parseCertsOnly(resp.body);  // DER, no base64 in CoAP
  ASSERT_TRUE(certs);
  EXPECT_EQ(2u, certs->size());
}

TEST_F(EstCoapsServiceOverTheCore, CrtsWithAccept287IsTheIssuingCaAlone) {
  est::EstCoapsService coaps(*service_);
  est::CoapsRequest r;
  r.path = "est/crts";
  r.accept = ct(CoapContentFormat::kPkixCert);
  auto resp = coaps.handle(r);
  ASSERT_EQ(205, resp.code);
  EXPECT_EQ(ct(CoapContentFormat::kPkixCert), resp.content_format);
  EXPECT_EQ(issuing_->cert.toDer(), resp.body);
  r.accept = ct(CoapContentFormat::kCsrAttrs);
  EXPECT_EQ(406, coaps.handle(r).code);
}

TEST_F(EstCoapsServiceOverTheCore, SenAnswers281Or287AsAcceptAsks) {
  est::EstCoapsService coaps(*service_);
  auto resp = coaps.handle(post("est/sen", csr()));
  ASSERT_EQ(204, resp.code) << text(resp.body);
  EXPECT_EQ("issued", resp.outcome);
  EXPECT_EQ(ct(CoapContentFormat::kPkcs7CertsOnly), resp.content_format);
  EXPECT_EQ(1u, pki::parseCertsOnly(resp.body)->size());

  auto req = post("est/sen", csr());
  req.accept = ct(CoapContentFormat::kPkixCert);
  resp = coaps.handle(req);
  ASSERT_EQ(204, resp.code);
  EXPECT_EQ(ct(CoapContentFormat::kPkixCert), resp.content_format);
  auto cert = pki::Certificate::fromDer(resp.body);
  ASSERT_TRUE(cert);
  EXPECT_EQ(resp.serial, cert->serialHex());
}

TEST_F(EstCoapsServiceOverTheCore, RefusesAnAcceptItCannotMeetBeforeIssuing) {
  ScriptedEnroller enroller;
  est::EstCoapsService coaps(enroller);
  auto req = post("est/sen", csr());
  req.accept = ct(CoapContentFormat::kMultipartCore);
  EXPECT_EQ(406, coaps.handle(req).code);
  req.path = "est/skg";
  req.accept = ct(CoapContentFormat::kPkixCert);
  EXPECT_EQ(406, coaps.handle(req).code);
  EXPECT_EQ(0, enroller.calls);
}

TEST_F(EstCoapsServiceOverTheCore, AnswersEachRefusalWithItsCodeAndADiagnostic) {
  est::EstCoapsService coaps(*service_, est::EstCoapsOptions{1024, 30});
  auto wrong_format = post("est/sen", csr());
  wrong_format.content_format = 0;
  EXPECT_EQ(415, coaps.handle(wrong_format).code);
  auto no_format = post("est/sen", csr());
  no_format.content_format.reset();
  EXPECT_EQ(415, coaps.handle(no_format).code);

  auto big = coaps.handle(post("est/sen", pki::Bytes(2048, 0x30)));
  EXPECT_EQ(413, big.code);
  EXPECT_EQ(1024u, big.size1);

  auto junk = coaps.handle(post("est/sen", pki::Bytes{1, 2, 3}));
  EXPECT_EQ(400, junk.code);
  EXPECT_FALSE(junk.content_format) << "diagnostic payloads carry no Content-Format";
  EXPECT_FALSE(junk.body.empty());

  auto anonymous = post("est/sen", csr());
  anonymous.credentials.tls_chain.clear();
  EXPECT_EQ(401, coaps.handle(anonymous).code);
  EXPECT_EQ(404, coaps.handle(post("est/nolabel/sen", csr())).code);
  EXPECT_EQ(404, coaps.handle(post("est/frobnicate", csr())).code);
  EXPECT_EQ(401, coaps.handle(post("est/sren", csr())).code) << "sren needs an operational cert";

  auto get = post("est/sen", csr());
  get.method = CoapMethod::kGet;
  EXPECT_EQ(405, coaps.handle(get).code);
  auto put = post("est/crts", {});
  put.method = CoapMethod::kOther;
  EXPECT_EQ(405, coaps.handle(put).code);
}

TEST_F(EstCoapsServiceOverTheCore, SrenRenewsWithTheOperationalCertificate) {
  est::EstCoapsService coaps(*service_);
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  pki::Certificate op = enrollOnce(key);
  auto req = post("est/sren", makeTestCsr("CN=DEV-1", key).toDer());
  req.credentials.tls_chain = {op};
  auto resp = coaps.handle(req);
  ASSERT_EQ(204, resp.code) << text(resp.body);
  EXPECT_EQ("sren", resp.operation);
  EXPECT_NE(op.serialHex(), resp.serial);
}

TEST_F(EstCoapsServiceOverTheCore, AttIsCsrAttrsInBinaryDer) {
  est::EstCoapsService coaps(*service_);
  est::CoapsRequest r;
  r.path = "est/att";
  auto resp = coaps.handle(r);
  ASSERT_EQ(205, resp.code);
  EXPECT_EQ(ct(CoapContentFormat::kCsrAttrs), resp.content_format);
  EXPECT_EQ(est::encodeCsrAttrs(service_->label("")->csr), resp.body);
  r.accept = ct(CoapContentFormat::kPkcs7CertsOnly);
  EXPECT_EQ(406, coaps.handle(r).code);
}

TEST_F(EstCoapsServiceOverTheCore, SkgAnswersMultipartCoreWithKeyAndCertificate) {
  est::EstCoapsService coaps(*service_);
  auto req = post("est/skg", csr());
  req.accept = ct(CoapContentFormat::kMultipartCore);
  auto resp = coaps.handle(req);
  ASSERT_EQ(204, resp.code) << text(resp.body);
  EXPECT_EQ(ct(CoapContentFormat::kMultipartCore), resp.content_format);
  // 0x84: array of four; then 284 (0x19 0x011c) and a byte string.
  ASSERT_GT(resp.body.size(), 10u);
  EXPECT_EQ("8419011c", pki::hexEncode(pki::Bytes(resp.body.begin(), resp.body.begin() + 4)));
  std::string hex = pki::hexEncode(resp.body);
  EXPECT_NE(std::string::npos, hex.find("190119")) << "the certificate part is 281";
}

/** A P-256 CSR with one extra attribute (OID, OCTET STRING value), signed after adding it. */
pki::Bytes csrWithAttribute(const char* oid, const std::string& value) {
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  pki::UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key.native());
  X509_REQ_add1_attr_by_txt(req.get(), oid, V_ASN1_OCTET_STRING,
                            reinterpret_cast<const unsigned char*>(value.data()),
                            static_cast<int>(value.size()));
  X509_REQ_sign(req.get(), key.native(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  pki::Bytes out(der, der + std::max(n, 0));
  OPENSSL_free(der);
  return out;
}

/** Reads a multipart-core body of two parts: [ct1, bytes1, ct2, bytes2]. */
std::vector<std::pair<uint16_t, pki::Bytes>> twoParts(const pki::Bytes& b) {
  size_t i = 0;
  auto head = [&](uint8_t& major) -> uint64_t {
    uint8_t ib = b.at(i++);
    major = ib >> 5;
    uint8_t info = ib & 31;
    if (info < 24) return info;
    int n = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : 8;
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v = (v << 8) | b.at(i++);
    return v;
  };
  uint8_t major = 0;
  EXPECT_EQ(4u, head(major));
  EXPECT_EQ(4, major);
  std::vector<std::pair<uint16_t, pki::Bytes>> parts;
  for (int p = 0; p < 2; ++p) {
    auto format = static_cast<uint16_t>(head(major));
    size_t n = head(major);
    EXPECT_EQ(2, major);
    parts.emplace_back(
        format, pki::Bytes(b.begin() + static_cast<long>(i), b.begin() + static_cast<long>(i + n)));
    i += n;
  }
  EXPECT_EQ(b.size(), i);
  return parts;
}

constexpr const char* kAsymmDecryptKeyId = "1.2.840.113549.1.9.16.2.54";

TEST_F(EstCoapsServiceOverTheCore, SkgAnswers280WhenTheCsrNamesTheDtlsCertificatesKey) {
  est::EstCoapsService coaps(*service_);
  auto throwaway = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto csr = makeTestCsrWithKeyId("CN=DEV-1", throwaway, kAsymmDecryptKeyId,
                                  pki::keyIdentifier(boot_->cert));
  auto resp = coaps.handle(post("est/skg", csr.toDer()));
  ASSERT_EQ(204, resp.code) << text(resp.body);
  EXPECT_EQ(ct(CoapContentFormat::kMultipartCore), resp.content_format);
  auto parts = twoParts(resp.body);
  ASSERT_EQ(2u, parts.size());
  EXPECT_EQ(ct(CoapContentFormat::kPkcs7ServerKey), parts[0].first);
  EXPECT_EQ(ct(CoapContentFormat::kPkcs7CertsOnly), parts[1].first);
  auto cert = pki::parseCertsOnly(parts[1].second);
  ASSERT_TRUE(cert);
  auto opened = openServerGeneratedKey(parts[0].second, *boot_, root_->cert, kNow);
  EXPECT_TRUE(opened.signature_ok);
  ASSERT_TRUE(opened.key);
  EXPECT_EQ(opened.key->publicKeyDer(), cert->front().publicKeyDer());
}

TEST_F(EstCoapsServiceOverTheCore, SkgRefusesAnotherKeyOrASymmetricKeyWith400) {
  est::EstCoapsService coaps(*service_);
  auto throwaway = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto wrong = makeTestCsrWithKeyId("CN=DEV-1", throwaway, kAsymmDecryptKeyId, {1, 2, 3});
  auto resp = coaps.handle(post("est/skg", wrong.toDer()));
  EXPECT_EQ(400, resp.code);
  EXPECT_FALSE(resp.content_format);
  EXPECT_NE(std::string::npos, text(resp.body).find("id-aa-asymmDecryptKeyID")) << text(resp.body);
  auto symmetric =
      makeTestCsrWithKeyId("CN=DEV-1", throwaway, "1.2.840.113549.1.9.16.2.37", {1, 2, 3});
  EXPECT_EQ(400, coaps.handle(post("est/skg", symmetric.toDer())).code);
  EXPECT_EQ(0u, store_->certificatesOfDevice("DEV-1")->size());
  auto junk = coaps.handle(post("est/skg", csrWithAttribute("1.2.840.113549.1.9.15", "x")));
  EXPECT_EQ(400, junk.code) << "a smimeCapabilities value that is no SEQUENCE is malformed";
}

TEST_F(EstCoapsServiceOverTheCore, SkgWithSmimeCapabilitiesAloneAnswers284) {
  // SMIMECapabilities { { aes256-CBC } }: names no key, so asks for no encryption.
  const pki::Bytes caps = *pki::hexDecode("300d300b060960864801650304012a");
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  pki::UniquePtr<X509_REQ> req(X509_REQ_dup(makeTestCsr("CN=DEV-1", key).native()));
  X509_REQ_add1_attr_by_txt(req.get(), "1.2.840.113549.1.9.15", V_ASN1_SEQUENCE, caps.data(),
                            static_cast<int>(caps.size()));
  X509_REQ_sign(req.get(), key.native(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  pki::Bytes body(der, der + n);
  OPENSSL_free(der);
  est::EstCoapsService coaps(*service_);
  auto resp = coaps.handle(post("est/skg", body));
  ASSERT_EQ(204, resp.code) << text(resp.body);
  auto parts = twoParts(resp.body);
  ASSERT_EQ(2u, parts.size());
  EXPECT_EQ(ct(CoapContentFormat::kPkcs8), parts[0].first);
}

TEST_F(EstCoapsServiceOverTheCore, HeldRequestsGet503WithTheLabelsMaxAge) {
  editDefault([](ca::Label& l) {
    l.manual_approval = true;
    l.retry_after_seconds = 7;
  });
  est::EstCoapsService coaps(*service_);
  auto resp = coaps.handle(post("est/sen", csr()));
  EXPECT_EQ(503, resp.code);
  EXPECT_EQ("pending", resp.outcome);
  EXPECT_EQ(7u, resp.max_age);
  EXPECT_FALSE(resp.body.empty());
  EXPECT_FALSE(resp.content_format) << "a diagnostic payload";
}

TEST_F(EstCoapsServiceOverTheCore, AHeldRequestNeverGetsMaxAgeZero) {
  editDefault([](ca::Label& l) {
    l.manual_approval = true;
    l.retry_after_seconds = 0;
  });
  est::EstCoapsService coaps(*service_);
  auto resp = coaps.handle(post("est/sen", csr()));
  EXPECT_EQ(503, resp.code);
  EXPECT_EQ(1u, resp.max_age) << "Max-Age 0 would send the device straight back";
}

TEST(EstCoapsService, AnUnavailableStoreGets503WithMaxAge) {
  ScriptedEnroller enroller;
  est::EstCoapsService coaps(enroller, est::EstCoapsOptions{4096, 12});
  est::CoapsRequest r;
  r.method = CoapMethod::kPost;
  r.path = "est/sen";
  r.content_format = 286;
  r.body = makeTestCsr("CN=X", *pki::PrivateKey::generate(pki::KeyType::kEcP256)).toDer();
  auto resp = coaps.handle(r);
  EXPECT_EQ(503, resp.code);
  EXPECT_EQ(12u, resp.max_age);
  r.path = "est/missing/crts";
  r.method = CoapMethod::kGet;
  EXPECT_EQ(404, coaps.handle(r).code);
}

}  // namespace
}  // namespace enroll::testing
