#include "server/ca/crl_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "server/ca/certificate_authority.h"
#include "server/ca/certificate_builder.h"
#include "server/ca/serial_generator.h"

namespace enroll::ca {
namespace {

using pki::KeyType;

struct TestCa {
  pki::Certificate cert;
  pki::PrivateKey key;
};

/** A self-signed CA (with a subject key identifier) for a new key of the given type. */
TestCa makeCa(KeyType type) {
  auto key = *pki::PrivateKey::generate(type);
  auto name = *parseName("CN=CRL Test CA " + pki::keyTypeName(type) + ",O=enrolld tests");
  auto serial = *SerialGenerator().next();
  CertificateBuilder b;
  std::time_t now = std::time(nullptr);
  b.subject(name.get())
      .publicKey(key.native())
      .serial(serial.get())
      .validity(now - 3600, now + 10L * 365 * 86400)
      .basicConstraints(true)
      .keyUsage({"keyCertSign", "cRLSign"});
  return {*b.sign(key.native()), std::move(key)};
}

/** How a canonical hex serial looks: lower case, no leading zeros. */
std::string canonical(std::string hex) {
  for (auto& c : hex) c = static_cast<char>(std::tolower(c));
  size_t skip = hex.find_first_not_of('0');
  return skip == std::string::npos ? "0" : hex.substr(skip);
}

/** The hex of an ASN1_INTEGER's value, lower case, no leading zeros ("0" for zero). */
std::string serialHex(const ASN1_INTEGER* serial) {
  pki::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  char* text = BN_bn2hex(bn.get());
  std::string out(text);
  OPENSSL_free(text);
  return canonical(out);
}

std::time_t timeOf(const ASN1_TIME* t) {
  struct tm tm {};
  EXPECT_EQ(1, ASN1_TIME_to_tm(t, &tm));
  return timegm(&tm);
}

struct DecodedEntry {
  std::time_t revoked_at = 0;
  int reason = -1;  ///< -1: no reason code extension
  bool operator==(const DecodedEntry&) const = default;
};

/** A CRL as OpenSSL reads it, for comparisons. */
struct DecodedCrl {
  pki::UniquePtr<X509_CRL> crl;
  long version = -1;
  std::time_t this_update = 0;
  std::time_t next_update = 0;
  std::map<std::string, DecodedEntry> entries;
  std::vector<std::string> order;
  std::vector<pki::Bytes> extensions;  ///< each Extension's DER, in order
};

DecodedCrl decode(const pki::Bytes& der) {
  DecodedCrl out;
  const unsigned char* p = der.data();
  out.crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(out.crl) << pki::drainOpensslErrors();
  if (!out.crl) return out;
  EXPECT_EQ(p, der.data() + der.size()) << "trailing bytes";
  out.version = X509_CRL_get_version(out.crl.get());
  out.this_update = timeOf(X509_CRL_get0_lastUpdate(out.crl.get()));
  out.next_update = timeOf(X509_CRL_get0_nextUpdate(out.crl.get()));
  STACK_OF(X509_REVOKED)* all = X509_CRL_get_REVOKED(out.crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(all); ++i) {
    X509_REVOKED* r = sk_X509_REVOKED_value(all, i);
    std::string hex = serialHex(X509_REVOKED_get0_serialNumber(r));
    DecodedEntry e;
    e.revoked_at = timeOf(X509_REVOKED_get0_revocationDate(r));
    pki::UniquePtr<ASN1_STRING> reason(
        static_cast<ASN1_STRING*>(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, nullptr, nullptr)));
    if (reason) e.reason = static_cast<int>(ASN1_ENUMERATED_get(reason.get()));
    EXPECT_EQ(reason ? 1 : 0, X509_REVOKED_get_ext_count(r)) << "entry " << hex;
    EXPECT_FALSE(out.entries.contains(hex)) << "listed twice: " << hex;
    out.entries[hex] = e;
    out.order.push_back(hex);
  }
  for (int i = 0; i < X509_CRL_get_ext_count(out.crl.get()); ++i) {
    X509_EXTENSION* ext = X509_CRL_get_ext(out.crl.get(), i);
    unsigned char* d = nullptr;
    int n = i2d_X509_EXTENSION(ext, &d);
    out.extensions.emplace_back(d, d + n);
    OPENSSL_free(d);
  }
  return out;
}

/** The CRL as OpenSSL's own X509_CRL makes it (what enrolld did before the streaming encoder). */
pki::Bytes opensslCrl(const CrlContent& content, const TestCa& ca) {
  pki::UniquePtr<X509_CRL> crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.cert.native()));
  pki::UniquePtr<ASN1_STRING> t(ASN1_TIME_set(nullptr, content.this_update));
  X509_CRL_set1_lastUpdate(crl.get(), t.get());
  pki::UniquePtr<ASN1_STRING> n(ASN1_TIME_set(nullptr, content.next_update));
  X509_CRL_set1_nextUpdate(crl.get(), n.get());
  for (const auto& r : content.revoked) {
    BIGNUM* raw = nullptr;
    EXPECT_GT(BN_hex2bn(&raw, r.serial_hex.c_str()), 0);
    pki::UniquePtr<BIGNUM> bn(raw);
    pki::UniquePtr<ASN1_STRING> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    auto* entry = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(entry, serial.get());
    pki::UniquePtr<ASN1_STRING> when(ASN1_TIME_set(nullptr, r.revoked_at));
    X509_REVOKED_set_revocationDate(entry, when.get());
    if (r.reason > 0) {
      pki::UniquePtr<ASN1_STRING> reason(ASN1_ENUMERATED_new());
      ASN1_ENUMERATED_set(reason.get(), r.reason);
      X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason.get(), 0, 0);
    }
    X509_CRL_add0_revoked(crl.get(), entry);
  }
  pki::UniquePtr<ASN1_INTEGER> number(ASN1_INTEGER_new());
  ASN1_INTEGER_set_int64(number.get(), content.crl_number);
  X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0);
  if (content.delta_base > 0) {
    pki::UniquePtr<ASN1_INTEGER> base(ASN1_INTEGER_new());
    ASN1_INTEGER_set_int64(base.get(), content.delta_base);
    X509_CRL_add1_ext_i2d(crl.get(), NID_delta_crl, base.get(), 1, 0);
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca.cert.native(), nullptr, nullptr, crl.get(), 0);
  pki::UniquePtr<X509_EXTENSION> akid(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  EXPECT_TRUE(akid);
  X509_CRL_add_ext(crl.get(), akid.get(), -1);
  if (content.delta_base == 0 && !content.freshest_crl_url.empty()) {
    std::string uri = "URI:" + content.freshest_crl_url;
    pki::UniquePtr<X509_EXTENSION> fresh(
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_freshest_crl, uri.c_str()));
    X509_CRL_add_ext(crl.get(), fresh.get(), -1);
  }
  EXPECT_GT(X509_CRL_sign(crl.get(), ca.key.native(), signingDigest(ca.key.native())), 0);
  unsigned char* d = nullptr;
  int len = i2d_X509_CRL(crl.get(), &d);
  pki::Bytes out(d, d + len);
  OPENSSL_free(d);
  return out;
}

