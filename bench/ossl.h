// Small OpenSSL helpers shared by the bench programs only (bench/ links nothing from the
// server tree, so it keeps building while the server is being written).
#pragma once

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>
#include <memory>
#include <string>
#include <string_view>

namespace enroll::bench {

/** Deleter per OpenSSL type, so UniquePtr<T> frees with the right function. */
template <typename T>
struct Deleter;
#define ENROLL_BENCH_DELETER(T, fn)                 \
  template <>                                       \
  struct Deleter<T> {                               \
    void operator()(T* p) const noexcept { fn(p); } \
  }
ENROLL_BENCH_DELETER(X509, X509_free);
ENROLL_BENCH_DELETER(X509_REQ, X509_REQ_free);
ENROLL_BENCH_DELETER(EVP_PKEY, EVP_PKEY_free);
ENROLL_BENCH_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
ENROLL_BENCH_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
ENROLL_BENCH_DELETER(BIO, BIO_free_all);
ENROLL_BENCH_DELETER(PKCS7, PKCS7_free);
ENROLL_BENCH_DELETER(SSL_CTX, SSL_CTX_free);
ENROLL_BENCH_DELETER(SSL, SSL_free);
ENROLL_BENCH_DELETER(X509_NAME, X509_NAME_free);
ENROLL_BENCH_DELETER(BIGNUM, BN_free);
#undef ENROLL_BENCH_DELETER

/** Owning pointer to an OpenSSL object. */
template <typename T>
using UniquePtr = std::unique_ptr<T, Deleter<T>>;

/** Takes one more reference on a certificate and owns it. */
inline UniquePtr<X509> upRef(X509* x) {
  if (x != nullptr) X509_up_ref(x);
  return UniquePtr<X509>(x);
}
/** Takes one more reference on a key and owns it. */
inline UniquePtr<EVP_PKEY> upRef(EVP_PKEY* k) {
  if (k != nullptr) EVP_PKEY_up_ref(k);
  return UniquePtr<EVP_PKEY>(k);
}

/** Drains the whole OpenSSL error queue into one line (empty when it was empty). */
inline std::string drainErrors() {
  std::string out;
  unsigned long e = 0;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

/** Base64 of bytes, in 64-column lines each ending with a newline (RFC 7030 style body). */
inline std::string base64Lines(const unsigned char* p, size_t n) {
  std::string flat(4 * ((n + 2) / 3) + 1, '\0');
  int m = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(flat.data()), p, static_cast<int>(n));
  flat.resize(static_cast<size_t>(m));
  std::string out;
  out.reserve(flat.size() + flat.size() / 64 + 2);
  for (size_t i = 0; i < flat.size(); i += 64) {
    out.append(flat, i, 64);
    out += '\n';
  }
  return out;
}

/** Decodes base64 with or without line breaks (RFC 8951); false on malformed input. */
inline bool base64Decode(std::string_view in, std::string& out) {
  std::string clean;
  clean.reserve(in.size());
  for (char c : in)
    if (std::isspace(static_cast<unsigned char>(c)) == 0) clean += c;
  if (clean.empty() || clean.size() % 4 != 0) return false;
  out.assign(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return true;
}

/** Digest to sign with for a key: SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for
 *  P-521, none for EdDSA. */
inline const EVP_MD* digestFor(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return nullptr;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) {
      std::string_view g(group, len);
      if (g == "secp384r1" || g == "P-384") return EVP_sha384();
      if (g == "secp521r1" || g == "P-521") return EVP_sha512();
    }
  }
  return EVP_sha256();
}

/** Short description of a key: "EC secp256r1", "RSA 2048", "ED25519". */
inline std::string describeKey(EVP_PKEY* key) {
  if (key == nullptr) return "none";
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    EVP_PKEY_get_group_name(key, group, sizeof group, &len);
    return std::string("EC ") + std::string(group, len);
  }
  if (EVP_PKEY_is_a(key, "RSA")) return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "unknown";
}

/** Makes a new key of the same kind as `like` (same curve, same RSA size). */
inline UniquePtr<EVP_PKEY> keyLike(EVP_PKEY* like) {
  if (EVP_PKEY_is_a(like, "EC")) {
    char group[64] = {};
    size_t len = 0;
    EVP_PKEY_get_group_name(like, group, sizeof group, &len);
    return UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
  }
  if (EVP_PKEY_is_a(like, "RSA"))
    return UniquePtr<EVP_PKEY>(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(EVP_PKEY_get_bits(like))));
  return UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, EVP_PKEY_get0_type_name(like)));
}

}  // namespace enroll::bench
