#include "pki/server_generated_key.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/sha.h>

#include <tuple>

#include "tests/support/test_ca.h"

namespace enroll::pki {
namespace {

using enroll::testing::KeyedCert;
using enroll::testing::makeTestCa;
using enroll::testing::makeTestCsr;
using enroll::testing::makeTestLeaf;

constexpr const char* kAsymmDecryptKeyId = "1.2.840.113549.1.9.16.2.54";
constexpr const char* kDecryptKeyId = "1.2.840.113549.1.9.16.2.37";
constexpr const char* kSmimeCapabilities = "1.2.840.113549.1.9.15";

/** A CSR with extra attributes (OID, ASN.1 type, value bytes), signed after adding them. */
CertificateRequest csrWith(const std::vector<std::tuple<const char*, int, Bytes>>& attributes) {
  auto key = *PrivateKey::generate(KeyType::kEcP256);
  UniquePtr<X509_REQ> req(X509_REQ_dup(makeTestCsr("CN=DEV-1", key).native()));
  for (const auto& [oid, type, value] : attributes) {
    X509_REQ_add1_attr_by_txt(req.get(), oid, type, value.data(), static_cast<int>(value.size()));
  }
  X509_REQ_sign(req.get(), key.native(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  auto out = *CertificateRequest::fromDer(der, static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

/** DER SMIMECapabilities listing the given algorithms without parameters. */
Bytes capabilities(const std::vector<int>& nids) {
  STACK_OF(X509_ALGOR)* list = sk_X509_ALGOR_new_null();
  for (int nid : nids) {
    X509_ALGOR* alg = X509_ALGOR_new();
    X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_UNDEF, nullptr);
    sk_X509_ALGOR_push(list, alg);
  }
  unsigned char* der = nullptr;
  int n = i2d_X509_ALGORS(list, &der);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  sk_X509_ALGOR_pop_free(list, X509_ALGOR_free);
  return out;
}

TEST(KeyProtectionRequest, ReadsTheAsymmetricKeyIdentifier) {
  auto r =
      readKeyProtectionRequest(csrWith({{kAsymmDecryptKeyId, V_ASN1_OCTET_STRING, {1, 2, 3}}}));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_TRUE(r->wantsEncryption());
  EXPECT_EQ((Bytes{1, 2, 3}), r->asymmetric_key_id);
  EXPECT_FALSE(r->symmetric_key_id);
}

TEST(KeyProtectionRequest, SmimeCapabilitiesAloneAskForNoEncryption) {
  auto caps = capabilities({NID_aes_128_cbc, NID_ecdsa_with_SHA256});
  // The attribute value is the SEQUENCE itself: give OpenSSL its contents as a V_ASN1_SEQUENCE.
  auto r = readKeyProtectionRequest(csrWith({{kSmimeCapabilities, V_ASN1_SEQUENCE, caps}}));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_FALSE(r->wantsEncryption());
  EXPECT_EQ((std::vector<int>{NID_aes_128_cbc, NID_ecdsa_with_SHA256}), r->capabilities);
  EXPECT_EQ(NID_aes_128_cbc, *chooseContentCipher(*r));
}

TEST(KeyProtectionRequest, ReadsTheSymmetricKeyIdentifier) {
  auto r = readKeyProtectionRequest(csrWith({{kDecryptKeyId, V_ASN1_OCTET_STRING, {9}}}));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->wantsEncryption());
  EXPECT_EQ((Bytes{9}), r->symmetric_key_id);
}

TEST(KeyProtectionRequest, RefusesAnIdentifierThatIsNoOctetString) {
  auto r =
      readKeyProtectionRequest(csrWith({{kAsymmDecryptKeyId, MBSTRING_ASC, Bytes{'a', 'b', 'c'}}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kMalformed, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("id-aa-asymmDecryptKeyID"));
}

TEST(KeyProtectionRequest, ACsrWithoutTheAttributesAsksForNothing) {
  auto key = *PrivateKey::generate(KeyType::kEcP256);
  auto r = readKeyProtectionRequest(makeTestCsr("CN=DEV-1", key));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->wantsEncryption());
  EXPECT_TRUE(r->capabilities.empty());
}

TEST(ChooseContentCipher, TakesTheClientsFirstAesCbcOrAes256ByDefault) {
  KeyProtectionRequest r;
  EXPECT_EQ(NID_aes_256_cbc, *chooseContentCipher(r));
  r.capabilities = {NID_id_aes128_wrap, NID_sha256};
  EXPECT_EQ(NID_aes_256_cbc, *chooseContentCipher(r)) << "no content cipher listed";
  r.capabilities = {NID_des_ede3_cbc, NID_aes_192_cbc, NID_aes_256_cbc};
  EXPECT_EQ(NID_aes_192_cbc, *chooseContentCipher(r));
  r.capabilities = {NID_des_ede3_cbc};
  auto refused = chooseContentCipher(r);
  ASSERT_FALSE(refused);
  EXPECT_EQ(ErrorCode::kInvalidArgument, refused.error().code);
}

TEST(KeyIdentifier, IsTheSubjectKeyIdentifierOrTheSha1OfThePublicKey) {
  KeyedCert ca = makeTestCa("Root");
  KeyedCert leaf = makeTestLeaf("CN=dev", ca);
  Bytes ski = keyIdentifier(leaf.cert);
  const ASN1_OCTET_STRING* ext = X509_get0_subject_key_id(leaf.cert.native());
  ASSERT_NE(nullptr, ext);
  EXPECT_EQ(Bytes(ASN1_STRING_get0_data(ext), ASN1_STRING_get0_data(ext) + ASN1_STRING_length(ext)),
            ski);

  // A certificate without the extension: RFC 5280 4.2.1.2 method 1, SHA-1 of subjectPublicKey.
  UniquePtr<X509> bare(X509_new());
  X509_set_version(bare.get(), 2);
  X509_set_pubkey(bare.get(), leaf.key.native());
  X509_gmtime_adj(X509_getm_notBefore(bare.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(bare.get()), 3600);
  X509_sign(bare.get(), leaf.key.native(), EVP_sha256());
  auto cert = Certificate::adopt(std::move(bare));
  ASSERT_EQ(nullptr, X509_get0_subject_key_id(cert.native()));
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(cert.native());
  unsigned char md[20];
  SHA1(ASN1_STRING_get0_data(bits), static_cast<size_t>(ASN1_STRING_length(bits)), md);
  EXPECT_EQ(Bytes(md, md + 20), keyIdentifier(cert));
  EXPECT_EQ(ski, keyIdentifier(cert)) << "the builder's SKI is method 1 too";
}

void expectRoundTrip(KeyType device_key_type, int cipher_nid) {
  KeyedCert root = makeTestCa("Root");
  KeyedCert issuing = makeTestCa("Issuing", &root);
  KeyedCert device = makeTestLeaf("CN=DEV-1", root, 0, 0, {"digitalSignature"}, device_key_type);
  auto key = *PrivateKey::generate(KeyType::kEcP256);

  auto der = makeServerGeneratedKey(
      key, device.cert, CmsSigner{issuing.cert, issuing.key.native(), nullptr}, cipher_nid);
  ASSERT_TRUE(der) << der.error().toString();
  auto o = enroll::testing::openServerGeneratedKey(*der, device, root.cert);
  // RFC 7030 4.4.2: EnvelopedData outside, SignedData inside, the key package in the SignedData.
  EXPECT_EQ(NID_pkcs7_enveloped, o.outer_type);
  EXPECT_EQ(NID_pkcs7_signed, o.encrypted_type);
  EXPECT_EQ("2.16.840.1.101.2.1.2.78.5", o.signed_content_type);
  EXPECT_TRUE(o.signature_ok) << drainOpensslErrors();
  // AsymmetricKeyPackage: SEQUENCE OF OneAsymmetricKey, here exactly the one PKCS#8 key.
  ASSERT_TRUE(o.key);
  EXPECT_EQ(1, EVP_PKEY_eq(o.key->native(), key.native()));
}

TEST(ServerGeneratedKey, RoundTripsToAnEcRecipientByKeyAgreement) {
  expectRoundTrip(KeyType::kEcP256, NID_aes_256_cbc);
}

TEST(ServerGeneratedKey, RoundTripsToAnRsaRecipientByKeyTransport) {
  expectRoundTrip(KeyType::kRsa2048, NID_aes_128_cbc);
}

TEST(ServerGeneratedKey, EcRecipientsGetASha256Kdf) {
  KeyedCert root = makeTestCa("Root");
  KeyedCert device = makeTestLeaf("CN=DEV-1", root);
  auto key = *PrivateKey::generate(KeyType::kEcP256);
  auto der = makeServerGeneratedKey(key, device.cert, CmsSigner{root.cert, root.key.native()},
                                    NID_aes_256_cbc);
  ASSERT_TRUE(der);
  const unsigned char* p = der->data();
  UniquePtr<CMS_ContentInfo> env(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der->size())));
  auto* infos = CMS_get0_RecipientInfos(env.get());
  ASSERT_EQ(1, sk_CMS_RecipientInfo_num(infos));
  CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(infos, 0);
  ASSERT_EQ(CMS_RECIPINFO_AGREE, CMS_RecipientInfo_type(ri));
  X509_ALGOR* kek = nullptr;
  CMS_RecipientInfo_kari_get0_alg(ri, &kek, nullptr);
  EXPECT_EQ(NID_dhSinglePass_stdDH_sha256kdf_scheme, OBJ_obj2nid(kek->algorithm));
}

TEST(ServerGeneratedKey, RefusesARecipientKeyThatCannotDecrypt) {
  KeyedCert root = makeTestCa("Root");
  KeyedCert device = makeTestLeaf("CN=DEV-1", root, 0, 0, {"digitalSignature"}, KeyType::kEd25519);
  auto key = *PrivateKey::generate(KeyType::kEcP256);
  auto der = makeServerGeneratedKey(key, device.cert, CmsSigner{root.cert, root.key.native()},
                                    NID_aes_256_cbc);
  ASSERT_FALSE(der);
  EXPECT_EQ(ErrorCode::kInvalidArgument, der.error().code);
  EXPECT_NE(std::string::npos, der.error().message.find("ed25519"));
}

}  // namespace
}  // namespace enroll::pki
