// Certificate::fromDer and readSignedData read most certificates without OpenSSL's key decoder
// (pki/direct_decode.h: a rebuilt certificate kept only when it encodes back to the bytes
// received; a SignedData read apart from its certificates). These tests hold both to what
// d2i_X509 and d2i_CMS_ContentInfo make of the same bytes, also for damaged input.
#include "pki/direct_decode.h"

#include <gtest/gtest.h>

#include <openssl/err.h>
#include <algorithm>
#include <random>

#include "pki/certificate.h"
#include "pki/pkcs7.h"
#include "tests/support/damage.h"
#include "tests/support/test_ca.h"

namespace enroll::pki {
namespace {

using enroll::testing::KeyedCert;
using enroll::testing::makeTestCa;
using enroll::testing::makeTestLeaf;

/** What d2i_X509 alone makes of the same bytes: the reference. */
UniquePtr<X509> reference(const Bytes& der) {
  const unsigned char* p = der.data();
  return UniquePtr<X509>(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

void expectSameAsReference(const Bytes& der, const Certificate& issuer) {
  auto cert = Certificate::fromDer(der);
  ASSERT_TRUE(cert) << cert.error().toString();
  auto ref = reference(der);
  ASSERT_TRUE(ref);
  EXPECT_EQ(der, cert->toDer());
  EXPECT_EQ(0, X509_cmp(ref.get(), cert->native()));
  EXPECT_EQ(1, EVP_PKEY_eq(X509_get0_pubkey(ref.get()), X509_get0_pubkey(cert->native())));
  EXPECT_EQ(1, X509_verify(cert->native(), X509_get0_pubkey(issuer.native())));
  EXPECT_EQ(nameToString(X509_get_subject_name(ref.get())), cert->subject());
  EXPECT_EQ(nameToString(X509_get_issuer_name(ref.get())), cert->issuer());
  EXPECT_EQ(X509_get_ext_count(ref.get()), X509_get_ext_count(cert->native()));
  EXPECT_EQ(X509_get_extension_flags(ref.get()), X509_get_extension_flags(cert->native()));
  EXPECT_EQ(X509_get_key_usage(ref.get()), X509_get_key_usage(cert->native()));
  EXPECT_EQ(X509_check_ca(ref.get()), X509_check_ca(cert->native()));
  EXPECT_EQ(cert->fingerprintSha256(), Certificate::adopt(std::move(ref)).fingerprintSha256());
  EXPECT_EQ(cert->notAfter(), Certificate::fromPem(cert->toPem())->notAfter());
}

TEST(CertificateDecoding, ReadsEveryKeyKindLikeD2iX509) {
  KeyedCert ca = makeTestCa("Decoding Root");
  expectSameAsReference(ca.cert.toDer(), ca.cert);
  for (KeyType kind : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521, KeyType::kRsa2048,
                       KeyType::kRsa3072, KeyType::kEd25519}) {
    SCOPED_TRACE(keyTypeName(kind));
    KeyedCert leaf = makeTestLeaf("CN=dev-0042,serialNumber=SN-42", ca, 0, 0,
                                  {"digitalSignature", "keyEncipherment"}, kind);
    const Bytes der = leaf.cert.toDer();
    expectSameAsReference(der, ca.cert);
    // RSA and EC keys take the direct path; the rest is left to d2i_X509.
    const bool direct = direct::decodeCertificate(der.data(), der.size()) != nullptr;
    EXPECT_EQ(kind != KeyType::kEd25519, direct);
  }
}

TEST(CertificateDecoding, ReadsAVersion1CertificateWithoutExtensions) {
  auto key = PrivateKey::generate(KeyType::kEcP256);
  ASSERT_TRUE(key);
  UniquePtr<X509> x(X509_new());
  X509_set_version(x.get(), X509_VERSION_1);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("v1"), -1, -1, 0);
  X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key->native());
  ASSERT_GT(X509_sign(x.get(), key->native(), EVP_sha256()), 0);
  Certificate v1 = Certificate::adopt(std::move(x));
  const Bytes der = v1.toDer();
  EXPECT_NE(nullptr, direct::decodeCertificate(der.data(), der.size()));
  expectSameAsReference(der, v1);
}

TEST(CertificateDecoding, DetectsAChangedSubjectOrSignature) {
  KeyedCert ca = makeTestCa("Decoding Root");
  KeyedCert leaf = makeTestLeaf("CN=dev-0042", ca);
  Bytes subject = leaf.cert.toDer();
  auto at = std::search(subject.begin(), subject.end(), std::begin("dev-0042"),
                        std::begin("dev-0042") + 8);
  ASSERT_NE(subject.end(), at);
  at[7] = '3';  // dev-0043
  auto changed = Certificate::fromDer(subject);
  ASSERT_TRUE(changed);
  EXPECT_NE(std::string::npos, changed->subject().find("dev-0043"));
  EXPECT_EQ(subject, changed->toDer());
  EXPECT_FALSE(changed->isSignedBy(ca.cert));

  Bytes signature = leaf.cert.toDer();
  signature[signature.size() - 2] ^= 0x01;
  auto bad = Certificate::fromDer(signature);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->isSignedBy(ca.cert));
  EXPECT_TRUE(leaf.cert.isSignedBy(ca.cert));
}

