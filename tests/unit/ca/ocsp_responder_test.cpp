#include "server/ca/ocsp_responder.h"

#include <openssl/rand.h>

#include "tests/unit/ca/revocation_fixture.h"

namespace enroll::ca {
namespace {

using store::CertStatus;

class OcspResponderTest : public testing::RevocationFixture {
 protected:
  void SetUp() override {
    RevocationFixture::SetUp();
    issue("a1", "D1");
    issue("a2", "D2");
    issue("a3", "D3");
    issue("f1", "F1", "", "other-ca");  // in the store, but issued by another CA of ours
    auto key = pki::PrivateKey::generate(pki::KeyType::kEcP256);
    ASSERT_TRUE(key);
    pki::UniquePtr<ASN1_INTEGER> serial(ASN1_INTEGER_new());
    ASN1_INTEGER_set(serial.get(), 4242);
    auto cert =
        ca_->issueOcspResponder(key->native(), "CN=OCSP responder", serial.get(), clock_.now(), 30);
    ASSERT_TRUE(cert) << cert.error().toString();
    responder_cert_ = *cert;
    auto created = OcspResponder::create({{ca_, *cert, *key}}, *store_, clock_);
    ASSERT_TRUE(created) << created.error().toString();
    responder_ = std::move(created).value();
  }

  /** A request for serials (hex) of issuer, SHA-1 CertIDs, with a nonce when asked. */
  pki::Bytes request(const std::vector<std::string>& serials, bool nonce,
                     const pki::Certificate* issuer = nullptr, const EVP_MD* md = EVP_sha1()) {
    X509* ca = (issuer ? *issuer : issuing_.cert).native();
    pki::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
    for (const auto& hex : serials) {
      BIGNUM* bn = nullptr;
      BN_hex2bn(&bn, hex.c_str());
      pki::UniquePtr<BIGNUM> owned(bn);
      pki::UniquePtr<ASN1_STRING> serial(BN_to_ASN1_INTEGER(bn, nullptr));
      OCSP_CERTID* id = OCSP_cert_id_new(md, X509_get_subject_name(ca), X509_get0_pubkey_bitstr(ca),
                                         serial.get());
      OCSP_request_add0_id(req.get(), id);
    }
    if (nonce) OCSP_request_add1_nonce(req.get(), nullptr, 16);
    unsigned char* der = nullptr;
    int len = i2d_OCSP_REQUEST(req.get(), &der);
    pki::Bytes out(der, der + len);
    OPENSSL_free(der);
    const unsigned char* p = out.data();
    last_request_.reset(d2i_OCSP_REQUEST(nullptr, &p, len));
    return out;
  }

  /** Parses and verifies an answer against the CA chain; statuses by request order. */
  std::vector<int> statuses(const OcspAnswer& answer, std::vector<int>* reasons = nullptr,
                            bool verify = true) {
    const unsigned char* p = answer.der.data();
    pki::UniquePtr<OCSP_RESPONSE> response(
        d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(answer.der.size())));
    EXPECT_TRUE(response);
    EXPECT_EQ(OCSP_RESPONSE_STATUS_SUCCESSFUL, OCSP_response_status(response.get()));
    basic_.reset(OCSP_response_get1_basic(response.get()));
    EXPECT_TRUE(basic_);
    if (!basic_) return {};
    pki::UniquePtr<X509_STORE> trust(X509_STORE_new());
    X509_STORE_add_cert(trust.get(), root_.cert.native());
    pki::X509Stack untrusted(sk_X509_new_null());
    sk_X509_push(untrusted.get(), X509_dup(issuing_.cert.native()));
    // The delegated responder chains to our root and carries id-kp-OCSPSigning.
    if (verify) {
      EXPECT_EQ(1, OCSP_basic_verify(basic_.get(), untrusted.get(), trust.get(), 0))
          << pki::drainOpensslErrors();
    }
    std::vector<int> out;
    for (int i = 0; i < OCSP_resp_count(basic_.get()); ++i) {
      int reason = -1;
      out.push_back(OCSP_single_get0_status(OCSP_resp_get0(basic_.get(), i), &reason, nullptr,
                                            nullptr, nullptr));
      if (reasons) reasons->push_back(reason);
    }
    return out;
  }

