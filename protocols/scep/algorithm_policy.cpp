#include "protocols/scep/algorithm_policy.h"

#include <openssl/objects.h>
#include <openssl/provider.h>

namespace enroll::scep {

bool AlgorithmPolicy::isLegacyDigest(int nid) { return nid == NID_sha1 || nid == NID_md5; }

bool AlgorithmPolicy::isLegacyCipher(int nid) {
  return nid == NID_des_cbc || nid == NID_des_ede3_cbc;
}

bool AlgorithmPolicy::allowsDigest(int nid) const {
  if (nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512) return true;
  return legacy_ && isLegacyDigest(nid);
}

bool AlgorithmPolicy::allowsCipher(int nid) const {
  if (nid == NID_aes_128_cbc || nid == NID_aes_192_cbc || nid == NID_aes_256_cbc) return true;
  return legacy_ && isLegacyCipher(nid);
}

namespace {

/** The two providers, unloaded at exit (before OpenSSL's own clean-up, registered earlier). */
struct LegacyProviders {
  OSSL_PROVIDER* legacy = nullptr;
  OSSL_PROVIDER* fallback = nullptr;
  LegacyProviders()
      : legacy(OSSL_PROVIDER_load(nullptr, "legacy")),
        fallback(OSSL_PROVIDER_load(nullptr, "default")) {}
  ~LegacyProviders() {
    if (legacy) OSSL_PROVIDER_unload(legacy);
    if (fallback) OSSL_PROVIDER_unload(fallback);
  }
  LegacyProviders(const LegacyProviders&) = delete;
  LegacyProviders& operator=(const LegacyProviders&) = delete;
};

}  // namespace

pki::Result<void> loadLegacyProviders() {
  static const LegacyProviders providers;  // thread-safe initialisation, once per process
  if (!providers.legacy || !providers.fallback) {
    return pki::opensslError(
        pki::ErrorCode::kInternal,
        "cannot load OpenSSL's legacy provider (needed for DES in legacy mode)");
  }
  return pki::ok();
}

std::string algorithmName(int nid) {
  const char* name = OBJ_nid2ln(nid);
  return name ? name : "unknown";
}

}  // namespace enroll::scep
