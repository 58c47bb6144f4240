#include "pki/encoding.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>

namespace enroll::pki {

std::string base64Encode(const uint8_t* data, size_t len) {
  std::string out(4 * ((len + 2) / 3), '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64EncodeLines(const Bytes& b) {
  std::string flat = base64Encode(b);
  std::string out;
  out.reserve(flat.size() + flat.size() / 64 + 2);
  for (size_t i = 0; i < flat.size(); i += 64) {
    out.append(flat, i, 64);
    out += '\n';
  }
  return out;
}

static int b64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Result<Bytes> base64Decode(std::string_view text) {
  // Strip white space first (RFC 8951 allows line breaks anywhere), then decode strictly.
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (b64Value(c) < 0 && c != '=') {
      return makeError(ErrorCode::kMalformed, "body is not valid base64");
    }
    clean += c;
  }
  if (clean.empty()) return makeError(ErrorCode::kMalformed, "body is empty");
  if (clean.size() % 4 != 0)
    return makeError(ErrorCode::kMalformed, "base64 length is not a multiple of 4");
  size_t pad = 0;
  if (clean.back() == '=') pad++;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') pad++;
  if (clean.find('=') < clean.size() - pad) {
    return makeError(ErrorCode::kMalformed, "base64 padding in the middle of the body");
  }
  Bytes out(clean.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return opensslError(ErrorCode::kMalformed, "body is not valid base64");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string hexEncode(const uint8_t* data, size_t len) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

Result<Bytes> hexDecode(std::string_view text) {
  Bytes out;
  int hi = -1;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    int v = -1;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    if (v < 0) return makeError(ErrorCode::kMalformed, "not a hex string");
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) return makeError(ErrorCode::kMalformed, "hex string has an odd length");
  return out;
}

Bytes sha256(const uint8_t* data, size_t len) {
  Bytes out(32);
  unsigned int n = 0;
  EVP_Digest(data, len, out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

Result<Bytes> randomBytes(size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    return opensslError(ErrorCode::kInternal, "random generator failed");
  }
  return out;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void SecretString::cleanse() {
  if (!s_.empty()) OPENSSL_cleanse(s_.data(), s_.size());
  s_.clear();
}

}  // namespace enroll::pki
