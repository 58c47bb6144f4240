// The CMS building blocks, checked with OpenSSL's PKCS7 API and pki::parseCertsOnly.
#include "protocols/scep/signed_data.h"

#include <gtest/gtest.h>

#include "pki/pkcs7.h"
#include "test_ca.h"

namespace enroll::scep {
namespace {

using pki::Bytes;
using namespace test;

class SignedDataTest : public ::testing::Test {
 protected:
  TestCa ca{"SignedData CA", 0};
  RaIdentity ra{ca.issue(rsaKey(1).native(), "SignedData RA"), rsaKey(1)};
};

TEST_F(SignedDataTest, DegenerateHoldsCertificatesInOrderAndTheCrl) {
  auto der = makeDegenerate({ra.certificate, ca.certificate()}, ca.crlDer());
  ASSERT_TRUE(der);
  auto certs = pki::parseCertsOnly(*der);
  ASSERT_TRUE(certs);
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_TRUE((*certs)[0] == ra.certificate);
  const unsigned char* p = der->data();
  pki::UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der->size())));
  ASSERT_TRUE(p7);
  EXPECT_EQ(sk_X509_CRL_num(p7->d.sign->crl), 1);
  EXPECT_EQ(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
}

TEST_F(SignedDataTest, EnvelopeRoundTripsAndReportsItsCipher) {
  Bytes secret = {1, 2, 3, 4, 5};
  auto env = envelopeTo(secret, ra.certificate, NID_aes_256_cbc);
  ASSERT_TRUE(env);
  auto cipher = envelopeCipher(*env);
  ASSERT_TRUE(cipher);
  EXPECT_EQ(*cipher, NID_aes_256_cbc);
  auto opened = openEnvelope(*env, ra);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, secret);
}

TEST_F(SignedDataTest, EnvelopeForSomeoneElseDoesNotOpen) {
  auto env = envelopeTo(Bytes{1}, ca.certificate(), NID_aes_128_cbc);
  ASSERT_TRUE(env);
  auto opened = openEnvelope(*env, ra);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, pki::ErrorCode::kUnauthenticated);
}

TEST_F(SignedDataTest, CipherOfSomethingThatIsNotAnEnvelopeIsMalformed) {
  auto degenerate = makeDegenerate({ca.certificate()}, std::nullopt);
  ASSERT_TRUE(degenerate);
  auto cipher = envelopeCipher(*degenerate);
  ASSERT_FALSE(cipher);
  EXPECT_EQ(cipher.error().code, pki::ErrorCode::kMalformed);
  EXPECT_FALSE(envelopeCipher(Bytes{0x30}));
}

TEST_F(SignedDataTest, SignedDataVerifiesWithTheRaCertificate) {
  Bytes content = {9, 8, 7};
  auto der = signData(content, ra, NID_sha384, {});
  ASSERT_TRUE(der);
  const unsigned char* p = der->data();
  pki::UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der->size())));
  ASSERT_TRUE(p7);
  pki::UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  STACK_OF(X509)* signers = sk_X509_new_null();
  sk_X509_push(signers, ra.certificate.native());
  EXPECT_EQ(
      PKCS7_verify(p7.get(), signers, nullptr, nullptr, out.get(), PKCS7_NOVERIFY | PKCS7_NOINTERN),
      1);
  sk_X509_free(signers);
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(out.get(), &mem);
  EXPECT_EQ(Bytes(mem->data, mem->data + mem->length), content);
}

}  // namespace
}  // namespace enroll::scep
