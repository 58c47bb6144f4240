// EST-coaps cases coap-client cannot produce: the same confirmable request twice with the same
// message ID (a retransmission whose ACK was lost), a Block1 upload that starts in the middle,
// and a CSR carrying the tls-unique of its own DTLS session (channel binding, RFC 9148 3).
// The peer is libcoap's client API over DTLS with a bootstrap certificate, against the real
// enrolld.
#include <gtest/gtest.h>

#include <coap3/coap.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tests/support/coaps_client.h"
#include "tests/support/enrolld_process.h"

namespace enroll::testing {
namespace {

namespace cc = enroll::coaps_client;

struct Client {
  coap_context_t* ctx = nullptr;
  coap_session_t* session = nullptr;
  std::vector<int> codes;  ///< response codes seen, as class * 100 + detail
  std::vector<std::string> payloads;
  std::string cert_file, key_file;

  ~Client() {
    if (ctx) coap_free_context(ctx);
  }
};

coap_response_t onResponse(coap_session_t* session, const coap_pdu_t* /*sent*/,
                           const coap_pdu_t* received, const coap_mid_t /*mid*/) {
  auto* c = static_cast<Client*>(coap_get_app_data(coap_session_get_context(session)));
  c->codes.push_back(cc::codeOf(received));
  c->payloads.push_back(cc::payloadOf(received));
  return COAP_RESPONSE_OK;
}

bool connect(Client& c, int port, const std::string& cert, const std::string& key) {
  cc::startLibcoap();
  c.cert_file = cert;
  c.key_file = key;
  c.ctx = coap_new_context(nullptr);
  if (!c.ctx) return false;
  coap_set_app_data(c.ctx, &c);
  coap_register_response_handler(c.ctx, onResponse);
  c.session = cc::openSession(c.ctx, port, c.cert_file, c.key_file);
  return c.session != nullptr;
}

/** POST /est/sen, CON, with the given message ID and token; block1 < 0: no Block1 option. */
coap_pdu_t* postSen(Client& c, coap_mid_t mid, uint8_t token, const std::vector<uint8_t>& body,
                    int block1 = -1, int size1 = -1) {
  return cc::makeRequest(c.session, COAP_REQUEST_CODE_POST, mid, {token}, "est/sen",
                         {286, -1, block1, size1}, body);
}

void waitFor(Client& c, size_t responses, int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (c.codes.size() < responses && std::chrono::steady_clock::now() < end)
    coap_io_process(c.ctx, 50);
}

std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

int certificatesInStore(const std::string& dir) {
  std::string out;
  run("sqlite3 " + dir + "/enrolld.db 'SELECT count(*) FROM certificates'", &out);
  return std::atoi(out.c_str());
}

int linesWith(const std::string& file, const std::string& needle) {
  std::ifstream in(file);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

class CoapsWire : public ::testing::Test {
 protected:
  void SetUp() override {
    if (enrolldBinary().empty()) GTEST_SKIP() << "ENROLLD not set";
    ASSERT_EQ(0, run(enrolldBinary() + " init " + dir_.path() + "/d --demo"));
    server_ = std::make_unique<EnrolldProcess>(enrolldBinary(), dir_.path() + "/d");
    ASSERT_NE(0, server_->coapPort());
    ASSERT_EQ(0,
              run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                  dir_.path() + "/op.key -subj /CN=DEMO-0001 -outform DER -out " + dir_.path() +
                  "/csr.der 2>/dev/null"));
    csr_ = readFile(dir_.path() + "/csr.der");
    ASSERT_GT(csr_.size(), 100u);
  }
  void TearDown() override {
    if (HasFailure()) {
      std::string log;
      run("cat " + dir_.path() + "/d/serve.err", &log);
      std::cerr << "--- enrolld stderr:\n" << log;
    }
  }
  std::string demo(const std::string& f) { return dir_.path() + "/d/demo/" + f; }
  /** POSTs the CSR to /est/sen in 64-byte Block1 blocks, each with a new token. */
  void uploadInOrder(Client& c, bool size1);

  TempDir dir_;
  std::unique_ptr<EnrolldProcess> server_;
  std::vector<uint8_t> csr_;
};

TEST_F(CoapsWire, ARetransmittedConfirmableRequestIssuesOneCertificate) {
  Client c;
  ASSERT_TRUE(connect(c, server_->coapPort(), demo("device-0001.pem"), demo("device-0001.key")));
  const int before = certificatesInStore(dir_.path() + "/d");
  // The same CON (same message ID, same token, same payload) twice, the second after the first
  // was answered: what a device sends when the ACK carrying its certificate was lost. (libcoap's
  // client would drop a second send while the first is outstanding, so the wait is needed.)
  coap_send(c.session, postSen(c, 0x4242, 0x17, csr_));
  waitFor(c, 1, 5000);
  ASSERT_EQ(1u, c.codes.size()) << "no answer over DTLS";
  EXPECT_EQ(204, c.codes.front());
  coap_send(c.session, postSen(c, 0x4242, 0x17, csr_));
  // libcoap's client drops the second answer itself (its exchange is already complete), so the
  // server's log says what it did: answered again from the kept reply, with the same serial.
  waitFor(c, 2, 1500);
  EXPECT_EQ(before + 1, certificatesInStore(dir_.path() + "/d"));
  EXPECT_EQ(1, linesWith(dir_.path() + "/d/serve.err", "status=2.04 outcome=issued") +
                   linesWith(dir_.path() + "/d/serve.err", "outcome=\"issued (separate response)"));
  EXPECT_EQ(1, linesWith(dir_.path() + "/d/serve.err", "duplicate (answered again): issued"));
  std::string log;
  run("grep -o 'serial=[0-9a-f]*' " + dir_.path() + "/d/serve.err | sort -u | wc -l", &log);
  EXPECT_EQ(1, std::atoi(log.c_str())) << "both answers carry the same certificate";
}

TEST_F(CoapsWire, ABlock1UploadThatStartsInTheMiddleIsRefusedAndIssuesNothing) {
  Client c;
  ASSERT_TRUE(connect(c, server_->coapPort(), demo("device-0001.pem"), demo("device-0001.key")));
  const int before = certificatesInStore(dir_.path() + "/d");
  // Block1 NUM=1, M=1, SZX=2 (64 bytes) without block 0 first.
  std::vector<uint8_t> second(csr_.begin() + 64, csr_.begin() + 128);
  coap_send(c.session, postSen(c, 0x5000, 0x21, second, (1 << 4) | (1 << 3) | 2,
                               static_cast<int>(csr_.size())));
  waitFor(c, 1, 5000);
  ASSERT_EQ(1u, c.codes.size()) << "no answer over DTLS";
  // RFC 7959 2.3: 4.08 (Request Entity Incomplete) for a block that does not continue a body.
  EXPECT_EQ(408, c.codes.front());
  EXPECT_EQ(before, certificatesInStore(dir_.path() + "/d"));
  // The device starts over in order and enrolls.
  uploadInOrder(c, true);
  EXPECT_EQ(before + 1, certificatesInStore(dir_.path() + "/d"));
}

TEST_F(CoapsWire, ABlock1UploadWithoutSize1EnrollsOnce) {
  Client c;
  ASSERT_TRUE(connect(c, server_->coapPort(), demo("device-0001.pem"), demo("device-0001.key")));
  const int before = certificatesInStore(dir_.path() + "/d");
  uploadInOrder(c, false);
  EXPECT_EQ(before + 1, certificatesInStore(dir_.path() + "/d"));
}

/** GET /est/crts and its answer: afterwards the DTLS handshake is complete. */
bool handshake(Client& c) {
  size_t seen = c.codes.size();
  coap_send(c.session, cc::makeRequest(c.session, COAP_REQUEST_CODE_GET,
                                       coap_new_message_id(c.session), {0x01}, "est/crts"));
  waitFor(c, seen + 1, 5000);
  return c.codes.size() == seen + 1 && c.codes.back() == 205;
}

/** POST body to path and waits for the answer; its code, or 0 without one. */
int post(Client& c, const std::string& path, const std::vector<uint8_t>& body) {
  size_t seen = c.codes.size();
  coap_send(c.session,
            cc::makeRequest(c.session, COAP_REQUEST_CODE_POST, coap_new_message_id(c.session),
                            {0x02}, path, {286, 287, -1, -1}, body));
  waitFor(c, seen + 1, 5000);
  return c.codes.size() == seen + 1 ? c.codes.back() : 0;
}

TEST_F(CoapsWire, ACsrCarryingItsSessionsTlsUniqueEnrollsOnABoundLabel) {
  Client c;
  ASSERT_TRUE(connect(c, server_->coapPort(), demo("device-0001.pem"), demo("device-0001.key")));
  ASSERT_TRUE(handshake(c)) << "no DTLS session";
  std::vector<uint8_t> binding = cc::tlsUnique(c.session);
  ASSERT_EQ(12u, binding.size()) << "DTLS 1.2 Finished verify_data is 12 bytes";
  const int before = certificatesInStore(dir_.path() + "/d");
  EXPECT_EQ(204, post(c, "est/bound/sen", cc::makeCsr("DEMO-0001", cc::base64(binding))))
      << c.payloads.back();
  EXPECT_EQ(before + 1, certificatesInStore(dir_.path() + "/d"));
}

TEST_F(CoapsWire, TheTlsUniqueOfAnotherSessionIsRefused) {
  Client first, second;
  ASSERT_TRUE(
      connect(first, server_->coapPort(), demo("device-0001.pem"), demo("device-0001.key")));
  ASSERT_TRUE(
      connect(second, server_->coapPort(), demo("device-0001.pem"), demo("device-0001.key")));
  ASSERT_TRUE(handshake(first));
  ASSERT_TRUE(handshake(second));
  std::vector<uint8_t> other = cc::tlsUnique(first.session);
  ASSERT_FALSE(other.empty());
  ASSERT_NE(other, cc::tlsUnique(second.session));
  const int before = certificatesInStore(dir_.path() + "/d");
  EXPECT_EQ(403, post(second, "est/bound/sen", cc::makeCsr("DEMO-0001", cc::base64(other))));
  EXPECT_NE(std::string::npos, second.payloads.back().find("does not match the tls-unique value"))
      << second.payloads.back();
  // Without any challengePassword, the bound label refuses too, naming its policy.
  EXPECT_EQ(403, post(second, "est/bound/sen", cc::makeCsr("DEMO-0001")));
  EXPECT_NE(std::string::npos, second.payloads.back().find("require_channel_binding"))
      << second.payloads.back();
  EXPECT_EQ(before, certificatesInStore(dir_.path() + "/d"));
}

void CoapsWire::uploadInOrder(Client& c, bool size1) {
  for (int num = 0; num * 64 < static_cast<int>(csr_.size()); ++num) {
    size_t from = static_cast<size_t>(num) * 64;
    size_t to = std::min(csr_.size(), from + 64);
    bool more = to < csr_.size();
    std::vector<uint8_t> part(csr_.begin() + static_cast<long>(from),
                              csr_.begin() + static_cast<long>(to));
    size_t seen = c.codes.size();
    coap_send(c.session,
              postSen(c, static_cast<coap_mid_t>(0x5001 + num), static_cast<uint8_t>(0x30 + num),
                      part, (num << 4) | (more ? 8 : 0) | 2,
                      num == 0 && size1 ? static_cast<int>(csr_.size()) : -1));
    waitFor(c, seen + 1, 5000);
    ASSERT_EQ(seen + 1, c.codes.size());
    EXPECT_EQ(more ? 231 : 204, c.codes.back()) << "block " << num;
  }
}

}  // namespace
}  // namespace enroll::testing
