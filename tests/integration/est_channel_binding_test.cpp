// Channel binding with the right value (RFC 7030 3.5; RFC 9266 on TLS 1.3): the client reads
// tls-unique or tls-exporter from its own connection, puts it into the CSR's challengePassword,
// and enrolls on the same connection. curl cannot do this, so this test is its own client.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "pki/encoding.h"
#include "pki/private_key.h"
#include "tests/support/enrolld_process.h"

namespace enroll::testing {
namespace {

/** A P-256 CSR for CN=cn, with a challengePassword when given. Base64 DER. */
std::string makeCsr(const std::string& cn, const std::string& challenge) {
  auto key = pki::PrivateKey::generate(pki::KeyType::kEcP256);
  X509_REQ* req = X509_REQ_new();
  X509_NAME* name = X509_REQ_get_subject_name(req);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req, key->native());
  if (!challenge.empty()) {
    X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, MBSTRING_UTF8,
                              reinterpret_cast<const unsigned char*>(challenge.c_str()), -1);
  }
  X509_REQ_sign(req, key->native(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req, &der);
  std::string b64 = pki::base64Encode(der, static_cast<size_t>(n));
  OPENSSL_free(der);
  X509_REQ_free(req);
  return b64;
}

class EstChannelBinding : public ::testing::Test {
 protected:
  void SetUp() override {
    if (enrolldBinary().empty()) GTEST_SKIP() << "ENROLLD is not set";
    std::string out;
    ASSERT_EQ(0, run(enrolldBinary() + " init " + dir_.path() + "/ca --demo", &out)) << out;
    server_ = std::make_unique<EnrolldProcess>(enrolldBinary(), dir_.path() + "/ca");
  }
  std::string file(const std::string& rel) const { return dir_.path() + "/ca/" + rel; }

