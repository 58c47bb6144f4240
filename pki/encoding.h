#pragma once
/** Byte encodings over OpenSSL: base64 (RFC 8951 tolerant), hex, and a cleansed secret buffer. */
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pki/result.h"

namespace enroll::pki {

using Bytes = std::vector<uint8_t>;

/** Base64 without line breaks. */
std::string base64Encode(const uint8_t* data, size_t len);
inline std::string base64Encode(const Bytes& b) { return base64Encode(b.data(), b.size()); }
/** Base64 with a line break every 64 characters and a final newline (RFC 7030 examples). */
std::string base64EncodeLines(const Bytes& b);

/**
 * Decodes base64, ignoring white space and line breaks anywhere (RFC 8951: with or without
 * breaks). Refuses any other non-alphabet character and bad padding.
 */
Result<Bytes> base64Decode(std::string_view text);

/** Lower-case hex. */
std::string hexEncode(const uint8_t* data, size_t len);
inline std::string hexEncode(const Bytes& b) { return hexEncode(b.data(), b.size()); }
/** Decodes hex (either case, optional ':' separators). */
Result<Bytes> hexDecode(std::string_view text);

/** SHA-256 of data. */
Bytes sha256(const uint8_t* data, size_t len);
inline Bytes sha256(const Bytes& b) { return sha256(b.data(), b.size()); }
inline Bytes sha256(std::string_view s) {
  return sha256(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

/** Fills a buffer from OpenSSL's CSPRNG. */
Result<Bytes> randomBytes(size_t n);

/** Constant-time comparison of two byte strings (false on length mismatch). */
bool constantTimeEquals(std::string_view a, std::string_view b);

/** A string holding a secret; its memory is cleansed on destruction (OPENSSL_cleanse). */
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string s) : s_(std::move(s)) {}
  SecretString(const SecretString&) = default;
  SecretString& operator=(const SecretString&) = default;
  SecretString(SecretString&& o) noexcept : s_(std::move(o.s_)) { o.cleanse(); }
  SecretString& operator=(SecretString&& o) noexcept {
    cleanse();
    s_ = std::move(o.s_);
    o.cleanse();
    return *this;
  }
  ~SecretString() { cleanse(); }
  const std::string& reveal() const { return s_; }
  bool empty() const { return s_.empty(); }

 private:
  void cleanse();
  std::string s_;
};

}  // namespace enroll::pki
