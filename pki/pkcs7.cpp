#include "pki/pkcs7.h"

#include <openssl/err.h>

#include <optional>

#include "pki/direct_decode.h"

namespace enroll::pki {

Result<Bytes> makeCertsOnly(const std::vector<Certificate>& certs) {
  UniquePtr<PKCS7> p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1) {
    return opensslError(ErrorCode::kInternal, "cannot build PKCS#7");
  }
  for (const auto& c : certs) {
    if (PKCS7_add_certificate(p7.get(), c.native()) != 1) {
      return opensslError(ErrorCode::kInternal, "cannot add a certificate to PKCS#7");
    }
  }
  unsigned char* der = nullptr;
  int n = i2d_PKCS7(p7.get(), &der);
  if (n <= 0) return opensslError(ErrorCode::kInternal, "cannot encode PKCS#7");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Result<std::vector<Certificate>> parseCertsOnly(const Bytes& der) {
  const unsigned char* p = der.data();
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7) return opensslError(ErrorCode::kMalformed, "not a DER PKCS#7");
  if (!PKCS7_type_is_signed(p7.get()) || !p7->d.sign) {
    return makeError(ErrorCode::kMalformed, "PKCS#7 is not SignedData");
  }
  std::vector<Certificate> out;
  STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; i < sk_X509_num(certs); ++i)
    out.push_back(Certificate::share(sk_X509_value(certs, i)));
  return out;
}

namespace {

/** The split path: the ContentInfo without certificates, each certificate read on its own. */
std::optional<SignedMessage> readSplit(const uint8_t* der, size_t len) {
  auto parts = direct::splitSignedData(der, len);
  if (!parts) return std::nullopt;
  SignedMessage message;
  for (const auto& [at, size] : parts->certificates) {
    auto certificate = Certificate::fromDer(at, size);
    if (!certificate) return std::nullopt;
    message.certificates.push_back(std::move(*certificate));
  }
  const unsigned char* p = parts->without_certificates.data();
  const auto size = static_cast<long>(parts->without_certificates.size());
  message.cms.reset(d2i_CMS_ContentInfo(nullptr, &p, size));
  if (!message.cms || p != parts->without_certificates.data() + size) return std::nullopt;
  return message;
}

}  // namespace

Result<SignedMessage> readSignedData(const uint8_t* der, size_t len) {
  ERR_set_mark();
  std::optional<SignedMessage> split = readSplit(der, len);
  ERR_pop_to_mark();  // what the split path declined, the general one decides
  if (split) return std::move(*split);
  const unsigned char* p = der;
  SignedMessage message;
  message.cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(len)));
  if (!message.cms) return opensslError(ErrorCode::kMalformed, "not a DER CMS ContentInfo");
  if (OBJ_obj2nid(CMS_get0_type(message.cms.get())) != NID_pkcs7_signed) {
    return makeError(ErrorCode::kMalformed, "the CMS ContentInfo is not a SignedData");
  }
  X509Stack certificates(CMS_get1_certs(message.cms.get()));
  for (int i = 0; certificates && i < sk_X509_num(certificates.get()); ++i)
    message.certificates.push_back(Certificate::share(sk_X509_value(certificates.get(), i)));
  return message;
}

}  // namespace enroll::pki
