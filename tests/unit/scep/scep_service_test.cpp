// ScepService end to end without a transport: a real in-test CA, a test Enroller that signs with
// it, and a test client that builds pkiMessages with OpenSSL's PKCS7 API.
#include "protocols/scep/scep_service.h"

#include <gtest/gtest.h>

#include <optional>

#include "pki/pkcs7.h"
#include "scep_test_client.h"
#include "test_ca.h"
#include "test_enroller.h"

namespace enroll::scep {
namespace {

using pki::Bytes;
using pki::Certificate;
using pki::PrivateKey;
using namespace test;

constexpr const char* kPkiMessage = "application/x-pki-message";

class ScepServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    enroller.addLabel("legacy");
    enroller.addLabel("ra-is-ca");
    enroller.addLabel("rollover");
    std::map<std::string, ScepLabelConfig> labels;
    labels.emplace("", ScepLabelConfig{ra_cert, ra_key, {}, false});
    labels.emplace("legacy", ScepLabelConfig{ra_cert, ra_key, {}, true});
    labels.emplace("ra-is-ca", ScepLabelConfig{ca.certificate(), ca.key(), {}, false});
    labels.emplace("rollover", ScepLabelConfig{ra_cert, ra_key, {next_ca.certificate()}, false});
    auto created =
        ScepService::create(enroller, directory, std::move(labels), [this] { return now; });
    ASSERT_TRUE(created) << created.error().toString();
    service.emplace(std::move(*created));
  }

  /** A PKCSReq from the device's self-signed certificate, as a first enrollment. */
  ClientMessage pkcsReq(const std::string& challenge = "secret") {
    ClientMessage m{19,          "tx-" + std::to_string(++counter),
                    nonce(),     makeCsr(device_key, "device-1", challenge).toDer(),
                    device_self, device_key,
                    ra_cert};
    return m;
  }

  Bytes nonce() { return Bytes(16, static_cast<uint8_t>(++counter)); }

  ScepHttpResponse post(const Bytes& der, const std::string& label = "") {
    return service->handle({"POST", label, "PKIOperation", "", der, "127.0.0.1:5000"});
  }
  ScepHttpResponse get(const std::string& operation, const std::string& label = "") {
    return service->handle({"GET", label, operation, "", {}, "127.0.0.1:5000"});
  }
  /** Sends m and reads the CertRep as the device. */
  ClientCertRep exchange(const ClientMessage& m, const std::string& label = "") {
    auto response = post(buildPkiMessage(m), label);
    EXPECT_EQ(response.status, 200) << response.outcome;
    EXPECT_EQ(response.content_type, kPkiMessage);
    last_outcome = response.outcome;
    return readCertRep(response.body, label == "ra-is-ca" ? ca.certificate() : ra_cert, m.signer,
                       m.signer_key);
  }

  std::time_t now = std::time(nullptr);
  int counter = 0;
  TestCa ca{"SCEP Test CA", 0};
  TestCa next_ca{"SCEP Next CA", 3};
  PrivateKey ra_key = rsaKey(1);
  Certificate ra_cert = ca.issue(ra_key.native(), "SCEP Test RA");
  PrivateKey device_key = rsaKey(2);
  Certificate device_self = selfSigned(device_key, "device-1");
  TestEnroller enroller{ca, "secret"};
  TestDirectory directory{ca, enroller};
  std::optional<ScepService> service;
  std::string last_outcome;
};

TEST_F(ScepServiceTest, GetCACapsListsOnlyWhatIsSupported) {
  auto r = get("GetCACaps");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain");
  std::string caps(r.body.begin(), r.body.end());
  for (const char* cap :
       {"POSTPKIOperation", "SHA-256", "SHA-512", "AES", "SCEPStandard", "Renewal"}) {
    EXPECT_NE(caps.find(cap), std::string::npos) << cap;
  }
  EXPECT_EQ(caps.find("GetNextCACert"), std::string::npos);
  EXPECT_EQ(caps.find("DES3"), std::string::npos);
}

