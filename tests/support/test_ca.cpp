#include "tests/support/test_ca.h"

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

}  // namespace enroll::testing
