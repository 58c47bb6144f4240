#pragma once
/**
 * A real, in-test CA made with OpenSSL: keys, certificates, CSRs and a CRL for the SCEP tests.
 * Written against OpenSSL directly, not through enroll::scep, so the tests do not borrow the
 * code under test.
 */
#include <ctime>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/certificate_request.h"
#include "pki/private_key.h"

namespace enroll::scep::test {

/** RSA-2048 test key number index (0-4 from keys/, others generated), the same all process long. */
pki::PrivateKey rsaKey(int index);

/** A self-signed certificate for key, as SCEP clients make for their first request. */
pki::Certificate selfSigned(const pki::PrivateKey& key, const std::string& cn,
                            std::time_t not_before = std::time(nullptr) - 3600,
                            std::time_t not_after = std::time(nullptr) + 86400);

/** A PKCS#10 request for key with CN=cn and, unless empty, a challengePassword. */
pki::CertificateRequest makeCsr(const pki::PrivateKey& key, const std::string& cn,
                                const std::string& challenge, const EVP_MD* md = EVP_sha256());

/** A CA: self-signed root that issues end-entity and RA certificates. */
class TestCa {
 public:
  explicit TestCa(const std::string& cn, int key_index = 0);
  /** A CA from an existing certificate and key (the scepclient vectors). */
  TestCa(pki::Certificate cert, pki::PrivateKey key)
      : key_(std::move(key)), cert_(std::move(cert)) {}

  const pki::Certificate& certificate() const { return cert_; }
  const pki::PrivateKey& key() const { return key_; }

  /** Issues a certificate for public_key with the given subject CN and validity. */
  pki::Certificate issue(EVP_PKEY* public_key, const std::string& cn,
                         std::time_t not_before = std::time(nullptr) - 60,
                         std::time_t not_after = std::time(nullptr) + 86400L * 30);
  /** A CRL of this CA listing revoked serials. */
  pki::Bytes crlDer(const std::vector<pki::Certificate>& revoked = {}) const;
  /** Every certificate issued so far. */
  const std::vector<pki::Certificate>& issued() const { return issued_; }

 private:
  pki::PrivateKey key_;
  pki::Certificate cert_;
  long next_serial_ = 0x1000;
  std::vector<pki::Certificate> issued_;
};

}  // namespace enroll::scep::test