TEST(CertificateDecoding, AgreesWithD2iX509OnDamagedCertificates) {
  // Random damage (a changed byte, a cut): whatever fromDer accepts, d2i_X509 accepts too, with
  // the same bytes and the same signature verdict.
  std::mt19937 random(20261127);
  KeyedCert ca = makeTestCa("Decoding Root");
  int accepted = 0;
  for (KeyType kind : {KeyType::kEcP256, KeyType::kRsa2048}) {
    KeyedCert leaf = makeTestLeaf("CN=dev-0042", ca, 0, 0, {"digitalSignature"}, kind);
    const Bytes good = leaf.cert.toDer();
    for (int round = 0; round < 1500; ++round) {
      const Bytes der = enroll::testing::damaged(good, round, random);
      auto cert = Certificate::fromDer(der);
      auto ref = reference(der);
      ERR_clear_error();
      if (!cert) continue;
      ++accepted;
      ASSERT_TRUE(ref) << "round " << round;
      EXPECT_EQ(der, cert->toDer()) << "round " << round;
      EXPECT_EQ(X509_verify(ref.get(), X509_get0_pubkey(ca.cert.native())) == 1,
                cert->isSignedBy(ca.cert))
          << "round " << round;
    }
  }
  EXPECT_GT(accepted, 100);  // the damage left many certificates readable: the comparison ran
}

/**
 * A SignedData over "hello" by signer, carrying signer and extra (unless flags say CMS_NOCERTS:
 * then neither) and, optionally, a CRL by extra.
 */
Bytes makeSignedData(const KeyedCert& signer, const KeyedCert& extra, bool with_crl,
                     unsigned flags = CMS_BINARY) {
  UniquePtr<BIO> data(BIO_new_mem_buf("hello", 5));
  X509Stack certs(sk_X509_new_null());
  if ((flags & CMS_NOCERTS) == 0) sk_X509_push(certs.get(), upRef(extra.cert.native()).release());
  UniquePtr<CMS_ContentInfo> cms(
      CMS_sign(signer.cert.native(), signer.key.native(), certs.get(), data.get(), flags));
  EXPECT_TRUE(cms);
  if (with_crl) {
    UniquePtr<X509_CRL> crl(X509_CRL_new());
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(extra.cert.native()));
    UniquePtr<ASN1_TIME> now(ASN1_TIME_set(nullptr, 0));
    X509_CRL_set1_lastUpdate(crl.get(), now.get());
    EXPECT_GT(X509_CRL_sign(crl.get(), extra.key.native(), EVP_sha256()), 0);
    EXPECT_EQ(1, CMS_add1_crl(cms.get(), crl.get()));
  }
  unsigned char* der = nullptr;
  int n = i2d_CMS_ContentInfo(cms.get(), &der);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

/** The DER of every certificate d2i_CMS_ContentInfo finds in der (nothing if it fails). */
std::optional<std::vector<Bytes>> referenceCertificates(const Bytes& der) {
  const unsigned char* p = der.data();
  UniquePtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return std::nullopt;
  std::vector<Bytes> out;
  X509Stack certs(CMS_get1_certs(cms.get()));
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i)
    out.push_back(Certificate::share(sk_X509_value(certs.get(), i)).toDer());
  return out;
}

std::vector<Bytes> certificatesOf(const SignedMessage& message) {
  std::vector<Bytes> out;
  for (const auto& c : message.certificates) out.push_back(c.toDer());
  return out;
}

/** The signature over the content verifies with the message's certificate for "CN=signer". */
bool verifiesWithItsSigner(const SignedMessage& message) {
  auto signer = std::find_if(message.certificates.begin(), message.certificates.end(),
                             [](const Certificate& c) { return c.subject() == "CN=signer"; });
  if (signer == message.certificates.end()) return false;
  X509Stack signers(sk_X509_new_null());
  sk_X509_push(signers.get(), upRef(signer->native()).release());
  UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  const int ok = CMS_verify(message.cms.get(), signers.get(), nullptr, nullptr, out.get(),
                            CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY);
  ERR_clear_error();
  return ok == 1;
}

