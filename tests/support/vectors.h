#pragma once
/** Reads a file from tests/vectors/ (made by tests/vectors/make-vectors.sh with the openssl CLI).
 */
#include <fstream>
#include <sstream>
#include <string>

#include "pki/encoding.h"

namespace enroll::testing {

inline std::string vectorText(const std::string& name) {
  std::ifstream in(std::string(ENROLL_VECTORS_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline pki::Bytes vectorBytes(const std::string& name) {
  std::string s = vectorText(name);
  return pki::Bytes(s.begin(), s.end());
}

}  // namespace enroll::testing
