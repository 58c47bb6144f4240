#include "server/ca/serial_generator.h"

namespace enroll::ca {

SerialGenerator::SerialGenerator(RandomSource random, int bits)
    : random_(std::move(random)), bits_(bits < 64 ? 64 : (bits > 159 ? 159 : bits)) {}

pki::Result<pki::UniquePtr<ASN1_INTEGER>> SerialGenerator::next() const {
  auto octets = static_cast<size_t>((bits_ + 7) / 8);
  ENROLL_TRY(pki::Bytes bytes, random_(octets));
  // Keep exactly bits_ random bits; bits_ < 160 leaves the DER INTEGER positive and within
  // 20 octets. An all-zero draw (probability 2^-bits) becomes 1, so the serial is never zero.
  int spare = static_cast<int>(octets * 8) - bits_;
  bytes[0] &= static_cast<uint8_t>(0xff >> spare);
  bool zero = true;
  for (uint8_t b : bytes) zero = zero && b == 0;
  if (zero) bytes.back() = 1;
  pki::UniquePtr<BIGNUM> bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  pki::UniquePtr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return pki::opensslError(pki::ErrorCode::kInternal, "cannot make a serial");
  return serial;
}

}  // namespace enroll::ca
