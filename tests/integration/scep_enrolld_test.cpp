// SCEP (RFC 8894) against the real enrolld, with our own test client (OpenSSL's PKCS7 API, not the
// server's CMS code) for what scepclient and certmonger cannot produce: a replayed message, a
// tampered signature, a wrong challenge, GetCert, GetCRL after a revocation, and CertPoll after
// an operator approves a held request.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "server/ca/certificate_builder.h"
#include "server/ca/profile.h"
#include "server/ca/serial_generator.h"
#include "tests/support/enrolld_process.h"
#include "tests/unit/scep/scep_test_client.h"

namespace enroll::testing {
namespace {

namespace st = enroll::scep::test;

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/** POSTs a pkiMessage to 127.0.0.1:port/path over plain HTTP; returns the body of a 200, else "".
 */
pki::Bytes postPkiOperation(int port, const std::string& path, const pki::Bytes& body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {};
  }
  std::string head =
      "POST " + path + "?operation=PKIOperation HTTP/1.1\r\nHost: localhost\r\n" +
      "Content-Type: application/x-pki-message\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  std::string req = head + std::string(body.begin(), body.end());
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t at = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.1 200", 0) != 0 || at == std::string::npos) return {};
  return pki::Bytes(resp.begin() + static_cast<long>(at) + 4, resp.end());
}

/** A device: an RSA key, a self-signed signer certificate, and a CSR with a challenge. */
struct Device {
  pki::PrivateKey key = *pki::PrivateKey::generate(pki::KeyType::kRsa2048);
  pki::Certificate self_signed = selfSign();
  pki::Bytes csr(const std::string& cn, const std::string& challenge) const {
    X509_REQ* req = X509_REQ_new();
    auto name = *ca::parseName("CN=" + cn);
    X509_REQ_set_subject_name(req, name.get());
    X509_REQ_set_pubkey(req, key.native());
    X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, MBSTRING_UTF8,
                              reinterpret_cast<const unsigned char*>(challenge.c_str()), -1);
    X509_REQ_sign(req, key.native(), EVP_sha256());
    unsigned char* der = nullptr;
    int len = i2d_X509_REQ(req, &der);
    pki::Bytes out(der, der + len);
    OPENSSL_free(der);
    X509_REQ_free(req);
    return out;
  }

 private:
  pki::Certificate selfSign() const {
    auto name = *ca::parseName("CN=scep-test-device");
    auto serial = *ca::SerialGenerator().next();
    ca::CertificateBuilder b;
    b.subject(name.get()).publicKey(key.native()).serial(serial.get());
    b.validity(std::time(nullptr) - 60, std::time(nullptr) + 3600);
    return *b.sign(key.native());
  }
};

class ScepAgainstEnrolld : public ::testing::Test {
 protected:
  void SetUp() override {
    if (enrolldBinary().empty()) GTEST_SKIP() << "ENROLLD is not set";
    dir_ = tmp_.path() + "/ca";
    std::string out;
    ASSERT_EQ(0, run(enrolldBinary() + " init " + dir_ + " --demo", &out)) << out;
    server_ = std::make_unique<EnrolldProcess>(enrolldBinary(), dir_);
    std::string printed = readText(dir_ + "/serve.out");
    size_t at = printed.find("listening http http://127.0.0.1:");
    ASSERT_NE(std::string::npos, at) << printed;
    http_port_ =
        std::atoi(printed.c_str() + at + std::string("listening http http://127.0.0.1:").size());
    ra_ = *pki::Certificate::fromPem(readText(dir_ + "/ca/scep-ra.pem"));
    issuing_ = *pki::Certificate::fromPem(readText(dir_ + "/ca/issuing-ca.pem"));
    challenge_ = readText(dir_ + "/demo/scep-challenge.txt");
    while (!challenge_.empty() && challenge_.back() == '\n') challenge_.pop_back();
  }