TEST_F(ScepServiceTest, GetCACapsOffersGetNextCACertOnlyDuringRollover) {
  auto r = get("GetCACaps", "rollover");
  std::string caps(r.body.begin(), r.body.end());
  EXPECT_NE(caps.find("GetNextCACert"), std::string::npos);
}

TEST_F(ScepServiceTest, GetCACertReturnsRaAndCaAsDegeneratePkcs7) {
  auto r = get("GetCACert");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/x-x509-ca-ra-cert");
  auto certs = pki::parseCertsOnly(r.body);
  ASSERT_TRUE(certs);
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_TRUE((*certs)[0] == ra_cert);
  EXPECT_TRUE((*certs)[1] == ca.certificate());
}

TEST_F(ScepServiceTest, GetCACertReturnsTheDerCertificateWhenRaIsCa) {
  auto r = get("GetCACert", "ra-is-ca");
  EXPECT_EQ(r.content_type, "application/x-x509-ca-cert");
  auto cert = Certificate::fromDer(r.body);
  ASSERT_TRUE(cert);
  EXPECT_TRUE(*cert == ca.certificate());
}

TEST_F(ScepServiceTest, GetNextCACertIsSignedByTheCurrentRa) {
  auto r = get("GetNextCACert", "rollover");
  ASSERT_EQ(r.status, 200) << r.outcome;
  EXPECT_EQ(r.content_type, "application/x-x509-next-ca-cert");
  const unsigned char* p = r.body.data();
  pki::UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(r.body.size())));
  ASSERT_TRUE(p7);
  STACK_OF(X509)* signers = sk_X509_new_null();
  sk_X509_push(signers, ra_cert.native());
  pki::UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  EXPECT_EQ(
      PKCS7_verify(p7.get(), signers, nullptr, nullptr, out.get(), PKCS7_NOVERIFY | PKCS7_NOINTERN),
      1);
  sk_X509_free(signers);
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(out.get(), &mem);
  auto next = pki::parseCertsOnly(Bytes(mem->data, mem->data + mem->length));
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_TRUE((*next)[0] == next_ca.certificate());
}

TEST_F(ScepServiceTest, GetNextCACertIsNotFoundWithoutRollover) {
  EXPECT_EQ(get("GetNextCACert").status, 404);
}

TEST_F(ScepServiceTest, PKCSReqWithTheRightChallengeIssuesACertificateForTheCsrKey) {
  auto m = pkcsReq();
  auto rep = exchange(m);
  EXPECT_TRUE(rep.signature_ok);
  EXPECT_EQ(rep.message_type, "3");
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  EXPECT_EQ(rep.transaction_id, m.transaction_id);
  EXPECT_EQ(rep.recipient_nonce, m.sender_nonce);
  EXPECT_EQ(rep.sender_nonce.size(), 16u);
  EXPECT_NE(rep.sender_nonce, m.sender_nonce);
  EXPECT_EQ(rep.cipher_nid, NID_aes_256_cbc);  // answered with the client's cipher
  ASSERT_EQ(rep.certificates.size(), 1u);
  EXPECT_EQ(rep.certificates[0].publicKeyDer(), device_key.publicKeyDer());
  EXPECT_TRUE(rep.certificates[0].isSignedBy(ca.certificate()));
  ASSERT_EQ(enroller.requests.size(), 1u);
  EXPECT_EQ(enroller.requests[0].protocol, enrollment::Protocol::kScep);
  EXPECT_EQ(enroller.requests[0].operation, enrollment::Operation::kEnroll);
  EXPECT_FALSE(enroller.requests[0].credentials.message_signer);  // self-signed: no credential
}

TEST_F(ScepServiceTest, PKCSReqAnswersWithAes128WhenTheClientUsedIt) {
  auto m = pkcsReq();
  m.cipher = EVP_aes_128_cbc();
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  EXPECT_EQ(rep.cipher_nid, NID_aes_128_cbc);
}

