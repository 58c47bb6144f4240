#pragma once
/** PrivateKey: an owned EVP_PKEY with generation and PEM/PKCS#8 conversion. */
#include <string>
#include <string_view>

#include "pki/encoding.h"
#include "pki/openssl_ptr.h"
#include "pki/result.h"

namespace enroll::pki {

/** Key algorithms enrolld creates and accepts. */
enum class KeyType { kEcP256, kEcP384, kEcP521, kRsa2048, kRsa3072, kRsa4096, kEd25519 };

/** Parses "ec-p256", "p256", "rsa2048", "ed25519", ... */
Result<KeyType> parseKeyType(std::string_view name);
/** The canonical name: "ec-p256", "rsa-2048", "ed25519". */
std::string keyTypeName(KeyType t);

/** Describes a public key: "ec-p256", "rsa-2048", "ed25519", or "rsa-1024"/"ec-secp256k1" for
 * others. */
std::string describeKey(const EVP_PKEY* key);

/** A private key. Copying shares the underlying key (it is immutable once made). */
class PrivateKey {
 public:
  /** Generates a new key pair. */
  static Result<PrivateKey> generate(KeyType type);
  /** Loads a PEM private key; an encrypted one needs its passphrase. */
  static Result<PrivateKey> fromPem(std::string_view pem, const SecretString* passphrase = nullptr);
  /** Takes ownership of a key. */
  static PrivateKey adopt(UniquePtr<EVP_PKEY> key);

  PrivateKey(const PrivateKey& o) : key_(upRef(o.key_.get())) {}
  PrivateKey& operator=(const PrivateKey& o) {
    if (this != &o) key_ = upRef(o.key_.get());
    return *this;
  }
  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;

  /** Unencrypted PKCS#8 PEM (a secret: the caller writes it with mode 0600 or sends it once). */
  SecretString toPem() const;
  /** Unencrypted PKCS#8 DER (RFC 7030 4.4.2 application/pkcs8). */
  Result<Bytes> toPkcs8Der() const;
  /** DER SubjectPublicKeyInfo of the public half. */
  Bytes publicKeyDer() const;
  /** "ec-p256", "rsa-2048", ... */
  std::string describe() const { return describeKey(key_.get()); }

  EVP_PKEY* native() const { return key_.get(); }

 private:
  explicit PrivateKey(UniquePtr<EVP_PKEY> k) : key_(std::move(k)) {}
  UniquePtr<EVP_PKEY> key_;
};

/** DER SubjectPublicKeyInfo of any key. */
Bytes publicKeyDer(const EVP_PKEY* key);

}  // namespace enroll::pki
