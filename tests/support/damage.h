#pragma once
/** Test support: random damage to an encoding, for tests that hold a reader to a reference. */
#include <random>

#include "pki/encoding.h"

namespace enroll::testing {

/**
 * good with one random damage: on every third round cut short at a random length, otherwise one
 * byte replaced by a random value. The same random sequence gives the same damages.
 */
inline pki::Bytes damaged(const pki::Bytes& good, int round, std::mt19937& random) {
  pki::Bytes der = good;
  if (round % 3 == 0) {
    der.resize(std::uniform_int_distribution<size_t>(0, der.size() - 1)(random));
  } else {
    size_t at = std::uniform_int_distribution<size_t>(0, der.size() - 1)(random);
    der[at] = static_cast<uint8_t>(std::uniform_int_distribution<int>(0, 255)(random));
  }
  return der;
}

}  // namespace enroll::testing