TEST_F(ScepServiceTest, PKCSReqAsGetWithBase64MessageIsAccepted) {
  auto m = pkcsReq();
  std::string b64 = pki::base64Encode(buildPkiMessage(m));
  // As a form decoder would leave it: '+' turned into ' '.
  for (auto& c : b64) {
    if (c == '+') c = ' ';
  }
  auto r = service->handle({"GET", "", "PKIOperation", b64, {}, "127.0.0.1:5000"});
  EXPECT_EQ(r.status, 200) << r.outcome;
  EXPECT_EQ(r.content_type, kPkiMessage);
  auto rep = readCertRep(r.body, ra_cert, device_self, device_key);
  EXPECT_EQ(rep.pki_status, "0") << r.outcome;
  EXPECT_EQ(rep.certificates.size(), 1u);
}

TEST_F(ScepServiceTest, WrongChallengeGetsFailureBadRequest) {
  auto rep = exchange(pkcsReq("wrong"));
  EXPECT_TRUE(rep.signature_ok);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "2");
  EXPECT_TRUE(rep.certificates.empty());
  EXPECT_NE(last_outcome.find("badRequest"), std::string::npos) << last_outcome;
}

TEST_F(ScepServiceTest, AbsentChallengeGetsFailureBadRequest) {
  auto rep = exchange(pkcsReq(""));
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "2");
}

TEST_F(ScepServiceTest, ReplayedMessageIsRefused) {
  auto der = buildPkiMessage(pkcsReq());
  auto first = readCertRep(post(der).body, ra_cert, device_self, device_key);
  EXPECT_EQ(first.pki_status, "0");
  auto second_response = post(der);
  auto second = readCertRep(second_response.body, ra_cert, device_self, device_key);
  EXPECT_EQ(second.pki_status, "2");
  EXPECT_EQ(second.fail_info, "2");
  EXPECT_NE(second_response.outcome.find("replay"), std::string::npos);
  EXPECT_EQ(enroller.requests.size(), 1u);
}

TEST_F(ScepServiceTest, TamperedSignatureGetsBadMessageCheck) {
  auto m = pkcsReq();
  m.tamper_signature = true;
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "1");
  EXPECT_EQ(rep.recipient_nonce, m.sender_nonce);
  EXPECT_TRUE(enroller.requests.empty());
}

TEST_F(ScepServiceTest, ExpiredSignerGetsBadTime) {
  auto old = ca.issue(device_key.native(), "device-1", now - 86400L * 60, now - 86400);
  auto m = pkcsReq();
  m.signer = old;
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "3");
  EXPECT_TRUE(enroller.requests.empty());
}

TEST_F(ScepServiceTest, DesEnvelopeGetsBadAlgWhenLegacyModeIsOff) {
  auto m = pkcsReq();
  m.cipher = EVP_des_ede3_cbc();
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "0");
  EXPECT_EQ(rep.signer_digest_nid, NID_sha256);
}

TEST_F(ScepServiceTest, Sha1SignatureGetsBadAlgWhenLegacyModeIsOff) {
  auto m = pkcsReq();
  m.digest = EVP_sha1();
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "0");
  EXPECT_EQ(rep.signer_digest_nid, NID_sha256);  // never answers with the refused digest
}

TEST_F(ScepServiceTest, LegacyLabelAcceptsSha1AndDesAndAnswersInKind) {
  auto m = pkcsReq();
  m.digest = EVP_sha1();
  m.cipher = EVP_CIPHER_fetch(nullptr, "DES-CBC", nullptr);
  ASSERT_NE(m.cipher, nullptr) << "legacy provider not loaded";
  auto rep = exchange(m, "legacy");
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  EXPECT_EQ(rep.signer_digest_nid, NID_sha1);
  EXPECT_EQ(rep.cipher_nid, NID_des_cbc);
  EXPECT_EQ(rep.certificates.size(), 1u);
  EXPECT_NE(last_outcome.find("legacy algorithms: sha1, des-cbc"), std::string::npos)
      << last_outcome;
  EVP_CIPHER_free(const_cast<EVP_CIPHER*>(m.cipher));
}