/** The TBSCertList's DER of a parsed CRL. */
pki::Bytes tbsOf(X509_CRL* crl) {
  unsigned char* d = nullptr;
  int n = i2d_re_X509_CRL_tbs(crl, &d);
  pki::Bytes out(d, d + n);
  OPENSSL_free(d);
  return out;
}

constexpr std::time_t kNow = 1795000000;  // 2026-11-17

/** Entries that exercise the INTEGER and Time encodings and every reason. */
std::vector<CrlEntry> awkwardEntries() {
  return {
      {"01", kNow - 10, 1},                      // one octet
      {"7f", kNow - 20, 0},                      // largest one-octet positive
      {"80", kNow - 30, 4},                      // high bit: a 0x00 first
      {"ff", kNow - 30, 5},                      //
      {"00c0ffee", kNow - 40, 3},                // a leading zero octet given, then the high bit
      {"000000ab", kNow - 40, 9},                // several leading zeros
      {"abc", kNow - 50, 2},                     // odd number of digits
      {"0", kNow - 50, 10},                      // zero
      {"0123456789ABCDEFabcdef", kNow - 60, 6},  // mixed case
      {"8000000000000000000000000000000000000001", kNow - 70, 1},  // 20 octets, high bit
      {"4fffffffffffffffffffffffffffffffffffffff", kNow - 70, 0},  // 20 octets
      {"1000", 2524607999, 1},  // 2049-12-31 23:59:59: still UTCTime
      {"1001", 2524608000, 1},  // 2050-01-01 00:00:00: GeneralizedTime
      {"1002", -631152001, 1},  // 1949-12-31 23:59:59: GeneralizedTime
      {"1003", -631152000, 1},  // 1950-01-01: UTCTime
      {"1004", 0, 8},           // removeFromCRL
  };
}

