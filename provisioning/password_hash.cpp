#include "provisioning/password_hash.h"

#include <openssl/evp.h>

#include <vector>

namespace enroll::provisioning {

static pki::Bytes derive(const pki::SecretString& password, const pki::Bytes& salt,
                         int iterations) {
  pki::Bytes out(32);
  PKCS5_PBKDF2_HMAC(password.reveal().data(), static_cast<int>(password.reveal().size()),
                    salt.data(), static_cast<int>(salt.size()), iterations, EVP_sha256(),
                    static_cast<int>(out.size()), out.data());
  return out;
}

pki::Result<std::string> hashPassword(const pki::SecretString& password, int iterations) {
  ENROLL_TRY(pki::Bytes salt, pki::randomBytes(16));
  pki::Bytes h = derive(password, salt, iterations);
  return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + pki::hexEncode(salt) + "$" +
         pki::hexEncode(h);
}

bool verifyPassword(const pki::SecretString& password, const std::string& stored) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t p = stored.find('$'); p != std::string::npos; p = stored.find('$', start)) {
    parts.push_back(stored.substr(start, p - start));
    start = p + 1;
  }
  parts.push_back(stored.substr(start));
  if (parts.size() != 4 || parts[0] != "pbkdf2-sha256") return false;
  int iterations = std::atoi(parts[1].c_str());
  if (iterations < 1000 || iterations > 10000000) return false;
  auto salt = pki::hexDecode(parts[2]);
  auto expected = pki::hexDecode(parts[3]);
  if (!salt || !expected) return false;
  pki::Bytes h = derive(password, *salt, iterations);
  return pki::constantTimeEquals(
      std::string_view(reinterpret_cast<const char*>(h.data()), h.size()),
      std::string_view(reinterpret_cast<const char*>(expected->data()), expected->size()));
}

}  // namespace enroll::provisioning
