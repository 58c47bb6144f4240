// CertificateRequest::fromDer reads most requests without OpenSSL's key decoder (a rebuilt
// request kept only when it encodes back to the bytes received). These tests hold it to what
// d2i_X509_REQ reads from the same bytes, for every key kind a device sends, and for requests
// it must hand to d2i_X509_REQ instead.
#include "pki/certificate_request.h"

#include <gtest/gtest.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <algorithm>
#include <random>

#include "pki/private_key.h"
#include "tests/support/damage.h"

namespace enroll::pki {
namespace {

/** A signed request with a subject, a SAN and a challengePassword, as DER. */
Bytes makeRequest(EVP_PKEY* key, const EVP_MD* md) {
  UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("dev-0042"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "serialNumber", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("SN-42"), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(
      exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, "DNS:dev-0042.example"));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_UTF8,
                            reinterpret_cast<const unsigned char*>("s3cret"), -1);
  EXPECT_GT(X509_REQ_sign(req.get(), key, md), 0);
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

/** What d2i_X509_REQ alone makes of the same bytes: the reference. */
UniquePtr<X509_REQ> reference(const Bytes& der) {
  const unsigned char* p = der.data();
  return UniquePtr<X509_REQ>(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
}

void expectSameAsReference(const Bytes& der) {
  auto csr = CertificateRequest::fromDer(der);
  ASSERT_TRUE(csr) << csr.error().toString();
  auto ref = reference(der);
  ASSERT_TRUE(ref);
  EXPECT_EQ(der, csr->toDer());
  EXPECT_TRUE(csr->verifySignature());
  EXPECT_EQ(1, X509_REQ_verify(ref.get(), X509_REQ_get0_pubkey(ref.get())));
  EXPECT_EQ(nameToString(X509_REQ_get_subject_name(ref.get())), csr->subject());
  ASSERT_NE(nullptr, csr->publicKey());
  EXPECT_EQ(1, EVP_PKEY_eq(csr->publicKey(), X509_REQ_get0_pubkey(ref.get())));
  EXPECT_EQ(csr->publicKeyDer(), CertificateRequest::fromPem(csr->toPem())->publicKeyDer());
  EXPECT_EQ(X509_REQ_get_attr_count(ref.get()), static_cast<int>(csr->attributeOids().size()));
  ASSERT_TRUE(csr->challengePassword());
  EXPECT_EQ("s3cret", std::string(csr->challengePassword()->reveal()));
  ASSERT_EQ(1U, csr->subjectAltNames().size());
  EXPECT_EQ("DNS:dev-0042.example", csr->subjectAltNames()[0]);
  EXPECT_EQ(std::string("ecdsa-with-SHA256") == csr->signatureAlgorithm()
                ? NID_sha256
                : csr->signatureDigestNid(),
            csr->signatureDigestNid());
}

TEST(CertificateRequestDecoding, ReadsEveryDeviceKeyKindLikeD2iX509Req) {
  for (KeyType kind : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521, KeyType::kRsa2048,
                       KeyType::kRsa3072, KeyType::kEd25519}) {
    SCOPED_TRACE(keyTypeName(kind));
    auto key = PrivateKey::generate(kind);
    ASSERT_TRUE(key) << key.error().toString();
    const bool edwards = kind == KeyType::kEd25519;
    expectSameAsReference(makeRequest(key->native(), edwards ? nullptr : EVP_sha256()));
  }
}

TEST(CertificateRequestDecoding, KeepsACompressedEcPoint) {
  auto key = PrivateKey::generate(KeyType::kEcP256);
  ASSERT_TRUE(key);
  ASSERT_EQ(1, EVP_PKEY_set_utf8_string_param(
                   key->native(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"));
  Bytes der = makeRequest(key->native(), EVP_sha256());
  expectSameAsReference(der);
  auto csr = CertificateRequest::fromDer(der);
  ASSERT_TRUE(csr);
  Bytes spki = csr->publicKeyDer();
  EXPECT_EQ(0x02, spki[spki.size() - 33] & 0xFE);  // 33-byte compressed point
}

TEST(CertificateRequestDecoding, DetectsAChangedSubjectOrSignature) {
  auto key = PrivateKey::generate(KeyType::kEcP256);
  ASSERT_TRUE(key);
  Bytes der = makeRequest(key->native(), EVP_sha256());
  Bytes subject = der;
  auto at = std::search(subject.begin(), subject.end(), std::begin("dev-0042"),
                        std::begin("dev-0042") + 8);
  ASSERT_NE(subject.end(), at);
  at[7] = '3';  // dev-0043
  auto changed = CertificateRequest::fromDer(subject);
  ASSERT_TRUE(changed);
  EXPECT_NE(std::string::npos, changed->subject().find("dev-0043"));
  EXPECT_FALSE(changed->verifySignature());

  Bytes signature = der;
  signature[signature.size() - 2] ^= 0x01;
  auto bad = CertificateRequest::fromDer(signature);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->verifySignature());
}

TEST(CertificateRequestDecoding, HandsOtherEncodingsToD2iX509Req) {
  auto key = PrivateKey::generate(KeyType::kEcP256);
  ASSERT_TRUE(key);
  Bytes der = makeRequest(key->native(), EVP_sha256());
  // The outer length in a longer form than DER allows (BER): whatever d2i_X509_REQ makes of it.
  ASSERT_EQ(0x30, der[0]);
  ASSERT_EQ(0x82, der[1]);  // two length octets: written again as three
  Bytes ber = {0x30, 0x83, 0x00, der[2], der[3]};
  ber.insert(ber.end(), der.begin() + 4, der.end());
  auto csr = CertificateRequest::fromDer(ber);
  auto ref = reference(ber);
  ASSERT_EQ(static_cast<bool>(ref), static_cast<bool>(csr));
  if (csr) {
    EXPECT_TRUE(csr->verifySignature());
  }
  // Trailing bytes, a truncated request: refused on both paths.
  Bytes trailing = der;
  trailing.push_back(0x00);
  EXPECT_FALSE(CertificateRequest::fromDer(trailing));
  Bytes truncated(der.begin(), der.end() - 1);
  EXPECT_FALSE(CertificateRequest::fromDer(truncated));
  EXPECT_EQ(0UL, ERR_peek_error());  // nothing left behind for the next request
}

TEST(CertificateRequestDecoding, AgreesWithD2iX509ReqOnDamagedRequests) {
  // Random damage (a changed byte, a cut) to requests of each key kind: whatever fromDer accepts,
  // d2i_X509_REQ accepts too, with the same bytes, key and signature verdict.
  std::mt19937 random(20261127);
  int accepted = 0;
  for (KeyType kind : {KeyType::kEcP256, KeyType::kRsa2048}) {
    auto key = PrivateKey::generate(kind);
    ASSERT_TRUE(key);
    const Bytes good = makeRequest(key->native(), EVP_sha256());
    for (int round = 0; round < 1500; ++round) {
      const Bytes der = enroll::testing::damaged(good, round, random);
      auto csr = CertificateRequest::fromDer(der);
      auto ref = reference(der);
      if (!csr) continue;
      ++accepted;
      ASSERT_TRUE(ref) << "round " << round;
      EXPECT_EQ(X509_REQ_get0_pubkey(ref.get()) != nullptr, csr->publicKey() != nullptr);
      if (csr->publicKey() != nullptr && X509_REQ_get0_pubkey(ref.get()) != nullptr) {
        EXPECT_EQ(X509_REQ_verify(ref.get(), X509_REQ_get0_pubkey(ref.get())) == 1,
                  static_cast<bool>(csr->verifySignature()))
            << "round " << round;
      }
      ERR_clear_error();
    }
  }
  EXPECT_GT(accepted, 100);  // the damage left many requests readable: the comparison ran
}

}  // namespace
}  // namespace enroll::pki
