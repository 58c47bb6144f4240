#include "test_ca.h"

#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace enroll::scep::test {
namespace {

using pki::UniquePtr;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + pki::drainOpensslErrors());
}

UniquePtr<X509> newCert(EVP_PKEY* subject_key, const std::string& cn, long serial,
                        std::time_t not_before, std::time_t not_after) {
  UniquePtr<X509> x(X509_new());
  check(x && X509_set_version(x.get(), 2) == 1, "X509_new");
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial);
  check(ASN1_TIME_set(X509_getm_notBefore(x.get()), not_before) != nullptr, "notBefore");
  check(ASN1_TIME_set(X509_getm_notAfter(x.get()), not_after) != nullptr, "notAfter");
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  check(X509_set_pubkey(x.get(), subject_key) == 1, "set_pubkey");
  return x;
}

void addExtension(X509* x, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  UniquePtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  check(ext && X509_add_ext(x, ext.get(), -1) == 1, "extension");
}

}  // namespace

pki::PrivateKey rsaKey(int index) {
  static std::mutex mutex;
  static std::map<int, pki::PrivateKey> keys;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = keys.find(index);
  if (it != keys.end()) return it->second;
  // Fixed keys from keys/ when present (fast, reproducible), else fresh ones.
  std::ifstream in(std::string(SCEP_TEST_KEYS_DIR) + "/rsa-" + std::to_string(index) + ".pem");
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = pem.empty() ? pki::PrivateKey::generate(pki::KeyType::kRsa2048)
                         : pki::PrivateKey::fromPem(pem);
  if (!key) throw std::runtime_error("test key " + std::to_string(index) + " unavailable");
  keys.emplace(index, *key);
  return *key;
}

pki::Certificate selfSigned(const pki::PrivateKey& key, const std::string& cn,
                            std::time_t not_before, std::time_t not_after) {
  auto x = newCert(key.native(), cn, 1, not_before, not_after);
  check(X509_set_issuer_name(x.get(), X509_get_subject_name(x.get())) == 1, "issuer");
  check(X509_sign(x.get(), key.native(), EVP_sha256()) > 0, "sign");
  return pki::Certificate::adopt(std::move(x));
}

pki::CertificateRequest makeCsr(const pki::PrivateKey& key, const std::string& cn,
                                const std::string& challenge, const EVP_MD* md) {
  UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  check(X509_REQ_set_pubkey(req.get(), key.native()) == 1, "req pubkey");
  if (!challenge.empty()) {
    check(X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(challenge.c_str()),
                                    -1) == 1,
          "challenge");
  }
  check(X509_REQ_sign(req.get(), key.native(), md) > 0, "req sign");
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  pki::Bytes bytes(der, der + n);
  OPENSSL_free(der);
  auto csr = pki::CertificateRequest::fromDer(bytes);
  if (!csr) throw std::runtime_error("csr");
  return *csr;
}

TestCa::TestCa(const std::string& cn, int key_index)
    : key_(rsaKey(key_index)), cert_(selfSigned(key_, cn)) {
  auto x =
      newCert(key_.native(), cn, 1, std::time(nullptr) - 86400, std::time(nullptr) + 86400L * 3650);
  check(X509_set_issuer_name(x.get(), X509_get_subject_name(x.get())) == 1, "issuer");
  addExtension(x.get(), x.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExtension(x.get(), x.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(x.get(), x.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(x.get(), key_.native(), EVP_sha256()) > 0, "sign CA");
  cert_ = pki::Certificate::adopt(std::move(x));
}

pki::Certificate TestCa::issue(EVP_PKEY* public_key, const std::string& cn, std::time_t not_before,
                               std::time_t not_after) {
  auto x = newCert(public_key, cn, next_serial_++, not_before, not_after);
  check(X509_set_issuer_name(x.get(), X509_get_subject_name(cert_.native())) == 1, "issuer");
  addExtension(x.get(), cert_.native(), NID_basic_constraints, "critical,CA:FALSE");
  check(X509_sign(x.get(), key_.native(), EVP_sha256()) > 0, "sign");
  auto cert = pki::Certificate::adopt(std::move(x));
  issued_.push_back(cert);
  return cert;
}

pki::Bytes TestCa::crlDer(const std::vector<pki::Certificate>& revoked) const {
  UniquePtr<X509_CRL> crl(X509_CRL_new());
  check(crl && X509_CRL_set_version(crl.get(), 1) == 1, "crl");
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(cert_.native()));
  struct TimeFree {
    void operator()(ASN1_TIME* t) const { ASN1_TIME_free(t); }
  };
  std::unique_ptr<ASN1_TIME, TimeFree> now(ASN1_TIME_set(nullptr, std::time(nullptr)));
  std::unique_ptr<ASN1_TIME, TimeFree> next(ASN1_TIME_set(nullptr, std::time(nullptr) + 86400));
  X509_CRL_set1_lastUpdate(crl.get(), now.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (const auto& c : revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(c.native()));
    X509_REVOKED_set_revocationDate(r, now.get());
    X509_CRL_add0_revoked(crl.get(), r);
  }
  check(X509_CRL_sign(crl.get(), key_.native(), EVP_sha256()) > 0, "crl sign");
  unsigned char* der = nullptr;
  int n = i2d_X509_CRL(crl.get(), &der);
  pki::Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

}  // namespace enroll::scep::test
