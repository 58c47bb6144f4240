#include "pki/server_generated_key.h"

#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>

#include <algorithm>
#include <array>

namespace enroll::pki {
namespace {

// RFC 7030 4.4.1.2 / RFC 4108 / RFC 8551 attribute OIDs, and RFC 5958's key package type.
constexpr const char* kAsymmDecryptKeyId = "1.2.840.113549.1.9.16.2.54";
constexpr const char* kDecryptKeyId = "1.2.840.113549.1.9.16.2.37";
constexpr const char* kSmimeCapabilities = "1.2.840.113549.1.9.15";
constexpr const char* kAsymmetricKeyPackage = "2.16.840.1.101.2.1.2.78.5";

/** A byte buffer holding a secret, cleansed when it goes. */
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(Bytes b) : b_(std::move(b)) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { OPENSSL_cleanse(b_.data(), b_.size()); }
  const Bytes& get() const { return b_; }

 private:
  Bytes b_;
};

UniquePtr<ASN1_OBJECT> object(const char* dotted) {
  return UniquePtr<ASN1_OBJECT>(OBJ_txt2obj(dotted, 1));
}

/** The single value of a CSR attribute; nullptr when the CSR has no such attribute. */
Result<const ASN1_TYPE*> attributeValue(const CertificateRequest& csr, const char* oid,
                                        const char* name) {
  auto obj = object(oid);
  if (!obj)
    return opensslError(ErrorCode::kInternal, "cannot make the OID of " + std::string(name));
  int idx = X509_REQ_get_attr_by_OBJ(csr.native(), obj.get(), -1);
  if (idx < 0) return static_cast<const ASN1_TYPE*>(nullptr);
  X509_ATTRIBUTE* attr = X509_REQ_get_attr(csr.native(), idx);
  if (X509_REQ_get_attr_by_OBJ(csr.native(), obj.get(), idx) >= 0 || !attr ||
      X509_ATTRIBUTE_count(attr) != 1) {
    return makeError(ErrorCode::kMalformed,
                     "the CSR attribute " + std::string(name) + " must have exactly one value");
  }
  return static_cast<const ASN1_TYPE*>(X509_ATTRIBUTE_get0_type(attr, 0));
}

/** An identifier attribute: one non-empty OCTET STRING (RFC 7030 4.4.1.1 and 4.4.1.2). */
Result<std::optional<Bytes>> readIdentifier(const CertificateRequest& csr, const char* oid,
                                            const char* name) {
  ENROLL_TRY(const ASN1_TYPE* value, attributeValue(csr, oid, name));
  if (!value) return std::optional<Bytes>();
  if (value->type != V_ASN1_OCTET_STRING || !value->value.octet_string ||
      ASN1_STRING_length(value->value.octet_string) <= 0) {
    return makeError(ErrorCode::kMalformed, "the CSR attribute " + std::string(name) +
                                                " must be a non-empty OCTET STRING");
  }
  const unsigned char* p = ASN1_STRING_get0_data(value->value.octet_string);
  return std::optional<Bytes>(Bytes(p, p + ASN1_STRING_length(value->value.octet_string)));
}

/** Cleanses the encapsulated content a CMS object holds (OpenSSL frees it without cleansing). */
struct CleansingCmsDeleter {
  void operator()(CMS_ContentInfo* cms) const {
    ASN1_OCTET_STRING** content = CMS_get0_content(cms);
    if (content && *content) {
      OPENSSL_cleanse(const_cast<unsigned char*>(ASN1_STRING_get0_data(*content)),
                      static_cast<size_t>(ASN1_STRING_length(*content)));
    }
    CMS_ContentInfo_free(cms);
  }
};

struct AlgorsDeleter {
  void operator()(X509_ALGORS* s) const { sk_X509_ALGOR_pop_free(s, X509_ALGOR_free); }
};

Result<Bytes> toDer(CMS_ContentInfo* cms) {
  unsigned char* der = nullptr;
  int n = i2d_CMS_ContentInfo(cms, &der);
  if (n <= 0) return opensslError(ErrorCode::kInternal, "cannot encode CMS");
  Bytes out(der, der + n);
  OPENSSL_clear_free(der, static_cast<size_t>(n));
  return out;
}

UniquePtr<BIO> readBio(const Bytes& data) {
  return UniquePtr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

/** DER SEQUENCE around content (definite length). */
Bytes derSequence(const Bytes& content) {
  Bytes out{0x30};
  size_t len = content.size();
  if (len < 0x80) {
    out.push_back(static_cast<uint8_t>(len));
  } else {
    Bytes digits;
    for (size_t l = len; l > 0; l >>= 8)
      digits.insert(digits.begin(), static_cast<uint8_t>(l & 0xff));
    out.push_back(static_cast<uint8_t>(0x80 | digits.size()));
    out.insert(out.end(), digits.begin(), digits.end());
  }
  out.reserve(out.size() + content.size());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

}  // namespace

Result<KeyProtectionRequest> readKeyProtectionRequest(const CertificateRequest& csr) {
  KeyProtectionRequest out;
  ENROLL_TRY(out.asymmetric_key_id,
             readIdentifier(csr, kAsymmDecryptKeyId, "id-aa-asymmDecryptKeyID"));
  ENROLL_TRY(out.symmetric_key_id, readIdentifier(csr, kDecryptKeyId, "id-aa-decryptKeyID"));
  ENROLL_TRY(const ASN1_TYPE* caps, attributeValue(csr, kSmimeCapabilities, "smimeCapabilities"));
  if (caps) {
    if (caps->type != V_ASN1_SEQUENCE || !caps->value.sequence) {
      return makeError(ErrorCode::kMalformed, "smimeCapabilities must be a SEQUENCE");
    }
    const unsigned char* p = ASN1_STRING_get0_data(caps->value.sequence);
    std::unique_ptr<X509_ALGORS, AlgorsDeleter> list(
        d2i_X509_ALGORS(nullptr, &p, ASN1_STRING_length(caps->value.sequence)));
    if (!list) return opensslError(ErrorCode::kMalformed, "smimeCapabilities cannot be decoded");
    for (int i = 0; i < sk_X509_ALGOR_num(list.get()); ++i) {
      const ASN1_OBJECT* alg = nullptr;
      X509_ALGOR_get0(&alg, nullptr, nullptr, sk_X509_ALGOR_value(list.get(), i));
      out.capabilities.push_back(OBJ_obj2nid(alg));
    }
  }
  return out;
}

Result<int> chooseContentCipher(const KeyProtectionRequest& request) {
  // RFC 8551 2.5.2: capabilities come in the client's order of preference.
  static constexpr std::array<int, 3> kOffered = {NID_aes_256_cbc, NID_aes_192_cbc,
                                                  NID_aes_128_cbc};
  static constexpr std::array<int, 11> kOtherContentCiphers = {
      NID_aes_128_gcm, NID_aes_192_gcm,      NID_aes_256_gcm,     NID_aes_128_ccm,
      NID_aes_192_ccm, NID_aes_256_ccm,      NID_des_ede3_cbc,    NID_des_cbc,
      NID_rc2_cbc,     NID_camellia_128_cbc, NID_camellia_256_cbc};
  bool lists_ciphers = false;
  for (int nid : request.capabilities) {
    if (std::ranges::find(kOffered, nid) != kOffered.end()) return nid;
    if (std::ranges::find(kOtherContentCiphers, nid) != kOtherContentCiphers.end())
      lists_ciphers = true;
  }
  if (lists_ciphers) {
    return makeError(ErrorCode::kInvalidArgument,
                     "smimeCapabilities list no content cipher enrolld offers "
                     "(aes256-CBC, aes192-CBC, aes128-CBC)");
  }
  return NID_aes_256_cbc;
}

Bytes keyIdentifier(const Certificate& cert) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.native());
  if (ski) {
    const unsigned char* p = ASN1_STRING_get0_data(ski);
    return Bytes(p, p + ASN1_STRING_length(ski));
  }
  // RFC 5280 4.2.1.2 (1): SHA-1 of the BIT STRING subjectPublicKey, without tag and length.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_pubkey_digest(cert.native(), EVP_sha1(), md, &n) != 1) {
    drainOpensslErrors();
    return {};
  }
  return Bytes(md, md + n);
}

