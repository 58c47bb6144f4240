// Which algorithms a label accepts, with and without legacy mode.
#include "protocols/scep/algorithm_policy.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace enroll::scep {
namespace {

TEST(AlgorithmPolicy, AcceptsSha2AndAesByDefault) {
  AlgorithmPolicy policy;
  for (int nid : {NID_sha256, NID_sha384, NID_sha512}) EXPECT_TRUE(policy.allowsDigest(nid)) << nid;
  for (int nid : {NID_aes_128_cbc, NID_aes_192_cbc, NID_aes_256_cbc})
    EXPECT_TRUE(policy.allowsCipher(nid)) << nid;
}

TEST(AlgorithmPolicy, RefusesSha1Md5DesAndTripleDesByDefault) {
  AlgorithmPolicy policy;
  EXPECT_FALSE(policy.allowsDigest(NID_sha1));
  EXPECT_FALSE(policy.allowsDigest(NID_md5));
  EXPECT_FALSE(policy.allowsCipher(NID_des_cbc));
  EXPECT_FALSE(policy.allowsCipher(NID_des_ede3_cbc));
}

TEST(AlgorithmPolicy, LegacyModeAddsSha1Md5DesAndTripleDes) {
  AlgorithmPolicy policy(true);
  EXPECT_TRUE(policy.allowsDigest(NID_sha1));
  EXPECT_TRUE(policy.allowsDigest(NID_md5));
  EXPECT_TRUE(policy.allowsCipher(NID_des_cbc));
  EXPECT_TRUE(policy.allowsCipher(NID_des_ede3_cbc));
}

TEST(AlgorithmPolicy, NeverAcceptsOtherAlgorithmsEvenInLegacyMode) {
  AlgorithmPolicy policy(true);
  EXPECT_FALSE(policy.allowsDigest(NID_sha224));
  EXPECT_FALSE(policy.allowsCipher(NID_rc2_cbc));
  EXPECT_FALSE(policy.allowsCipher(NID_aes_128_gcm));
  EXPECT_FALSE(policy.allowsCipher(NID_undef));
}

TEST(AlgorithmPolicy, LoadingTheLegacyProvidersKeepsAesAndSha256Working) {
  ASSERT_TRUE(loadLegacyProviders());
  ASSERT_TRUE(loadLegacyProviders());  // idempotent
  EVP_CIPHER* des = EVP_CIPHER_fetch(nullptr, "DES-CBC", nullptr);
  EVP_CIPHER* aes = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EXPECT_NE(des, nullptr);
  EXPECT_NE(aes, nullptr);
  EXPECT_NE(sha256, nullptr);
  EVP_CIPHER_free(des);
  EVP_CIPHER_free(aes);
  EVP_MD_free(sha256);
}

TEST(AlgorithmPolicy, NamesAlgorithmsInLowerCaseForTheLog) {
  EXPECT_EQ(algorithmName(NID_sha1), "sha1");
  EXPECT_EQ(algorithmName(NID_des_cbc), "des-cbc");
}

}  // namespace
}  // namespace enroll::scep
