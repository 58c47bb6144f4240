#include "pki/pkcs7.h"

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

}  // namespace enroll::pki
