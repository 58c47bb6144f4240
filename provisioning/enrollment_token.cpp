#include "provisioning/enrollment_token.h"

#include <openssl/crypto.h>

namespace enroll::provisioning {

namespace {
constexpr const char* kPrefix = "edt_";
}

pki::Result<pki::SecretString> generateEnrollmentToken() {
  ENROLL_TRY(pki::Bytes random, pki::randomBytes(16));
  pki::SecretString token(kPrefix + pki::hexEncode(random));
  OPENSSL_cleanse(random.data(), random.size());
  return token;
}

bool looksLikeEnrollmentToken(const std::string& text) {
  if (text.size() != 36 || text.rfind(kPrefix, 0) != 0) return false;
  for (size_t i = 4; i < text.size(); ++i) {
    char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string enrollmentTokenHash(const std::string& text) {
  return pki::hexEncode(pki::sha256(text));
}

}  // namespace enroll::provisioning