CrlContent fullContent(std::vector<CrlEntry> entries) {
  CrlContent c;
  c.revoked = std::move(entries);
  c.this_update = kNow;
  c.next_update = kNow + 86400;
  c.crl_number = 42;
  c.freshest_crl_url = "http://pki.example:8080/crl/issuing-delta.crl";
  return c;
}

class CrlEncoderTest : public ::testing::TestWithParam<KeyType> {
 protected:
  CrlEncoderTest() : ca_(makeCa(GetParam())) {}
  pki::Bytes encode(const CrlContent& c) {
    auto der = encodeCrl(c, ca_.cert.native(), ca_.key.native(), signingDigest(ca_.key.native()));
    EXPECT_TRUE(der) << der.error().toString();
    return der ? *der : pki::Bytes{};
  }
  TestCa ca_;
};

TEST_P(CrlEncoderTest, WritesAFullCrlOpenSslVerifiesAndReadsBack) {
  CrlContent c = fullContent(awkwardEntries());
  auto got = decode(encode(c));
  ASSERT_TRUE(got.crl);
  EXPECT_EQ(1, X509_CRL_verify(got.crl.get(), ca_.cert.publicKey())) << pki::drainOpensslErrors();
  EXPECT_EQ(1, got.version);  // v2
  EXPECT_EQ(0, X509_NAME_cmp(X509_CRL_get_issuer(got.crl.get()),
                             X509_get_subject_name(ca_.cert.native())));
  EXPECT_EQ(kNow, got.this_update);
  EXPECT_EQ(kNow + 86400, got.next_update);
  ASSERT_EQ(c.revoked.size(), got.entries.size());
  for (size_t i = 0; i < c.revoked.size(); ++i) {
    const auto& want = c.revoked[i];
    std::string hex = canonical(want.serial_hex);
    EXPECT_EQ(hex, got.order[i]) << "entries keep the given order";
    ASSERT_TRUE(got.entries.contains(hex)) << hex;
    EXPECT_EQ(want.revoked_at, got.entries[hex].revoked_at) << hex;
    EXPECT_EQ(want.reason == 0 ? -1 : want.reason, got.entries[hex].reason) << hex;
  }
  pki::UniquePtr<ASN1_STRING> number(static_cast<ASN1_STRING*>(
      X509_CRL_get_ext_d2i(got.crl.get(), NID_crl_number, nullptr, nullptr)));
  ASSERT_TRUE(number);
  EXPECT_EQ(42, ASN1_INTEGER_get(number.get()));
  EXPECT_LT(X509_CRL_get_ext_by_NID(got.crl.get(), NID_delta_crl, -1), 0);
  EXPECT_GE(X509_CRL_get_ext_by_NID(got.crl.get(), NID_authority_key_identifier, -1), 0);
  EXPECT_GE(X509_CRL_get_ext_by_NID(got.crl.get(), NID_freshest_crl, -1), 0);
  // OpenSSL's lookup by serial (what -crl_check does) finds entries the encoder did not sort.
  X509_REVOKED* found = nullptr;
  pki::UniquePtr<ASN1_STRING> serial(s2i_ASN1_INTEGER(nullptr, "0x80"));
  EXPECT_EQ(1, X509_CRL_get0_by_serial(got.crl.get(), &found, serial.get()));
}

