#include "server/ca/serial_generator.h"

#include <gtest/gtest.h>

#include <set>

namespace enroll::ca {
namespace {

/** A seeded, reproducible random source (tests only). */
RandomSource seeded(uint8_t seed) {
  return [seed](size_t n) -> pki::Result<pki::Bytes> {
    pki::Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31);
    return b;
  };
}

std::string hex(const ASN1_INTEGER* a) {
  pki::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(a, nullptr));
  char* h = BN_bn2hex(bn.get());
  std::string s(h);
  OPENSSL_free(h);
  return s;
}

TEST(SerialGenerator, IsReproducibleWithASeededSource) {
  SerialGenerator a(seeded(7)), b(seeded(7)), c(seeded(8));
  EXPECT_EQ(hex(a.next()->get()), hex(b.next()->get()));
  EXPECT_NE(hex(a.next()->get()), hex(c.next()->get()));
}

TEST(SerialGenerator, MakesPositiveSerialsOfAtMost20Octets) {
  SerialGenerator g(pki::randomBytes, 159);
  for (int i = 0; i < 200; ++i) {
    auto s = g.next();
    ASSERT_TRUE(s);
    pki::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(s->get(), nullptr));
    EXPECT_FALSE(BN_is_negative(bn.get()));
    EXPECT_FALSE(BN_is_zero(bn.get()));
    EXPECT_LE(BN_num_bits(bn.get()), 159);
    EXPECT_LE(i2d_ASN1_INTEGER(s->get(), nullptr) - 2, 20);
  }
}

TEST(SerialGenerator, NeverUsesFewerThan64Bits) {
  SerialGenerator g(pki::randomBytes, 16);
  EXPECT_EQ(64, g.bits());
}

TEST(SerialGenerator, DrawsDistinctSerials) {
  SerialGenerator g;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(hex(g.next()->get()));
  EXPECT_EQ(1000u, seen.size());
}

TEST(SerialGenerator, TurnsAnAllZeroDrawIntoOne) {
  SerialGenerator g([](size_t n) -> pki::Result<pki::Bytes> { return pki::Bytes(n, 0); }, 64);
  EXPECT_EQ("01", hex(g.next()->get()));
}

}  // namespace
}  // namespace enroll::ca