  TempDir dir_;
  std::unique_ptr<EnrolldProcess> server_;
};

TEST_F(EstChannelBinding, AcceptsTlsUniqueOnTls12) {
  TlsClient c(server_->port(), file("ca/root-ca.pem"), file("demo/device-0001.pem"),
              file("demo/device-0001.key"), TLS1_2_VERSION);
  ASSERT_TRUE(c.connected());
  std::string csr =
      makeCsr("DEMO-0001", pki::base64Encode(c.channelBinding().data(), c.channelBinding().size()));
  std::string r = c.post("/.well-known/est/bound/simpleenroll", "application/pkcs10", csr);
  EXPECT_EQ("200", r.substr(0, 3)) << r;
}

TEST_F(EstChannelBinding, AcceptsTlsExporterOnTls13) {
  TlsClient c(server_->port(), file("ca/root-ca.pem"), file("demo/device-0001.pem"),
              file("demo/device-0001.key"), TLS1_3_VERSION);
  ASSERT_TRUE(c.connected());
  ASSERT_EQ(TLS1_3_VERSION, SSL_version(c.ssl()));
  std::string csr =
      makeCsr("DEMO-0001", pki::base64Encode(c.channelBinding().data(), c.channelBinding().size()));
  std::string r = c.post("/.well-known/est/bound/simpleenroll", "application/pkcs10", csr);
  EXPECT_EQ("200", r.substr(0, 3)) << r;
}

TEST_F(EstChannelBinding, RefusesTheBindingOfAnotherConnection) {
  TlsClient first(server_->port(), file("ca/root-ca.pem"), file("demo/device-0001.pem"),
                  file("demo/device-0001.key"), TLS1_2_VERSION);
  TlsClient second(server_->port(), file("ca/root-ca.pem"), file("demo/device-0001.pem"),
                   file("demo/device-0001.key"), TLS1_2_VERSION);
  ASSERT_TRUE(first.connected());
  ASSERT_TRUE(second.connected());
  auto other = first.channelBinding();
  std::string csr = makeCsr("DEMO-0001", pki::base64Encode(other.data(), other.size()));
  std::string r = second.post("/.well-known/est/bound/simpleenroll", "application/pkcs10", csr);
  EXPECT_EQ("403", r.substr(0, 3)) << r;
  EXPECT_NE(std::string::npos, r.find("does not match the tls-unique value")) << r;
}

TEST_F(EstChannelBinding, ConcurrentDevicesAllGetDistinctCertificates) {
  // 8 devices at once over separate connections: every one gets its own certificate.
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      TlsClient c(server_->port(), file("ca/root-ca.pem"), file("demo/device-0002.pem"),
                  file("demo/device-0002.key"), TLS1_2_VERSION);
      if (!c.connected()) return;
      results[static_cast<size_t>(i)] =
          c.post("/.well-known/est/simpleenroll", "application/pkcs10", makeCsr("x", ""));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> bodies;
  for (const auto& r : results) {
    EXPECT_EQ("200", r.substr(0, 3)) << r;
    bodies.insert(r);
  }
  EXPECT_EQ(8u, bodies.size());
}

/** A one-time token made with `enrolld tokens` for a label: its text. */
std::string makeToken(const std::string& dir, const std::string& label, const std::string& device) {
  std::string out;
  EXPECT_EQ(0, run(enrolldBinary() + " tokens " + dir + " create --label " + label + " --device " +
                       device,
                   &out))
      << out;
  size_t at = out.find("edt_");
  return at == std::string::npos ? std::string() : out.substr(at, 36);
}

std::string basicHeader(const std::string& user, const std::string& password) {
  std::string cred = user + ":" + password;
  return "Authorization: Basic " +
         pki::base64Encode(reinterpret_cast<const uint8_t*>(cred.data()), cred.size()) + "\r\n";
}

TEST_F(EstChannelBinding, BindsATokenEnrollmentToItsTlsConnection) {
  // A device without a bootstrap certificate: the one-time token is its Basic password, and the
  // CSR's challengePassword binds the request to this TLS connection (label "bound").
  std::string token = makeToken(dir_.path() + "/ca", "bound", "TOK-1");
  ASSERT_FALSE(token.empty());
  {
    TlsClient other(server_->port(), file("ca/root-ca.pem"), "", "", TLS1_2_VERSION);
    TlsClient c(server_->port(), file("ca/root-ca.pem"), "", "", TLS1_2_VERSION);
    ASSERT_TRUE(c.connected());
    auto foreign = other.channelBinding();
    std::string r = c.post("/.well-known/est/bound/simpleenroll", "application/pkcs10",
                           makeCsr("TOK-1", pki::base64Encode(foreign.data(), foreign.size())),
                           basicHeader("TOK-1", token));
    EXPECT_EQ("403", r.substr(0, 3)) << r;
  }
  {
    TlsClient c(server_->port(), file("ca/root-ca.pem"), "", "", TLS1_2_VERSION);
    std::string r = c.post("/.well-known/est/bound/simpleenroll", "application/pkcs10",
                           makeCsr("TOK-1", ""), basicHeader("TOK-1", token));
    EXPECT_EQ("403", r.substr(0, 3)) << "the label requires the binding: " << r;
  }
  // The refused attempts did not use the token up.
  TlsClient c(server_->port(), file("ca/root-ca.pem"), "", "", TLS1_2_VERSION);
  std::string csr =
      makeCsr("TOK-1", pki::base64Encode(c.channelBinding().data(), c.channelBinding().size()));
  std::string r = c.post("/.well-known/est/bound/simpleenroll", "application/pkcs10", csr,
                         basicHeader("TOK-1", token));
  EXPECT_EQ("200", r.substr(0, 3)) << r;
  TlsClient again(server_->port(), file("ca/root-ca.pem"), "", "", TLS1_3_VERSION);
  std::string csr2 = makeCsr(
      "TOK-1", pki::base64Encode(again.channelBinding().data(), again.channelBinding().size()));
  EXPECT_EQ("403", again
                       .post("/.well-known/est/bound/simpleenroll", "application/pkcs10", csr2,
                             basicHeader("TOK-1", token))
                       .substr(0, 3))
      << "a token is single use";
}

}  // namespace
}  // namespace enroll::testing
