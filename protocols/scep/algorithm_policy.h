#pragma once
/** Which digests and content ciphers a label accepts in SCEP messages. */
#include <string>

#include "pki/result.h"

namespace enroll::scep {

/**
 * The algorithms a label accepts. By default SHA-256/384/512 digests and AES-128/192/256-CBC
 * content encryption (RFC 8894 3.5.2: SCEPStandard means AES and SHA-256). A label in legacy mode
 * also accepts SHA-1 and MD5 digests and DES/3DES envelopes, for old clients such as scepclient
 * that always use SHA-1 and single DES.
 */
class AlgorithmPolicy {
 public:
  explicit AlgorithmPolicy(bool legacy = false) : legacy_(legacy) {}

  /** True when a signature digest (NID_sha256, ...) is acceptable under this policy. */
  bool allowsDigest(int digest_nid) const;
  /** True when a content-encryption cipher (NID_aes_128_cbc, ...) is acceptable. */
  bool allowsCipher(int cipher_nid) const;
  /** True for SHA-1 and MD5: accepted in legacy mode only, and worth a note in the log. */
  static bool isLegacyDigest(int digest_nid);
  /** True for DES-CBC and DES-EDE3-CBC: accepted in legacy mode only. */
  static bool isLegacyCipher(int cipher_nid);
  bool legacy() const { return legacy_; }

 private:
  bool legacy_;
};

/**
 * Loads OpenSSL's "legacy" provider (DES lives there in OpenSSL 3) together with "default"
 * (loading only legacy would switch default off, and AES and SHA-256 would fail). Done once per
 * process; safe to call from several threads.
 */
pki::Result<void> loadLegacyProviders();

/** Short lower-case OpenSSL name of a NID ("sha1", "des-cbc") for log lines. */
std::string algorithmName(int nid);

}  // namespace enroll::scep
