#pragma once
/** Certificate serial numbers: random, positive, 20 octets at most (RFC 5280 4.1.2.2). */
#include <functional>

#include "pki/encoding.h"
#include "pki/openssl_ptr.h"

namespace enroll::ca {

/** A source of random bytes; the default is OpenSSL's CSPRNG, tests pass a seeded one. */
using RandomSource = std::function<pki::Result<pki::Bytes>(size_t)>;

class SerialGenerator {
 public:
  /** bits of entropy per serial: at least 64; default 127 (16 octets, top bit clear). */
  explicit SerialGenerator(RandomSource random = pki::randomBytes, int bits = 127);
  /** A new serial; uniqueness is enforced by the store's primary key. */
  pki::Result<pki::UniquePtr<ASN1_INTEGER>> next() const;
  int bits() const { return bits_; }

 private:
  RandomSource random_;
  int bits_;
};

}  // namespace enroll::ca
