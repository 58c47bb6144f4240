#include "pki/private_key.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cctype>

namespace enroll::pki {

Result<KeyType> parseKeyType(std::string_view name) {
  std::string n;
  for (char c : name) {
    if (c != '-' && c != '_') n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (n == "ecp256" || n == "p256" || n == "prime256v1" || n == "ec") return KeyType::kEcP256;
  if (n == "ecp384" || n == "p384" || n == "secp384r1") return KeyType::kEcP384;
  if (n == "ecp521" || n == "p521" || n == "secp521r1") return KeyType::kEcP521;
  if (n == "rsa2048" || n == "rsa") return KeyType::kRsa2048;
  if (n == "rsa3072") return KeyType::kRsa3072;
  if (n == "rsa4096") return KeyType::kRsa4096;
  if (n == "ed25519") return KeyType::kEd25519;
  return makeError(
      ErrorCode::kInvalidArgument,
      "unknown key type '" + std::string(name) +
          "' (use ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096 or ed25519)");
}

std::string keyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kEcP256:
      return "ec-p256";
    case KeyType::kEcP384:
      return "ec-p384";
    case KeyType::kEcP521:
      return "ec-p521";
    case KeyType::kRsa2048:
      return "rsa-2048";
    case KeyType::kRsa3072:
      return "rsa-3072";
    case KeyType::kRsa4096:
      return "rsa-4096";
    case KeyType::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

std::string describeKey(const EVP_PKEY* key) {
  if (!key) return "none";
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "rsa-" + std::to_string(EVP_PKEY_get_bits(key));
    case EVP_PKEY_ED25519:
      return "ed25519";
    case EVP_PKEY_ED448:
      return "ed448";
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &len)) {
        return "ec-unknown";
      }
      std::string g(group, len);
      if (g == "prime256v1" || g == "P-256") return "ec-p256";
      if (g == "secp384r1" || g == "P-384") return "ec-p384";
      if (g == "secp521r1" || g == "P-521") return "ec-p521";
      return "ec-" + g;
    }
    default:
      return std::string("other-") + OBJ_nid2sn(EVP_PKEY_get_base_id(key));
  }
}

Result<PrivateKey> PrivateKey::generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::kEcP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcP384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kEcP521:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
      break;
    case KeyType::kRsa2048:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::kRsa3072:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case KeyType::kRsa4096:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
    case KeyType::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (!raw) return opensslError(ErrorCode::kInternal, "key generation failed");
  return PrivateKey(UniquePtr<EVP_PKEY>(raw));
}

static int passphraseCallback(char* buf, int size, int /*rwflag*/, void* u) {
  const auto* pass = static_cast<const SecretString*>(u);
  if (!pass) return -1;
  int n = static_cast<int>(std::min<size_t>(pass->reveal().size(), static_cast<size_t>(size)));
  std::copy_n(pass->reveal().data(), n, buf);
  return n;
}

Result<PrivateKey> PrivateKey::fromPem(std::string_view pem, const SecretString* passphrase) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, passphraseCallback,
                                          const_cast<SecretString*>(passphrase));
  if (!raw) {
    return opensslError(ErrorCode::kInvalidArgument,
                        passphrase
                            ? "cannot read the private key (wrong passphrase?)"
                            : "cannot read the private key (encrypted keys need a passphrase)");
  }
  return PrivateKey(UniquePtr<EVP_PKEY>(raw));
}

PrivateKey PrivateKey::adopt(UniquePtr<EVP_PKEY> key) { return PrivateKey(std::move(key)); }

SecretString PrivateKey::toPem() const {
  UniquePtr<BIO> bio(BIO_new(BIO_s_secmem()));
  PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return SecretString(std::string(data, static_cast<size_t>(n)));
}

Result<Bytes> PrivateKey::toPkcs8Der() const {
  UniquePtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (i2d_PKCS8PrivateKey_bio(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return opensslError(ErrorCode::kInternal, "cannot encode the private key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return Bytes(data, data + n);
}

Bytes publicKeyDer(const EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(const_cast<EVP_PKEY*>(key), &der);
  if (n <= 0) return {};
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Bytes PrivateKey::publicKeyDer() const { return pki::publicKeyDer(key_.get()); }

}  // namespace enroll::pki