TEST_P(CrlEncoderTest, WritesADeltaCrlWithACriticalIndicatorAndNoFreshestCrl) {
  CrlContent c = fullContent({{"0a", kNow - 5, 6}, {"0b", kNow - 5, 8}});
  c.crl_number = 43;
  c.delta_base = 41;
  auto got = decode(encode(c));
  ASSERT_TRUE(got.crl);
  EXPECT_EQ(1, X509_CRL_verify(got.crl.get(), ca_.cert.publicKey()));
  int crit = -1;
  pki::UniquePtr<ASN1_STRING> base(static_cast<ASN1_STRING*>(
      X509_CRL_get_ext_d2i(got.crl.get(), NID_delta_crl, &crit, nullptr)));
  ASSERT_TRUE(base);
  EXPECT_EQ(41, ASN1_INTEGER_get(base.get()));
  EXPECT_EQ(1, crit);
  EXPECT_LT(X509_CRL_get_ext_by_NID(got.crl.get(), NID_freshest_crl, -1), 0);
  EXPECT_EQ(8, got.entries["b"].reason);
}

TEST_P(CrlEncoderTest, WritesAnEmptyCrlWithoutARevokedCertificatesList) {
  CrlContent c = fullContent({});
  pki::Bytes ours = encode(c);
  auto got = decode(ours);
  ASSERT_TRUE(got.crl);
  EXPECT_EQ(1, X509_CRL_verify(got.crl.get(), ca_.cert.publicKey()));
  EXPECT_EQ(nullptr, X509_CRL_get_REVOKED(got.crl.get()));
  EXPECT_EQ(tbsOf(decode(opensslCrl(c, ca_)).crl.get()), tbsOf(got.crl.get()));
}

TEST_P(CrlEncoderTest, MatchesOpenSslsOwnCrlByteForByteForSortedEntries) {
  // X509_CRL sorts entries by serial; given that order, the TBSCertList must be the same bytes.
  std::vector<CrlEntry> entries = awkwardEntries();
  std::sort(entries.begin(), entries.end(), [](const CrlEntry& a, const CrlEntry& b) {
    std::string x = canonical(a.serial_hex);
    std::string y = canonical(b.serial_hex);
    return x.size() != y.size() ? x.size() < y.size() : x < y;
  });
  for (bool delta : {false, true}) {
    CrlContent c = fullContent(entries);
    if (delta) c.delta_base = 40;
    pki::Bytes ours = encode(c);
    pki::Bytes theirs = opensslCrl(c, ca_);
    auto a = decode(ours);
    auto b = decode(theirs);
    ASSERT_TRUE(a.crl && b.crl);
    EXPECT_EQ(tbsOf(b.crl.get()), tbsOf(a.crl.get())) << (delta ? "delta" : "full");
    const X509_ALGOR* ours_alg = nullptr;
    const X509_ALGOR* theirs_alg = nullptr;
    X509_CRL_get0_signature(a.crl.get(), nullptr, &ours_alg);
    X509_CRL_get0_signature(b.crl.get(), nullptr, &theirs_alg);
    EXPECT_EQ(0, X509_ALGOR_cmp(ours_alg, theirs_alg));
    // RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic: the whole CRL is the same.
    if (GetParam() == KeyType::kRsa2048 || GetParam() == KeyType::kEd25519) {
      EXPECT_EQ(theirs, ours);
    }
  }
}

TEST_P(CrlEncoderTest, DecodesToTheSameEntriesAndExtensionsAsOpenSslsCrlInAnyOrder) {
  CrlContent c = fullContent(awkwardEntries());
  std::reverse(c.revoked.begin(), c.revoked.end());
  auto a = decode(encode(c));
  auto b = decode(opensslCrl(c, ca_));
  ASSERT_TRUE(a.crl && b.crl);
  EXPECT_EQ(b.entries, a.entries);
  EXPECT_EQ(b.extensions, a.extensions);
  EXPECT_EQ(b.this_update, a.this_update);
  EXPECT_EQ(b.next_update, a.next_update);
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, CrlEncoderTest,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048,
                                           KeyType::kEd25519),
                         [](const auto& info) {
                           std::string name = pki::keyTypeName(info.param);
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

class CrlEncoderInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ca_ = new TestCa(makeCa(KeyType::kEcP256)); }
  static void TearDownTestSuite() {
    delete ca_;
    ca_ = nullptr;
  }
  static pki::Result<pki::Bytes> encode(const CrlContent& c) {
    return encodeCrl(c, ca_->cert.native(), ca_->key.native(), EVP_sha256());
  }
  static TestCa* ca_;
};
TestCa* CrlEncoderInputTest::ca_ = nullptr;

