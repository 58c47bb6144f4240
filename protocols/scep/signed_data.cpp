#include "protocols/scep/signed_data.h"

#include <openssl/cms.h>
#include <openssl/pkcs7.h>

namespace enroll::scep {
namespace {

using pki::Bytes;
using pki::ErrorCode;
using pki::UniquePtr;

UniquePtr<BIO> readBio(const Bytes& data) {
  // An empty vector may have no storage; OpenSSL refuses a null buffer even of length 0.
  static const unsigned char kEmpty = 0;
  const void* p = data.empty() ? &kEmpty : data.data();
  return UniquePtr<BIO>(BIO_new_mem_buf(p, static_cast<int>(data.size())));
}

/** Everything written so far into a memory BIO. */
Bytes drainBio(BIO* bio) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  if (!mem) return {};
  return Bytes(mem->data, mem->data + mem->length);
}

pki::Result<Bytes> cmsToDer(CMS_ContentInfo* cms) {
  unsigned char* der = nullptr;
  int n = i2d_CMS_ContentInfo(cms, &der);
  if (n <= 0) return pki::opensslError(ErrorCode::kInternal, "cannot encode CMS");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

pki::Result<UniquePtr<CMS_ContentInfo>> cmsFromDer(const Bytes& der) {
  const unsigned char* p = der.data();
  UniquePtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) return pki::opensslError(ErrorCode::kMalformed, "not a DER CMS ContentInfo");
  return cms;
}

pki::Result<void> addAttribute(CMS_SignerInfo* si, const SignedAttribute& a) {
  if (CMS_signed_add1_attr_by_NID(si, a.nid, a.asn1_type, a.value.data(),
                                  static_cast<int>(a.value.size())) != 1) {
    return pki::opensslError(ErrorCode::kInternal, "cannot add a signed attribute");
  }
  return pki::ok();
}

}  // namespace

pki::Result<Bytes> signData(const Bytes& content, const RaIdentity& signer, int digest_nid,
                            const std::vector<SignedAttribute>& attributes) {
  const unsigned flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP;
  UniquePtr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  const EVP_MD* md = EVP_get_digestbynid(digest_nid);
  if (!cms || !md) return pki::opensslError(ErrorCode::kInternal, "cannot start a SignedData");
  CMS_SignerInfo* si =
      CMS_add1_signer(cms.get(), signer.certificate.native(), signer.key.native(), md, flags);
  if (!si) return pki::opensslError(ErrorCode::kInternal, "cannot add the RA as signer");
  for (const auto& a : attributes) ENROLL_CHECK(addAttribute(si, a));
  // CMS_final digests the content, adds contentType/messageDigest/signingTime and signs.
  auto in = readBio(content);
  if (!in || CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1) {
    return pki::opensslError(ErrorCode::kInternal, "cannot sign the SignedData");
  }
  return cmsToDer(cms.get());
}

pki::Result<Bytes> makeDegenerate(const std::vector<pki::Certificate>& certificates,
                                  const std::optional<Bytes>& crl_der) {
  UniquePtr<PKCS7> p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1) {
    return pki::opensslError(ErrorCode::kInternal, "cannot build a degenerate SignedData");
  }
  for (const auto& c : certificates) {
    if (PKCS7_add_certificate(p7.get(), c.native()) != 1) {
      return pki::opensslError(ErrorCode::kInternal, "cannot add a certificate");
    }
  }
  if (crl_der) {
    const unsigned char* p = crl_der->data();
    UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(crl_der->size())));
    if (!crl || PKCS7_add_crl(p7.get(), crl.get()) != 1) {
      return pki::opensslError(ErrorCode::kInternal, "cannot add the CRL");
    }
  }
  unsigned char* der = nullptr;
  int n = i2d_PKCS7(p7.get(), &der);
  if (n <= 0) return pki::opensslError(ErrorCode::kInternal, "cannot encode PKCS#7");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

pki::Result<Bytes> envelopeTo(const Bytes& content, const pki::Certificate& recipient,
                              int cipher_nid) {
  const EVP_CIPHER* cipher = EVP_get_cipherbynid(cipher_nid);
  pki::X509Stack recipients(sk_X509_new_null());
  if (!cipher || !recipients ||
      !sk_X509_push(recipients.get(), pki::upRef(recipient.native()).release())) {
    return pki::opensslError(ErrorCode::kInternal, "cannot prepare the EnvelopedData");
  }
  auto in = readBio(content);
  UniquePtr<CMS_ContentInfo> cms(CMS_encrypt(recipients.get(), in.get(), cipher, CMS_BINARY));
  if (!cms) return pki::opensslError(ErrorCode::kInternal, "cannot encrypt to the requester");
  return cmsToDer(cms.get());
}

pki::Result<int> envelopeCipher(const Bytes& enveloped_der) {
  // The PKCS#7 structures are public in OpenSSL, unlike CMS_EnvelopedData: read the algorithm
  // there so that a forbidden cipher is refused before any decryption is tried.
  const unsigned char* p = enveloped_der.data();
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(enveloped_der.size())));
  if (!p7 || !PKCS7_type_is_enveloped(p7.get()) || !p7->d.enveloped || !p7->d.enveloped->enc_data ||
      !p7->d.enveloped->enc_data->algorithm) {
    return pki::opensslError(ErrorCode::kMalformed, "content is not an EnvelopedData");
  }
  return OBJ_obj2nid(p7->d.enveloped->enc_data->algorithm->algorithm);
}

pki::Result<Bytes> openEnvelope(const Bytes& enveloped_der, const RaIdentity& recipient) {
  ENROLL_TRY(auto cms, cmsFromDer(enveloped_der));
  UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  if (!out || CMS_decrypt(cms.get(), recipient.key.native(), recipient.certificate.native(),
                          nullptr, out.get(), CMS_BINARY) != 1) {
    return pki::opensslError(ErrorCode::kUnauthenticated,
                             "the envelope cannot be opened with this label's RA key");
  }
  return drainBio(out.get());
}

}  // namespace enroll::scep