TEST(SignedDataDecoding, ReadsTheCertificatesApartFromTheRest) {
  KeyedCert ca = makeTestCa("Decoding Root");
  KeyedCert signer = makeTestLeaf("CN=signer", ca, 0, 0, {"digitalSignature"}, KeyType::kRsa2048);
  for (bool with_crl : {false, true}) {
    SCOPED_TRACE(with_crl ? "with a CRL" : "without a CRL");
    const Bytes der = makeSignedData(signer, ca, with_crl);
    auto parts = direct::splitSignedData(der.data(), der.size());
    ASSERT_TRUE(parts);  // the split path is the one taken
    EXPECT_EQ(2U, parts->certificates.size());
    auto message = readSignedData(der.data(), der.size());
    ASSERT_TRUE(message) << message.error().toString();
    EXPECT_EQ(referenceCertificates(der).value(), certificatesOf(*message));
    X509Stack inside(CMS_get1_certs(message->cms.get()));
    EXPECT_EQ(0, inside ? sk_X509_num(inside.get()) : 0);  // read apart, not twice
    STACK_OF(X509_CRL)* crl_stack = CMS_get1_crls(message->cms.get());
    EXPECT_EQ(with_crl ? 1 : 0, crl_stack ? sk_X509_CRL_num(crl_stack) : 0);
    sk_X509_CRL_pop_free(crl_stack, X509_CRL_free);
    EXPECT_TRUE(verifiesWithItsSigner(*message));
  }
}

TEST(SignedDataDecoding, LeavesOtherFormsToD2iCmsContentInfo) {
  KeyedCert ca = makeTestCa("Decoding Root");
  KeyedCert signer = makeTestLeaf("CN=signer", ca);
  // No certificates at all; indefinite lengths (BER, as streaming writers produce).
  const Bytes bare = makeSignedData(signer, ca, false, CMS_BINARY | CMS_NOCERTS);
  EXPECT_FALSE(direct::splitSignedData(bare.data(), bare.size()));
  auto message = readSignedData(bare.data(), bare.size());
  ASSERT_TRUE(message);
  EXPECT_TRUE(message->certificates.empty());

  UniquePtr<BIO> data(BIO_new_mem_buf("hello", 5));
  UniquePtr<CMS_ContentInfo> streamed(CMS_sign(signer.cert.native(), signer.key.native(), nullptr,
                                               data.get(), CMS_BINARY | CMS_STREAM));
  ASSERT_TRUE(streamed);
  UniquePtr<BIO> mem(BIO_new(BIO_s_mem()));
  ASSERT_EQ(1, i2d_CMS_bio_stream(mem.get(), streamed.get(), data.get(), CMS_BINARY | CMS_STREAM));
  BUF_MEM* buf = nullptr;
  BIO_get_mem_ptr(mem.get(), &buf);
  const Bytes ber(buf->data, buf->data + buf->length);
  ASSERT_EQ(0x80, ber[1]);  // indefinite length
  EXPECT_FALSE(direct::splitSignedData(ber.data(), ber.size()));
  auto read = readSignedData(ber.data(), ber.size());
  ASSERT_TRUE(read) << read.error().toString();
  EXPECT_EQ(referenceCertificates(ber).value(), certificatesOf(*read));
  EXPECT_TRUE(verifiesWithItsSigner(*read));

  // Not a SignedData; not DER at all.
  const Bytes certificate = ca.cert.toDer();
  EXPECT_FALSE(readSignedData(certificate.data(), certificate.size()));
  const Bytes garbage = {0x30, 0x03, 0x02, 0x01};
  EXPECT_FALSE(readSignedData(garbage.data(), garbage.size()));
  EXPECT_EQ(0UL, ERR_peek_error());
}

TEST(SignedDataDecoding, AgreesWithD2iCmsContentInfoOnDamagedMessages) {
  std::mt19937 random(1127);
  KeyedCert ca = makeTestCa("Decoding Root");
  KeyedCert signer = makeTestLeaf("CN=signer", ca, 0, 0, {"digitalSignature"}, KeyType::kRsa2048);
  const Bytes good = makeSignedData(signer, ca, true);
  int accepted = 0;
  for (int round = 0; round < 1500; ++round) {
    const Bytes der = enroll::testing::damaged(good, round, random);
    auto message = readSignedData(der.data(), der.size());
    auto ref = referenceCertificates(der);
    ERR_clear_error();
    ASSERT_EQ(static_cast<bool>(ref), static_cast<bool>(message)) << "round " << round;
    if (!message) continue;
    ++accepted;
    EXPECT_EQ(*ref, certificatesOf(*message)) << "round " << round;
  }
  EXPECT_GT(accepted, 100);
}

}  // namespace
}  // namespace enroll::pki