TEST_F(CrlEncoderInputTest, RefusesASerialThatIsNotHex) {
  for (const char* bad : {"", "xyz", "12 34", "-1", "0x12", "12g4", "ab\n"}) {
    auto der = encode(fullContent({{"01", kNow, 0}, {bad, kNow, 1}}));
    ASSERT_FALSE(der) << "'" << bad << "'";
    EXPECT_EQ(pki::ErrorCode::kInvalidArgument, der.error().code);
    EXPECT_NE(std::string::npos, der.error().detail.find("entry 1")) << der.error().detail;
  }
}

TEST_F(CrlEncoderInputTest, RefusesAReasonThatIsNotACrlReason) {
  for (int bad : {-1, 7, 11, 255}) {
    auto der = encode(fullContent({{"01", kNow, bad}}));
    ASSERT_FALSE(der) << bad;
    EXPECT_EQ(pki::ErrorCode::kInvalidArgument, der.error().code);
  }
}

TEST_F(CrlEncoderInputTest, RefusesATimeGeneralizedTimeCannotHold) {
  std::time_t year10000 = 253402300800;  // 10000-01-01
  EXPECT_FALSE(encode(fullContent({{"01", year10000, 0}})));
  CrlContent c = fullContent({});
  c.next_update = year10000;
  EXPECT_FALSE(encode(c));
  EXPECT_TRUE(encode(fullContent({{"01", year10000 - 1, 0}})));
}

TEST_F(CrlEncoderInputTest, RefusesABadFreshestCrlUrl) {
  CrlContent c = fullContent({});
  c.freshest_crl_url = "";
  EXPECT_TRUE(encode(c));
  // OpenSSL's configuration syntax splits at the comma: "b" is a name without a type.
  c.freshest_crl_url = "http://a,b";
  auto der = encode(c);
  ASSERT_FALSE(der);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, der.error().code);
}

TEST_F(CrlEncoderInputTest, EncodesManyEntriesWithLongLengthsThatOpenSslParses) {
  // 70,000 entries: the revoked list's length needs three octets, the CRL's too.
  CrlContent c = fullContent({});
  char hex[40];
  for (int i = 0; i < 70000; ++i) {
    snprintf(hex, sizeof hex, "%x%016x", 0x40000000 + i, i * 2654435761U);
    c.revoked.push_back({hex, kNow - i % 7, i % 3 == 0 ? 0 : 5});
  }
  auto der = encode(c);
  ASSERT_TRUE(der) << der.error().toString();
  auto got = decode(*der);
  ASSERT_TRUE(got.crl);
  EXPECT_EQ(1, X509_CRL_verify(got.crl.get(), ca_->cert.publicKey()));
  EXPECT_EQ(70000U, got.entries.size());
  EXPECT_EQ(-1, got.entries[canonical(c.revoked[3].serial_hex)].reason);
  EXPECT_EQ(5, got.entries[canonical(c.revoked[4].serial_hex)].reason);
}

TEST_F(CrlEncoderInputTest, CertificateAuthoritySignsCrlsWithTheEncoder) {
  auto ca = CertificateAuthority::create("t", {ca_->cert}, ca_->key);
  ASSERT_TRUE(ca);
  auto der = (*ca)->signCrl({{"80", kNow, 1}}, kNow, 3600, 7);
  ASSERT_TRUE(der) << der.error().toString();
  auto got = decode(*der);
  ASSERT_TRUE(got.crl);
  EXPECT_EQ(1, X509_CRL_verify(got.crl.get(), ca_->cert.publicKey()));
  EXPECT_EQ(kNow + 3600, got.next_update);
  auto bad = (*ca)->signCrl({{"not hex", kNow, 1}}, kNow, 3600, 8);
  ASSERT_FALSE(bad);
  EXPECT_EQ(pki::ErrorCode::kInvalidArgument, bad.error().code);
}

}  // namespace
}  // namespace enroll::ca
