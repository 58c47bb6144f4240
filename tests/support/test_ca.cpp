#include "tests/support/test_ca.h"

#include <openssl/cms.h>

#include "server/ca/profile.h"
#include "server/ca/serial_generator.h"

namespace enroll::testing {

namespace {
std::time_t defaultNotBefore(std::time_t t) { return t ? t : std::time(nullptr) - 3600; }
std::time_t defaultNotAfter(std::time_t t) {
  return t ? t : std::time(nullptr) + 10 * 365 * 86400L;
}
}  // namespace

KeyedCert makeTestCa(const std::string& cn, const KeyedCert* parent, std::time_t not_before,
                     std::time_t not_after) {
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto name = *ca::parseName("CN=" + cn);
  auto serial = *ca::SerialGenerator().next();
  ca::CertificateBuilder b;
  b.subject(name.get())
      .publicKey(key.native())
      .serial(serial.get())
      .validity(defaultNotBefore(not_before), defaultNotAfter(not_after))
      .basicConstraints(true)
      .keyUsage({"keyCertSign", "cRLSign"});
  auto cert = parent ? *b.sign(parent->key.native(), &parent->cert) : *b.sign(key.native());
  return {cert, key};
}

KeyedCert makeTestLeaf(const std::string& subject, const KeyedCert& issuer, std::time_t not_before,
                       std::time_t not_after, const std::vector<std::string>& key_usage,
                       pki::KeyType key_type) {
  auto key = *pki::PrivateKey::generate(key_type);
  auto name = *ca::parseName(subject);
  auto serial = *ca::SerialGenerator().next();
  ca::CertificateBuilder b;
  b.subject(name.get())
      .publicKey(key.native())
      .serial(serial.get())
      .validity(defaultNotBefore(not_before), defaultNotAfter(not_after))
      .basicConstraints(false)
      .keyUsage(key_usage);
  return {*b.sign(issuer.key.native(), &issuer.cert), key};
}

pki::CertificateRequest makeTestCsr(const std::string& subject, const pki::PrivateKey& key,
                                    const std::string& challenge,
                                    const std::vector<std::string>& dns_sans) {
  X509_REQ* req = X509_REQ_new();
  auto name = *ca::parseName(subject);
  X509_REQ_set_subject_name(req, name.get());
  X509_REQ_set_pubkey(req, key.native());
  if (!challenge.empty()) {
    X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, MBSTRING_UTF8,
                              reinterpret_cast<const unsigned char*>(challenge.c_str()), -1);
  }
  if (!dns_sans.empty()) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    std::string v;
    for (const auto& s : dns_sans) v += (v.empty() ? "DNS:" : ",DNS:") + s;
    sk_X509_EXTENSION_push(exts,
                           X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, v.c_str()));
    X509_REQ_add_extensions(req, exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  X509_REQ_sign(req, key.native(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req, &der);
  auto csr = *pki::CertificateRequest::fromDer(der, static_cast<size_t>(n));
  OPENSSL_free(der);
  X509_REQ_free(req);
  return csr;
}

pki::CertificateRequest makeTestCsrWithKeyId(const std::string& subject, const pki::PrivateKey& key,
                                             const char* oid, const pki::Bytes& id) {
  pki::UniquePtr<X509_REQ> req(X509_REQ_dup(makeTestCsr(subject, key).native()));
  X509_REQ_add1_attr_by_txt(req.get(), oid, V_ASN1_OCTET_STRING, id.data(),
                            static_cast<int>(id.size()));
  X509_REQ_sign(req.get(), key.native(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  auto csr = *pki::CertificateRequest::fromDer(der, static_cast<size_t>(n));
  OPENSSL_free(der);
  return csr;
}

OpenedServerKey openServerGeneratedKey(const pki::Bytes& der, const KeyedCert& device,
                                       const pki::Certificate& trust_root, std::time_t at) {
  OpenedServerKey o;
  const unsigned char* p = der.data();
  pki::UniquePtr<CMS_ContentInfo> env(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!env) return o;
  o.outer_type = OBJ_obj2nid(CMS_get0_type(env.get()));
  o.encrypted_type = OBJ_obj2nid(CMS_get0_eContentType(env.get()));
  pki::UniquePtr<BIO> plain(BIO_new(BIO_s_mem()));
  if (CMS_decrypt(env.get(), device.key.native(), device.cert.native(), nullptr, plain.get(),
                  CMS_BINARY) != 1) {
    return o;
  }
  pki::UniquePtr<CMS_ContentInfo> sd(d2i_CMS_bio(plain.get(), nullptr));
  if (!sd) return o;
  char oid[64] = {0};
  OBJ_obj2txt(oid, sizeof oid, CMS_get0_eContentType(sd.get()), 1);
  o.signed_content_type = oid;
  pki::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), trust_root.native());
  // Test CAs may lack digitalSignature: the chain and the signature are what is checked here.
  X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY);
  if (at != 0) X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), at);
  pki::UniquePtr<BIO> content(BIO_new(BIO_s_mem()));
  o.signature_ok =
      CMS_verify(sd.get(), nullptr, store.get(), nullptr, content.get(), CMS_BINARY) == 1;
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(content.get(), &mem);
  if (mem) o.package.assign(mem->data, mem->data + mem->length);
  // AsymmetricKeyPackage ::= SEQUENCE OF OneAsymmetricKey: exactly one PKCS#8 key expected.
  const unsigned char* q = o.package.data();
  long len = 0;
  int tag = 0;
  int cls = 0;
  if (o.package.empty() ||
      (ASN1_get_object(&q, &len, &tag, &cls, static_cast<long>(o.package.size())) & 0x80) ||
      tag != V_ASN1_SEQUENCE) {
    return o;
  }
  const unsigned char* end = q + len;
  pki::UniquePtr<EVP_PKEY> key(d2i_AutoPrivateKey(nullptr, &q, len));
  if (key && q == end && end == o.package.data() + o.package.size())
    o.key = pki::PrivateKey::adopt(std::move(key));
  return o;
}

}  // namespace enroll::testing