bool canReceiveEnvelope(const EVP_PKEY* key) {
  if (!key) return false;
  int id = EVP_PKEY_get_base_id(key);
  return id == EVP_PKEY_RSA || id == EVP_PKEY_EC;
}

Result<Bytes> makeServerGeneratedKey(const PrivateKey& key, const Certificate& recipient,
                                     const CmsSigner& signer, int cipher_nid) {
  if (!canReceiveEnvelope(recipient.publicKey())) {
    return makeError(ErrorCode::kInvalidArgument,
                     "a " + describeKey(recipient.publicKey()) +
                         " key cannot receive an encrypted key (RSA or EC only)");
  }
  const EVP_CIPHER* cipher = EVP_get_cipherbynid(cipher_nid);
  if (!cipher) return makeError(ErrorCode::kInvalidArgument, "unknown content cipher");
  auto akp_type = object(kAsymmetricKeyPackage);
  if (!akp_type) return opensslError(ErrorCode::kInternal, "cannot make the key package OID");

  // RFC 5958 2: AsymmetricKeyPackage ::= SEQUENCE SIZE (1..MAX) OF OneAsymmetricKey; a PKCS#8
  // PrivateKeyInfo is a version 1 OneAsymmetricKey.
  ENROLL_TRY(Bytes pkcs8_der, key.toPkcs8Der());
  const SecretBytes pkcs8(std::move(pkcs8_der));
  const SecretBytes package(derSequence(pkcs8.get()));

  // The SignedData around the key package, signed by whoever made the key.
  const unsigned sign_flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  std::unique_ptr<CMS_ContentInfo, CleansingCmsDeleter> signed_data(
      CMS_sign(nullptr, nullptr, nullptr, nullptr, sign_flags));
  if (!signed_data || CMS_set1_eContentType(signed_data.get(), akp_type.get()) != 1) {
    return opensslError(ErrorCode::kInternal, "cannot start the key package's SignedData");
  }
  CMS_SignerInfo* si = CMS_add1_signer(signed_data.get(), signer.certificate.native(), signer.key,
                                       signer.digest, sign_flags);
  if (!si) return opensslError(ErrorCode::kInternal, "cannot add the signer of the key package");
  if (signer.signing_time != 0) {
    UniquePtr<ASN1_STRING> at(ASN1_TIME_set(nullptr, signer.signing_time));
    if (!at || CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, at->type, at.get(), -1) != 1)
      return opensslError(ErrorCode::kInternal, "cannot add the signing time");
  }
  auto package_in = readBio(package.get());
  if (!package_in || CMS_final(signed_data.get(), package_in.get(), nullptr, CMS_BINARY) != 1) {
    return opensslError(ErrorCode::kInternal, "cannot sign the key package");
  }
  ENROLL_TRY(Bytes signed_der, toDer(signed_data.get()));
  const SecretBytes signed_package(std::move(signed_der));
  signed_data.reset();

  // The EnvelopedData around the SignedData, to the recipient's key.
  UniquePtr<CMS_ContentInfo> enveloped(
      CMS_encrypt(nullptr, nullptr, cipher, CMS_BINARY | CMS_PARTIAL));
  if (!enveloped || CMS_set1_eContentType(enveloped.get(), OBJ_nid2obj(NID_pkcs7_signed)) != 1) {
    return opensslError(ErrorCode::kInternal, "cannot start the EnvelopedData");
  }
  CMS_RecipientInfo* ri =
      CMS_add1_recipient_cert(enveloped.get(), recipient.native(), CMS_KEY_PARAM);
  if (!ri) return opensslError(ErrorCode::kInternal, "cannot add the recipient");
  if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_AGREE) {
    // ECDH: a SHA-256 KDF (dhSinglePass-stdDH-sha256kdf-scheme) instead of OpenSSL's SHA-1.
    EVP_PKEY_CTX* pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
    if (!pctx || EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, EVP_sha256()) <= 0) {
      return opensslError(ErrorCode::kInternal, "cannot set the ECDH key derivation");
    }
  }
  auto signed_in = readBio(signed_package.get());
  if (!signed_in || CMS_final(enveloped.get(), signed_in.get(), nullptr, CMS_BINARY) != 1) {
    return opensslError(ErrorCode::kInternal, "cannot encrypt the key package");
  }
  return toDer(enveloped.get());
}

}  // namespace enroll::pki