TEST_F(ScepServiceTest, RejectsEnvelopeForAnotherRecipient) {
  auto m = pkcsReq();
  m.recipient = next_ca.certificate();
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "1");
}

TEST_F(ScepServiceTest, MalformedCmsGetsHttp400WithAReason) {
  auto r = post(Bytes{0x30, 0x03, 0x02, 0x01, 0x00});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "text/plain");
  EXPECT_NE(r.outcome.find("malformed pkiMessage"), std::string::npos);
}

TEST_F(ScepServiceTest, TruncatedMessageGetsHttp400) {
  auto der = buildPkiMessage(pkcsReq());
  der.resize(der.size() / 2);
  EXPECT_EQ(post(der).status, 400);
}

TEST_F(ScepServiceTest, MessageWithoutTransactionIdGetsHttp400) {
  auto m = pkcsReq();
  m.omit_transaction_id = true;
  EXPECT_EQ(post(buildPkiMessage(m)).status, 400);
}

TEST_F(ScepServiceTest, BadBase64InGetGetsHttp400) {
  auto r = service->handle({"GET", "", "PKIOperation", "***", {}, ""});
  EXPECT_EQ(r.status, 400);
}

TEST_F(ScepServiceTest, TransactionIdReusedWithAnotherKeyIsRefused) {
  auto m = pkcsReq();
  EXPECT_EQ(exchange(m).pki_status, "0");
  auto other_key = rsaKey(4);
  auto other = pkcsReq();
  other.transaction_id = m.transaction_id;
  other.message_data = makeCsr(other_key, "device-2", "secret").toDer();
  other.signer = selfSigned(other_key, "device-2");
  other.signer_key = other_key;
  auto rep = exchange(other);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "2");
  EXPECT_NE(last_outcome.find("another key"), std::string::npos);
}

TEST_F(ScepServiceTest, PKCSReqSignedByOurCertificateIsARenewal) {
  // certmonger renews with messageType 19 signed by its current certificate.
  auto current = ca.issue(device_key.native(), "device-1");
  auto m = pkcsReq("");
  m.signer = current;
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  ASSERT_EQ(enroller.requests.size(), 1u);
  EXPECT_EQ(enroller.requests[0].operation, enrollment::Operation::kReEnroll);
  ASSERT_TRUE(enroller.requests[0].credentials.message_signer);
  EXPECT_TRUE(*enroller.requests[0].credentials.message_signer == current);
}

TEST_F(ScepServiceTest, PKCSReqSignedByAForeignCertificateIsAnEnrollmentWithThatSigner) {
  // A bootstrap certificate from another CA: passed on as the message signer, not a renewal.
  TestCa maker{"Manufacturer CA", 3};
  auto bootstrap = maker.issue(device_key.native(), "device-1");
  auto m = pkcsReq();
  m.signer = bootstrap;
  EXPECT_EQ(exchange(m).pki_status, "0") << last_outcome;
  ASSERT_EQ(enroller.requests.size(), 1u);
  EXPECT_EQ(enroller.requests[0].operation, enrollment::Operation::kEnroll);
  ASSERT_TRUE(enroller.requests[0].credentials.message_signer);
  EXPECT_TRUE(*enroller.requests[0].credentials.message_signer == bootstrap);
}

TEST_F(ScepServiceTest, RenewalReqSignedByTheCurrentCertificateIsReEnrollment) {
  auto current = ca.issue(device_key.native(), "device-1");
  auto new_key = rsaKey(4);
  auto m = pkcsReq("");
  m.message_type = 17;
  m.message_data = makeCsr(new_key, "device-1", "").toDer();
  m.signer = current;
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  ASSERT_EQ(rep.certificates.size(), 1u);
  EXPECT_EQ(rep.certificates[0].publicKeyDer(), new_key.publicKeyDer());
  EXPECT_EQ(enroller.requests.at(0).operation, enrollment::Operation::kReEnroll);
}

TEST_F(ScepServiceTest, RenewalReqSignedBySelfSignedCertificateIsRefused) {
  auto m = pkcsReq();
  m.message_type = 17;
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "2");
  EXPECT_TRUE(enroller.requests.empty());
}