  st::ClientMessage message(const Device& d, int type, pki::Bytes data, const std::string& tx) {
    return st::ClientMessage{type,  tx,  *pki::randomBytes(16), std::move(data), d.self_signed,
                             d.key, *ra_};
  }
  st::ClientCertRep exchange(const st::ClientMessage& m, const Device& d,
                             const std::string& path = "/scep") {
    pki::Bytes reply = postPkiOperation(http_port_, path, st::buildPkiMessage(m));
    EXPECT_FALSE(reply.empty());
    return st::readCertRep(reply, *ra_, m.signer, d.key);
  }
  pki::Certificate enroll(const Device& d, const std::string& cn) {
    auto rep = exchange(message(d, 19, d.csr(cn, challenge_), "tx-" + cn), d);
    EXPECT_EQ("0", rep.pki_status) << rep.fail_info;
    EXPECT_EQ(1u, rep.certificates.size());
    return rep.certificates.at(0);
  }

  TempDir tmp_;
  std::string dir_, challenge_;
  std::unique_ptr<EnrolldProcess> server_;
  int http_port_ = 0;
  std::optional<pki::Certificate> ra_, issuing_;
};

TEST_F(ScepAgainstEnrolld, IssuesForTheChallengeAndRefusesAReplay) {
  Device d;
  auto m = message(d, 19, d.csr("CAM-1", challenge_), "tx-replay");
  auto first = exchange(m, d);
  ASSERT_EQ("0", first.pki_status) << first.fail_info;
  ASSERT_EQ(1u, first.certificates.size());
  EXPECT_EQ(d.key.publicKeyDer(), first.certificates[0].publicKeyDer());
  EXPECT_TRUE(first.signature_ok);
  EXPECT_EQ(m.sender_nonce, first.recipient_nonce);
  auto again = exchange(m, d);  // the same transactionID and senderNonce
  EXPECT_EQ("2", again.pki_status);
  EXPECT_EQ("2", again.fail_info);  // badRequest
}

TEST_F(ScepAgainstEnrolld, RefusesAWrongChallengeWithBadRequest) {
  Device d;
  auto rep = exchange(message(d, 19, d.csr("CAM-2", "not-the-challenge"), "tx-wrong"), d);
  EXPECT_EQ("2", rep.pki_status);
  EXPECT_EQ("2", rep.fail_info);
}

TEST_F(ScepAgainstEnrolld, RefusesATamperedSignatureWithBadMessageCheck) {
  Device d;
  auto m = message(d, 19, d.csr("CAM-3", challenge_), "tx-tampered");
  m.tamper_signature = true;
  auto rep = exchange(m, d);
  EXPECT_EQ("2", rep.pki_status);
  EXPECT_EQ("1", rep.fail_info);  // badMessageCheck
}

TEST_F(ScepAgainstEnrolld, GetCertReturnsTheIssuedCertificate) {
  Device d;
  pki::Certificate cert = enroll(d, "CAM-4");
  auto rep = exchange(message(d, 21, st::issuerAndSerial(cert), "tx-getcert"), d);
  ASSERT_EQ("0", rep.pki_status) << rep.fail_info;
  ASSERT_EQ(1u, rep.certificates.size());
  EXPECT_TRUE(rep.certificates[0] == cert);
}

TEST_F(ScepAgainstEnrolld, GetCrlCarriesARevocation) {
  Device d;
  pki::Certificate cert = enroll(d, "CAM-5");
  std::string out;
  ASSERT_EQ(0,
            run(enrolldBinary() + " revoke " + dir_ + " " + cert.serialHex() + " --reason 1", &out))
      << out;
  auto rep = exchange(message(d, 22, st::issuerAndSerial(cert), "tx-getcrl"), d);
  ASSERT_EQ("0", rep.pki_status) << rep.fail_info;
  EXPECT_EQ(1, rep.crl_count);
}

