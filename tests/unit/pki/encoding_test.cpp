#include "pki/encoding.h"

#include <gtest/gtest.h>

namespace enroll::pki {
namespace {

TEST(Base64, DecodesOneLineWithoutNewline) {
  auto r = base64Decode("aGVsbG8gd29ybGQ=");
  ASSERT_TRUE(r);
  EXPECT_EQ("hello world", std::string(r->begin(), r->end()));
}

TEST(Base64, DecodesLineBreaksAnywhere) {
  // RFC 8951: line breaks may appear anywhere, CRLF or LF.
  auto r = base64Decode("aGVs\r\nbG8g\nd29y bGQ=\n");
  ASSERT_TRUE(r);
  EXPECT_EQ("hello world", std::string(r->begin(), r->end()));
}

TEST(Base64, RoundTripsWith64ColumnLines) {
  Bytes data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  std::string text = base64EncodeLines(data);
  EXPECT_EQ('\n', text.back());
  EXPECT_EQ(65u, text.find('\n') + 1);
  auto back = base64Decode(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(data, *back);
}

TEST(Base64, RefusesCharactersOutsideTheAlphabet) {
  auto r = base64Decode("aGVsbG8*d29ybGQ=");
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kMalformed, r.error().code);
}

TEST(Base64, RefusesPaddingInTheMiddle) { EXPECT_FALSE(base64Decode("aG==bG8g")); }
TEST(Base64, RefusesTruncatedInput) { EXPECT_FALSE(base64Decode("aGVsbG8")); }
TEST(Base64, RefusesAnEmptyBody) { EXPECT_FALSE(base64Decode(" \n")); }

TEST(Hex, RoundTripsAndAcceptsColons) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ("00abff", hexEncode(b));
  auto r = hexDecode("00:AB:ff");
  ASSERT_TRUE(r);
  EXPECT_EQ(b, *r);
  EXPECT_FALSE(hexDecode("abc"));
  EXPECT_FALSE(hexDecode("zz"));
}

TEST(Sha256, MatchesTheKnownDigestOfAbc) {
  EXPECT_EQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            hexEncode(sha256("abc")));
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(constantTimeEquals("secret", "secret"));
  EXPECT_FALSE(constantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(constantTimeEquals("secret", "secret2"));
}

}  // namespace
}  // namespace enroll::pki