TEST_F(ScepServiceTest, PendingRequestIsIssuedByCertPollAfterApproval) {
  enroller.holdForApproval(true);
  auto m = pkcsReq();
  EXPECT_EQ(exchange(m).pki_status, "3");

  ClientMessage poll{
      20,          m.transaction_id, nonce(), issuerAndSubject(ca.certificate(), "device-1"),
      device_self, device_key,       ra_cert};
  EXPECT_EQ(exchange(poll).pki_status, "3");

  enroller.approve(keyId(device_key.native()));
  poll.sender_nonce = nonce();
  auto rep = exchange(poll);
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  EXPECT_EQ(rep.transaction_id, m.transaction_id);
  ASSERT_EQ(rep.certificates.size(), 1u);
  EXPECT_EQ(rep.certificates[0].publicKeyDer(), device_key.publicKeyDer());
}

TEST_F(ScepServiceTest, PKCSReqSentAgainPollsTheHeldRequestInsteadOfEnrollingTwice) {
  // certmonger polls a pending request by resending its PKCSReq with the same transactionID.
  enroller.holdForApproval(true);
  auto m = pkcsReq();
  EXPECT_EQ(exchange(m).pki_status, "3");
  m.sender_nonce = nonce();
  EXPECT_EQ(exchange(m).pki_status, "3");
  enroller.approve(keyId(device_key.native()));
  m.sender_nonce = nonce();
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  ASSERT_EQ(rep.certificates.size(), 1u);
  EXPECT_EQ(rep.certificates[0].publicKeyDer(), device_key.publicKeyDer());
  EXPECT_EQ(enroller.requests.size(), 1u);
}

TEST_F(ScepServiceTest, CertPollForAnUnknownTransactionGetsBadCertId) {
  ClientMessage poll{
      20,          "never-seen", nonce(), issuerAndSubject(ca.certificate(), "device-1"),
      device_self, device_key,   ra_cert};
  auto rep = exchange(poll);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "4");
}

TEST_F(ScepServiceTest, GetCertReturnsTheCertificateNamedByIssuerAndSerial) {
  auto issued = ca.issue(device_key.native(), "device-1");
  ClientMessage m{21,          "get-cert-1", nonce(), issuerAndSerial(issued),
                  device_self, device_key,   ra_cert};
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  ASSERT_EQ(rep.certificates.size(), 1u);
  EXPECT_TRUE(rep.certificates[0] == issued);
}

TEST_F(ScepServiceTest, GetCertForAnUnknownSerialGetsBadCertId) {
  auto stranger = next_ca.issue(device_key.native(), "someone");
  ClientMessage m{21,          "get-cert-2", nonce(), issuerAndSerial(stranger),
                  device_self, device_key,   ra_cert};
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "2");
  EXPECT_EQ(rep.fail_info, "4");
}

TEST_F(ScepServiceTest, GetCRLReturnsTheCurrentCrl) {
  ClientMessage m{22,          "get-crl-1", nonce(), issuerAndSerial(ra_cert),
                  device_self, device_key,  ra_cert};
  auto rep = exchange(m);
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
  EXPECT_EQ(rep.crl_count, 1);
  EXPECT_TRUE(rep.certificates.empty());
}

TEST_F(ScepServiceTest, GetCRLForAnotherIssuerGetsBadCertId) {
  auto stranger = next_ca.issue(device_key.native(), "someone");
  ClientMessage m{22,          "get-crl-2", nonce(), issuerAndSerial(stranger),
                  device_self, device_key,  ra_cert};
  EXPECT_EQ(exchange(m).fail_info, "4");
}

TEST_F(ScepServiceTest, RaIsCaLabelSignsRepliesWithTheCaKey) {
  auto m = pkcsReq();
  m.recipient = ca.certificate();
  auto rep = exchange(m, "ra-is-ca");
  EXPECT_TRUE(rep.signature_ok);
  EXPECT_EQ(rep.pki_status, "0") << last_outcome;
}

