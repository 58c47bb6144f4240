#include "pki/certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "pki/certificate_request.h"
#include "pki/pkcs7.h"
#include "pki/private_key.h"
#include "tests/support/vectors.h"

namespace enroll::pki {
namespace {

using enroll::testing::vectorBytes;
using enroll::testing::vectorText;

TEST(Certificate, ReadsPemAndRoundTripsDer) {
  auto c = Certificate::fromPem(vectorText("sn-device.pem"));
  ASSERT_TRUE(c);
  EXPECT_EQ("SN-0007", c->subjectEntry(NID_serialNumber).value());
  auto again = Certificate::fromDer(c->toDer());
  ASSERT_TRUE(again);
  EXPECT_TRUE(*c == *again);
  EXPECT_FALSE(c->isCa());
  EXPECT_EQ(64u, c->fingerprintSha256().size());
}

TEST(Certificate, RefusesTrailingBytes) {
  auto c = Certificate::fromPem(vectorText("sn-device.pem"));
  Bytes der = c->toDer();
  der.push_back(0);
  auto r = Certificate::fromDer(der);
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kMalformed, r.error().code);
}

TEST(Certificate, KnowsItsIssuer) {
  auto ca = Certificate::fromPem(vectorText("maker-ca.pem"));
  auto leaf = Certificate::fromPem(vectorText("sn-device.pem"));
  EXPECT_TRUE(ca->isCa());
  EXPECT_TRUE(leaf->isSignedBy(*ca));
  EXPECT_FALSE(ca->isSignedBy(*leaf));
}

TEST(CertificateRequest, ReadsSubjectSansAndVerifies) {
  auto csr = CertificateRequest::fromDer(vectorBytes("p256-csr.der"));
  ASSERT_TRUE(csr);
  EXPECT_TRUE(csr->verifySignature());
  EXPECT_EQ("vector-device", csr->subjectEntry(NID_commonName).value());
  auto sans = csr->subjectAltNames();
  ASSERT_EQ(2u, sans.size());
  EXPECT_EQ("DNS:dev.example", sans[0]);
  EXPECT_EQ("URI:urn:dev:serial:V-0001", sans[1]);
  EXPECT_EQ(NID_sha256, csr->signatureDigestNid());
  EXPECT_FALSE(csr->challengePassword());
}

TEST(CertificateRequest, ReadsTheChallengePassword) {
  auto csr = CertificateRequest::fromDer(vectorBytes("challenge-csr.der"));
  ASSERT_TRUE(csr);
  ASSERT_TRUE(csr->challengePassword());
  EXPECT_EQ("s3cret-challenge", csr->challengePassword()->reveal());
}

TEST(CertificateRequest, DetectsATamperedSignature) {
  Bytes der = vectorBytes("p256-csr.der");
  der[der.size() - 5] ^= 0x01;
  auto csr = CertificateRequest::fromDer(der);
  ASSERT_TRUE(csr);
  EXPECT_FALSE(csr->verifySignature());
}

TEST(CertificateRequest, RefusesGarbage) {
  Bytes junk = {0x30, 0x03, 0x02, 0x01, 0x01};
  auto r = CertificateRequest::fromDer(junk);
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kMalformed, r.error().code);
}

TEST(Pkcs7, ParsesOpensslCertsOnly) {
  auto certs = parseCertsOnly(vectorBytes("certs-only.p7"));
  ASSERT_TRUE(certs);
  ASSERT_EQ(2u, certs->size());
  EXPECT_TRUE((*certs)[0].isCa());
}

TEST(Pkcs7, RoundTripsOurCertsOnly) {
  auto a = Certificate::fromPem(vectorText("maker-ca.pem"));
  auto b = Certificate::fromPem(vectorText("sn-device.pem"));
  auto der = makeCertsOnly({*a, *b});
  ASSERT_TRUE(der);
  auto back = parseCertsOnly(*der);
  ASSERT_TRUE(back);
  ASSERT_EQ(2u, back->size());
  EXPECT_TRUE((*back)[1] == *b);
}

TEST(PrivateKey, GeneratesEveryOfferedType) {
  for (auto t : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048, KeyType::kEd25519}) {
    auto k = PrivateKey::generate(t);
    ASSERT_TRUE(k);
    EXPECT_EQ(keyTypeName(t), k->describe());
  }
}

TEST(PrivateKey, ReadsAnEncryptedKeyOnlyWithItsPassphrase) {
  auto k = PrivateKey::generate(KeyType::kEcP256);
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PKCS8PrivateKey(bio.get(), k->native(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                const_cast<char*>("correct horse"));
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(n));
  SecretString right("correct horse"), wrong("battery staple");
  EXPECT_TRUE(PrivateKey::fromPem(pem, &right));
  EXPECT_FALSE(PrivateKey::fromPem(pem, &wrong));
  EXPECT_FALSE(PrivateKey::fromPem(pem));
}

TEST(KeyType, ParsesNamesAndRefusesUnknownOnes) {
  EXPECT_EQ(KeyType::kEcP384, parseKeyType("ec-p384").value());
  EXPECT_EQ(KeyType::kRsa3072, parseKeyType("RSA-3072").value());
  EXPECT_FALSE(parseKeyType("dsa-1024"));
}

}  // namespace
}  // namespace enroll::pki
