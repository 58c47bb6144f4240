// libFuzzer target for pki/direct_decode (STYLE.md: one fuzz target per decoder), differential:
// whatever the direct readers accept, OpenSSL's own d2i accepts too, with the same bytes. Build
// with clang, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     tests/unit/pki/fuzz/direct_decode_fuzzer.cpp pki/direct_decode.cpp -lssl -lcrypto \
//     -o direct_decode_fuzzer
//   ./direct_decode_fuzzer -max_total_time=300 corpus/ tests/vectors/
// The first input byte picks the reader (request, certificate, SignedData); the rest is the DER.
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <cstring>

#include "pki/direct_decode.h"

namespace {

using namespace enroll::pki;

/** The DER i2d writes for x, compared with the len bytes at der. */
template <typename T>
bool sameEncoding(const T* x, int (*i2d)(const T*, unsigned char**), const uint8_t* der,
                  size_t len) {
  unsigned char* out = nullptr;
  const int n = i2d(x, &out);
  const bool same = n == static_cast<int>(len) && std::memcmp(out, der, len) == 0;
  OPENSSL_free(out);
  return same;
}

void check(bool ok) {
  if (!ok) std::abort();  // a difference from OpenSSL's reader: libFuzzer keeps the input
}

void request(const uint8_t* der, size_t len) {
  UniquePtr<X509_REQ> direct = direct::decodeRequest(der, len);
  if (!direct) return;
  const unsigned char* p = der;
  UniquePtr<X509_REQ> ref(d2i_X509_REQ(nullptr, &p, static_cast<long>(len)));
  check(ref != nullptr && p == der + len);
  check(sameEncoding<X509_REQ>(direct.get(), i2d_X509_REQ, der, len));
  check(EVP_PKEY_eq(X509_REQ_get0_pubkey(direct.get()), X509_REQ_get0_pubkey(ref.get())) == 1);
}

void certificate(const uint8_t* der, size_t len) {
  UniquePtr<X509> direct = direct::decodeCertificate(der, len);
  if (!direct) return;
  const unsigned char* p = der;
  UniquePtr<X509> ref(d2i_X509(nullptr, &p, static_cast<long>(len)));
  check(ref != nullptr && p == der + len);
  check(sameEncoding<X509>(direct.get(), i2d_X509, der, len));
  check(X509_cmp(direct.get(), ref.get()) == 0);
  check(EVP_PKEY_eq(X509_get0_pubkey(direct.get()), X509_get0_pubkey(ref.get())) == 1);
}

void signedData(const uint8_t* der, size_t len) {
  auto parts = direct::splitSignedData(der, len);
  if (!parts) return;
  // The rest without certificates is a ContentInfo of its own; each certificate span lies
  // inside the input.
  const unsigned char* p = parts->without_certificates.data();
  UniquePtr<CMS_ContentInfo> rest(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(parts->without_certificates.size())));
  if (!rest) return;  // a SignedData OpenSSL refuses: readSignedData takes the general path
  for (const auto& [at, size] : parts->certificates) check(at >= der && at + size <= der + len);
  const unsigned char* q = der;
  UniquePtr<CMS_ContentInfo> whole(d2i_CMS_ContentInfo(nullptr, &q, static_cast<long>(len)));
  if (!whole) return;  // a certificate OpenSSL refuses (the split path checks each one)
  X509Stack certs(CMS_get1_certs(whole.get()));
  check(certs && sk_X509_num(certs.get()) == static_cast<int>(parts->certificates.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  switch (data[0] % 3) {
    case 0:
      request(data + 1, size - 1);
      break;
    case 1:
      certificate(data + 1, size - 1);
      break;
    default:
      signedData(data + 1, size - 1);
      break;
  }
  ERR_clear_error();
  return 0;
}