TEST_F(ScepServiceTest, UnknownLabelIsNotFound) { EXPECT_EQ(get("GetCACaps", "nope").status, 404); }

TEST_F(ScepServiceTest, UnknownOperationIsBadRequest) {
  EXPECT_EQ(get("GetSomething").status, 400);
}

TEST_F(ScepServiceTest, PostIsOnlyForPKIOperation) {
  EXPECT_EQ(service->handle({"POST", "", "GetCACaps", "", {}, ""}).status, 405);
  EXPECT_EQ(service->handle({"PUT", "", "GetCACaps", "", {}, ""}).status, 405);
}

TEST(ScepServiceCreate, RefusesAnRaKeyThatIsNotRsa) {
  TestCa ca{"CA", 0};
  TestEnroller enroller{ca, "secret"};
  TestDirectory directory{ca, enroller};
  auto ec = PrivateKey::generate(pki::KeyType::kEcP256);
  ASSERT_TRUE(ec);
  std::map<std::string, ScepLabelConfig> labels;
  labels.emplace("", ScepLabelConfig{ca.issue(ec->native(), "RA"), *ec, {}, false});
  auto created = ScepService::create(enroller, directory, std::move(labels));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, pki::ErrorCode::kInvalidArgument);
}

TEST(ScepServiceCreate, RefusesAnRaKeyThatDoesNotMatchItsCertificate) {
  TestCa ca{"CA", 0};
  TestEnroller enroller{ca, "secret"};
  TestDirectory directory{ca, enroller};
  std::map<std::string, ScepLabelConfig> labels;
  labels.emplace("", ScepLabelConfig{ca.issue(rsaKey(1).native(), "RA"), rsaKey(2), {}, false});
  EXPECT_FALSE(ScepService::create(enroller, directory, std::move(labels)));
}

TEST(ScepServiceCreate, RefusesALabelTheEnrollerDoesNotKnow) {
  TestCa ca{"CA", 0};
  TestEnroller enroller{ca, "secret"};
  TestDirectory directory{ca, enroller};
  std::map<std::string, ScepLabelConfig> labels;
  labels.emplace("ghost", ScepLabelConfig{ca.certificate(), ca.key(), {}, false});
  EXPECT_FALSE(ScepService::create(enroller, directory, std::move(labels)));
}

}  // namespace
}  // namespace enroll::scep

namespace enroll::scep {
namespace {

using namespace test;

TEST_F(ScepServiceTest, SurvivesCorruptionOfEveryPartOfAValidMessage) {
  // Flips one byte at a time across the whole message (a fixed stride, so it is reproducible):
  // every answer is a CertRep or a 400, never a crash or a 500.
  auto der = buildPkiMessage(pkcsReq());
  for (size_t i = 0; i < der.size(); i += 7) {
    auto bad = der;
    bad[i] ^= 0x5a;
    auto r = post(bad);
    EXPECT_TRUE(r.status == 200 || r.status == 400)
        << "byte " << i << ": " << r.status << " " << r.outcome;
    if (r.status == 200) {
      EXPECT_EQ(r.content_type, "application/x-pki-message");
    }
  }
}

}  // namespace
}  // namespace enroll::scep

namespace enroll::scep {
namespace {

TEST(FailInfoFor, MapsNotFoundToBadCertIdAndEveryOtherRefusalToBadRequest) {
  using pki::ErrorCode;
  EXPECT_EQ(failInfoFor(pki::makeError(ErrorCode::kNotFound, "")), FailInfo::kBadCertId);
  for (auto code : {ErrorCode::kInvalidArgument, ErrorCode::kMalformed, ErrorCode::kUnauthenticated,
                    ErrorCode::kPermissionDenied, ErrorCode::kAlreadyExists,
                    ErrorCode::kUnavailable, ErrorCode::kInternal}) {
    EXPECT_EQ(failInfoFor(pki::makeError(code, "")), FailInfo::kBadRequest)
        << pki::errorCodeName(code);
  }
}

}  // namespace
}  // namespace enroll::scep