  pki::Certificate responder_cert_ = issuing_.cert;
  std::unique_ptr<OcspResponder> responder_;
  pki::UniquePtr<OCSP_REQUEST> last_request_;
  pki::UniquePtr<OCSP_BASICRESP> basic_;
};

TEST_F(OcspResponderTest, AnswersGoodRevokedHeldAndUnknown) {
  ASSERT_TRUE(store_->setCertificateStatus("a2", CertStatus::kRevoked, 1, clock_.now() - 5));
  ASSERT_TRUE(store_->setCertificateStatus("a3", CertStatus::kHold, 6, clock_.now()));
  auto answer = responder_->respond(request({"a1", "a2", "a3", "bbbb", "f1"}, false));
  EXPECT_TRUE(answer.successful);
  EXPECT_EQ("good,revoked,revoked,unknown,unknown", answer.outcome);
  std::vector<int> reasons;
  EXPECT_EQ((std::vector<int>{V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_REVOKED,
                              V_OCSP_CERTSTATUS_REVOKED, V_OCSP_CERTSTATUS_UNKNOWN,
                              V_OCSP_CERTSTATUS_UNKNOWN}),
            statuses(answer, &reasons));
  EXPECT_EQ(OCSP_REVOKED_STATUS_KEYCOMPROMISE, reasons[1]);
  EXPECT_EQ(OCSP_REVOKED_STATUS_CERTIFICATEHOLD, reasons[2]);
}

TEST_F(OcspResponderTest, EchoesTheNonceAndAnswersSha256CertIds) {
  auto answer = responder_->respond(request({"a1"}, true, nullptr, EVP_sha256()));
  EXPECT_EQ((std::vector<int>{V_OCSP_CERTSTATUS_GOOD}), statuses(answer));
  EXPECT_EQ(1, OCSP_check_nonce(last_request_.get(), basic_.get()));
}

TEST_F(OcspResponderTest, AnotherIssuersKeyHashIsUnknown) {
  auto stranger = testing::makeTestCa("Stranger CA");
  auto answer = responder_->respond(request({"a1"}, false, &stranger.cert));
  // Our responder is not authorized for another CA's certificates: clients cannot rely on it,
  // and it says unknown.
  EXPECT_EQ((std::vector<int>{V_OCSP_CERTSTATUS_UNKNOWN}), statuses(answer, nullptr, false));
}

TEST_F(OcspResponderTest, SeesARevocationAsSoonAsItCommits) {
  EXPECT_EQ("good", responder_->respond(request({"a1"}, false)).outcome);
  ASSERT_TRUE(store_->setCertificateStatus("a1", CertStatus::kRevoked, 4, clock_.now()));
  EXPECT_EQ("revoked", responder_->respond(request({"a1"}, false)).outcome);
  ASSERT_TRUE(store_->setCertificateStatus("a1", CertStatus::kGood, 0, clock_.now()));
  EXPECT_EQ("good", responder_->respond(request({"a1"}, false)).outcome);
}

TEST_F(OcspResponderTest, AnswersMalformedRequestsWithMalformedRequest) {
  for (const pki::Bytes& bad :
       {pki::Bytes{}, pki::Bytes{0x30, 0x03, 0x02, 0x01}, pki::Bytes(100, 0xff)}) {
    auto answer = responder_->respond(bad);
    EXPECT_FALSE(answer.successful);
    EXPECT_EQ("malformedRequest", answer.outcome);
    const unsigned char* p = answer.der.data();
    pki::UniquePtr<OCSP_RESPONSE> response(
        d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(answer.der.size())));
    ASSERT_TRUE(response);
    EXPECT_EQ(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, OCSP_response_status(response.get()));
  }
  auto with_trailer = request({"a1"}, false);
  with_trailer.push_back(0);
  EXPECT_EQ("malformedRequest", responder_->respond(with_trailer).outcome);
  std::vector<std::string> many(65, "a1");
  EXPECT_EQ("malformedRequest", responder_->respond(request(many, false)).outcome);
}

TEST_F(OcspResponderTest, RefusesASignerThatIsNotAnOcspResponder) {
  auto leaf = testing::makeTestLeaf("CN=not a responder", issuing_);
  auto refused = OcspResponder::create({{ca_, leaf.cert, leaf.key}}, *store_, clock_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, refused.error().code);
  auto stranger = testing::makeTestCa("Stranger CA");
  EXPECT_FALSE(OcspResponder::create({{ca_, stranger.cert, stranger.key}}, *store_, clock_));
}

TEST_F(OcspResponderTest, TheResponderCertificateSaysNoCheck) {
  EXPECT_NE(-1, X509_get_ext_by_NID(responder_cert_.native(), NID_id_pkix_OCSP_noCheck, -1));
  EXPECT_NE(0u, X509_get_extended_key_usage(responder_cert_.native()) & XKU_OCSP_SIGN);
}

}  // namespace
}  // namespace enroll::ca
