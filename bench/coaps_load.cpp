// coaps_load: EST-coaps (RFC 9148) enrollments per second against enrolld, with libcoap's client
// API over DTLS 1.2: "fresh" makes a new DTLS session (full handshake with the bootstrap
// certificate) for every enrollment, "session" sends every enrollment over one DTLS session.
// Each enrollment is POST /est/sen with its own P-256 CSR, made before timing starts.
// Not part of enrolld. Usage:
//   coaps_load --port P --cert boot.pem --key boot.key [--mode fresh|session] [-n 200]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <coap3/coap.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct State {
  int done = 0;
  int ok = 0;
  int last_code = 0;
};

coap_response_t onResponse(coap_session_t* session, const coap_pdu_t*, const coap_pdu_t* received,
                           const coap_mid_t) {
  auto* st = static_cast<State*>(coap_get_app_data(coap_session_get_context(session)));
  coap_pdu_code_t code = coap_pdu_get_code(received);
  st->last_code = (code >> 5) * 100 + (code & 0x1f);
  if (st->last_code == 204) ++st->ok;
  ++st->done;
  return COAP_RESPONSE_OK;
}

std::vector<uint8_t> makeCsr(int i) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509_REQ* req = X509_REQ_new();
  X509_NAME* name = X509_NAME_new();
  std::string cn = "BENCH-" + std::to_string(i);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const uint8_t*>(cn.c_str()),
                             -1, -1, 0);
  X509_REQ_set_subject_name(req, name);
  X509_REQ_set_pubkey(req, key);
  X509_REQ_sign(req, key, EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req, &der);
  std::vector<uint8_t> out(der, der + std::max(n, 0));
  OPENSSL_free(der);
  X509_NAME_free(name);
  X509_REQ_free(req);
  EVP_PKEY_free(key);
  return out;
}

coap_session_t* openSession(coap_context_t* ctx, int port, const std::string& cert,
                            const std::string& key) {
  coap_address_t dst;
  coap_address_init(&dst);
  dst.size = sizeof(sockaddr_in);
  dst.addr.sin.sin_family = AF_INET;
  dst.addr.sin.sin_port = htons(static_cast<uint16_t>(port));
  dst.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  static char sni[] = "localhost";
  coap_dtls_pki_t pki;
  std::memset(&pki, 0, sizeof(pki));
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  pki.client_sni = sni;
  pki.pki_key.key_type = COAP_PKI_KEY_PEM;
  pki.pki_key.key.pem.public_cert = cert.c_str();
  pki.pki_key.key.pem.private_key = key.c_str();
  return coap_new_client_session_pki(ctx, nullptr, &dst, COAP_PROTO_DTLS, &pki);
}

void postSen(coap_session_t* s, const std::vector<uint8_t>& csr, uint8_t token) {
  coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_new_message_id(s),
                                  coap_session_max_pdu_size(s));
  coap_add_token(pdu, 1, &token);
  coap_add_option(pdu, COAP_OPTION_URI_PATH, 3, reinterpret_cast<const uint8_t*>("est"));
  coap_add_option(pdu, COAP_OPTION_URI_PATH, 3, reinterpret_cast<const uint8_t*>("sen"));
  uint8_t buf[4];
  coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT, coap_encode_var_safe(buf, sizeof(buf), 286),
                  buf);
  coap_add_option(pdu, COAP_OPTION_ACCEPT, coap_encode_var_safe(buf, sizeof(buf), 287), buf);
  coap_add_data(pdu, csr.size(), csr.data());
  coap_send(s, pdu);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, n = 200;
  std::string cert, key, mode = "fresh";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--port")
      port = std::atoi(v.c_str());
    else if (a == "--cert")
      cert = v;
    else if (a == "--key")
      key = v;
    else if (a == "--mode")
      mode = v;
    else if (a == "-n")
      n = std::atoi(v.c_str());
  }
  if (port == 0 || cert.empty() || key.empty() || (mode != "fresh" && mode != "session")) {
    std::fprintf(stderr,
                 "usage: coaps_load --port P --cert F --key F [--mode fresh|session] [-n N]\n");
    return 2;
  }
  coap_startup();
  coap_set_log_level(LOG_ERR);
  std::vector<std::vector<uint8_t>> csrs;
  for (int i = 0; i < n; ++i) csrs.push_back(makeCsr(i));

  State st;
  coap_context_t* ctx = coap_new_context(nullptr);
  coap_set_app_data(ctx, &st);
  coap_register_response_handler(ctx, onResponse);
  std::vector<double> latencies;
  coap_session_t* shared = mode == "session" ? openSession(ctx, port, cert, key) : nullptr;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto s0 = std::chrono::steady_clock::now();
    coap_session_t* s = shared ? shared : openSession(ctx, port, cert, key);
    int before = st.done;
    postSen(s, csrs[static_cast<size_t>(i)], static_cast<uint8_t>(i));
    auto deadline = s0 + std::chrono::seconds(10);
    while (st.done == before && std::chrono::steady_clock::now() < deadline)
      coap_io_process(ctx, 10);
    latencies.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count());
    if (!shared) coap_session_release(s);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  std::printf("mode=%s enrollments=%d ok=%d seconds=%.2f per_second=%.1f p50_ms=%.2f p99_ms=%.2f\n",
              mode.c_str(), n, st.ok, secs, st.ok / secs, latencies[latencies.size() / 2],
              latencies[latencies.size() * 99 / 100]);
  if (shared) coap_session_release(shared);
  coap_free_context(ctx);
  return st.ok == n ? 0 : 1;
}
