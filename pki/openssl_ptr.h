#pragma once
/**
 * Owning smart pointers for OpenSSL objects: wrap a pointer the moment OpenSSL returns it.
 * UniquePtr<X509> frees with X509_free, and so on (modelled on BoringSSL's bssl::UniquePtr).
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace enroll::pki {

template <typename T>
struct Deleter;

// NOLINTBEGIN(bugprone-macro-parentheses): type is a type name.
#define ENROLL_DEFINE_DELETER(type, fn)       \
  template <>                                 \
  struct Deleter<type> {                      \
    void operator()(type* p) const { fn(p); } \
  };

ENROLL_DEFINE_DELETER(X509, X509_free)
ENROLL_DEFINE_DELETER(X509_REQ, X509_REQ_free)
ENROLL_DEFINE_DELETER(X509_ALGOR, X509_ALGOR_free)
ENROLL_DEFINE_DELETER(X509_CRL, X509_CRL_free)
ENROLL_DEFINE_DELETER(X509_NAME, X509_NAME_free)
ENROLL_DEFINE_DELETER(X509_EXTENSION, X509_EXTENSION_free)
ENROLL_DEFINE_DELETER(X509_STORE, X509_STORE_free)
ENROLL_DEFINE_DELETER(X509_STORE_CTX, X509_STORE_CTX_free)
ENROLL_DEFINE_DELETER(X509_REVOKED, X509_REVOKED_free)
ENROLL_DEFINE_DELETER(EVP_PKEY, EVP_PKEY_free)
ENROLL_DEFINE_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
ENROLL_DEFINE_DELETER(EVP_MD_CTX, EVP_MD_CTX_free)
ENROLL_DEFINE_DELETER(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
ENROLL_DEFINE_DELETER(BIO, BIO_free_all)
ENROLL_DEFINE_DELETER(BIGNUM, BN_free)
// ASN1_INTEGER, ASN1_TIME and ASN1_OCTET_STRING are all ASN1_STRING in OpenSSL.
ENROLL_DEFINE_DELETER(ASN1_STRING, ASN1_STRING_free)
ENROLL_DEFINE_DELETER(ASN1_OBJECT, ASN1_OBJECT_free)
ENROLL_DEFINE_DELETER(ASN1_TYPE, ASN1_TYPE_free)
ENROLL_DEFINE_DELETER(GENERAL_NAMES, GENERAL_NAMES_free)
ENROLL_DEFINE_DELETER(GENERAL_NAME, GENERAL_NAME_free)
ENROLL_DEFINE_DELETER(PKCS7, PKCS7_free)
ENROLL_DEFINE_DELETER(CMS_ContentInfo, CMS_ContentInfo_free)
ENROLL_DEFINE_DELETER(SSL_CTX, SSL_CTX_free)
ENROLL_DEFINE_DELETER(SSL, SSL_free)
ENROLL_DEFINE_DELETER(OCSP_REQUEST, OCSP_REQUEST_free)
ENROLL_DEFINE_DELETER(OCSP_RESPONSE, OCSP_RESPONSE_free)
ENROLL_DEFINE_DELETER(OCSP_BASICRESP, OCSP_BASICRESP_free)
ENROLL_DEFINE_DELETER(OCSP_CERTID, OCSP_CERTID_free)
ENROLL_DEFINE_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free)
ENROLL_DEFINE_DELETER(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free)

/** STACK_OF(X509) that owns its certificates. */
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509Stack = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

#undef ENROLL_DEFINE_DELETER
// NOLINTEND(bugprone-macro-parentheses)

/** std::unique_ptr with the OpenSSL free function of T. */
template <typename T>
using UniquePtr = std::unique_ptr<T, Deleter<T>>;

/** Takes a new reference: returns an owning pointer to the same object. */
inline UniquePtr<X509> upRef(X509* p) {
  if (p) X509_up_ref(p);
  return UniquePtr<X509>(p);
}
inline UniquePtr<EVP_PKEY> upRef(EVP_PKEY* p) {
  if (p) EVP_PKEY_up_ref(p);
  return UniquePtr<EVP_PKEY>(p);
}
inline UniquePtr<X509_CRL> upRef(X509_CRL* p) {
  if (p) X509_CRL_up_ref(p);
  return UniquePtr<X509_CRL>(p);
}

}  // namespace enroll::pki
