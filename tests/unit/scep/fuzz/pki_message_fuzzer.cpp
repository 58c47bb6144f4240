// libFuzzer target for the SCEP request decoder (STYLE.md: one fuzz target per decoder). The lead
// may move it under fuzz/. Build with clang, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     tests/unit/scep/fuzz/pki_message_fuzzer.cpp protocols/scep/*.cpp protocols/enrollment/*.cpp \
//     pki/*.cpp -lssl -lcrypto -o pki_message_fuzzer
//   ./pki_message_fuzzer -max_total_time=300 corpus/ tests/unit/scep/vectors/
// The RA is the one of the scepclient vectors when SCEP_FUZZ_RA_DIR points at that folder (so
// the seeds decrypt), else a fresh RSA key with a self-signed certificate.
#include <openssl/x509.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "protocols/scep/pki_message.h"

namespace {

using namespace enroll;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

scep::RaIdentity makeRa() {
  if (const char* dir = std::getenv("SCEP_FUZZ_RA_DIR")) {
    auto cert = pki::Certificate::fromPem(readFile(std::string(dir) + "/vector-ra.pem"));
    auto key = pki::PrivateKey::fromPem(readFile(std::string(dir) + "/vector-ra.key"));
    if (cert && key) return {*cert, *key};
  }
  auto key = pki::PrivateKey::generate(pki::KeyType::kRsa2048);
  pki::UniquePtr<X509> x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("fuzz RA"), -1, -1, 0);
  X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  X509_set_pubkey(x.get(), key->native());
  X509_sign(x.get(), key->native(), EVP_sha256());
  return {pki::Certificate::adopt(std::move(x)), *key};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const scep::RaIdentity ra = makeRa();
  static const bool legacy = scep::loadLegacyProviders().has_value();
  pki::Bytes bytes(data, data + size);
  auto msg = scep::decodePkiMessage(bytes, ra, scep::AlgorithmPolicy(legacy), std::time(nullptr));
  if (msg && !msg->refusal) {
    (void)scep::parseIssuerAndSerial(msg->message_data);
    (void)scep::parseIssuerAndSubject(msg->message_data);
  }
  (void)scep::parseIssuerAndSerial(bytes);
  (void)scep::parseIssuerAndSubject(bytes);
  return 0;
}