TEST_F(ScepAgainstEnrolld, CertPollGetsTheCertificateOnceApproved) {
  Device d;
  auto held = exchange(message(d, 19, d.csr("CAM-6", challenge_), "tx-poll"), d, "/scep/approval");
  ASSERT_EQ("3", held.pki_status) << held.fail_info;  // PENDING
  auto poll = message(d, 20, st::issuerAndSubject(*issuing_, "CAM-6"), "tx-poll");
  EXPECT_EQ("3", exchange(poll, d, "/scep/approval").pki_status);
  std::string list;
  ASSERT_EQ(0, run(enrolldBinary() + " pending " + dir_ + " list", &list));
  std::string id = list.substr(0, list.find('\t'));
  ASSERT_EQ(0, run(enrolldBinary() + " pending " + dir_ + " approve " + id, &list)) << list;
  poll.sender_nonce = *pki::randomBytes(16);
  auto done = exchange(poll, d, "/scep/approval");
  ASSERT_EQ("0", done.pki_status) << done.fail_info;
  ASSERT_EQ(1u, done.certificates.size());
  EXPECT_EQ(d.key.publicKeyDer(), done.certificates[0].publicKeyDer());
}

TEST_F(ScepAgainstEnrolld, ConcurrentCopiesOfOneMessageGetOneCertificate) {
  // The same PKCSReq (transactionID and senderNonce) posted by several clients at once: the
  // nonce is committed with the certificate under a unique key, so exactly one copy is issued
  // and the others are refused with badRequest, whichever check catches them.
  constexpr int kCopies = 4;
  Device d;
  auto m = message(d, 19, d.csr("CAM-7", challenge_), "tx-concurrent");
  const pki::Bytes der = st::buildPkiMessage(m);
  std::vector<pki::Bytes> replies(kCopies);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCopies; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kCopies) std::this_thread::yield();
      replies[static_cast<size_t>(i)] = postPkiOperation(http_port_, "/scep", der);
    });
  }
  for (auto& t : threads) t.join();
  int issued = 0, refused = 0;
  for (const auto& reply : replies) {
    ASSERT_FALSE(reply.empty());
    auto rep = st::readCertRep(reply, *ra_, m.signer, d.key);
    EXPECT_TRUE(rep.signature_ok);
    if (rep.pki_status == "0") {
      ++issued;
      EXPECT_EQ(1u, rep.certificates.size());
    } else {
      ++refused;
      EXPECT_EQ("2", rep.pki_status);
      EXPECT_EQ("2", rep.fail_info);  // badRequest
    }
  }
  EXPECT_EQ(1, issued);
  EXPECT_EQ(kCopies - 1, refused);
}

TEST_F(ScepAgainstEnrolld, AHeldRequestCarriesItsTransactionBinding) {
  // The binding of the transactionID to the key is committed with the held request: another key
  // under that transactionID is refused, the same request sent again is answered from the held
  // one (certmonger's way of polling), a replay of that is refused, and CertPoll finds it.
  Device d, other;
  auto first = message(d, 19, d.csr("CAM-8", challenge_), "tx-held");
  ASSERT_EQ("3", exchange(first, d, "/scep/approval").pki_status);

  auto hijack = exchange(message(other, 19, other.csr("CAM-8", challenge_), "tx-held"), other,
                         "/scep/approval");
  EXPECT_EQ("2", hijack.pki_status);
  EXPECT_EQ("2", hijack.fail_info);  // badRequest: the transactionID belongs to another key

  auto resent = first;
  resent.sender_nonce = *pki::randomBytes(16);
  EXPECT_EQ("3", exchange(resent, d, "/scep/approval").pki_status);
  auto replayed = exchange(resent, d, "/scep/approval");
  EXPECT_EQ("2", replayed.pki_status);
  EXPECT_EQ("2", replayed.fail_info);

  std::string list;
  ASSERT_EQ(0, run(enrolldBinary() + " pending " + dir_ + " list", &list));
  EXPECT_EQ(1, std::count(list.begin(), list.end(), '\n')) << list;  // one held request only
  std::string id = list.substr(0, list.find('\t'));
  ASSERT_EQ(0, run(enrolldBinary() + " pending " + dir_ + " approve " + id, &list)) << list;
  auto done = exchange(message(d, 20, st::issuerAndSubject(*issuing_, "CAM-8"), "tx-held"), d,
                       "/scep/approval");
  ASSERT_EQ("0", done.pki_status) << done.fail_info;
  ASSERT_EQ(1u, done.certificates.size());
  EXPECT_EQ(d.key.publicKeyDer(), done.certificates[0].publicKeyDer());
}

}  // namespace
}  // namespace enroll::testing
