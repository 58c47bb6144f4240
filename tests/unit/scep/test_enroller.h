#pragma once
/**
 * Small but real implementations of the ports ScepService calls: an Enroller that checks a static
 * challenge and signs certificates with the in-test CA, and an in-memory ScepDirectory.
 */
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocols/enrollment/enrollment.h"
#include "protocols/scep/scep_directory.h"
#include "test_ca.h"

namespace enroll::scep::test {

/** Issues with a TestCa. Labels: "" and every name added with addLabel(). */
class TestEnroller : public enrollment::Enroller {
 public:
  TestEnroller(TestCa& ca, std::string challenge) : ca_(ca), challenge_(std::move(challenge)) {
    labels_.insert("");
  }

  void addLabel(const std::string& name) { labels_.insert(name); }
  /** New first enrollments wait for approve() instead of being issued. */
  void holdForApproval(bool hold) { hold_ = hold; }
  /** Approves the held request for this public key (SHA-256 hex of its SPKI). */
  void approve(const std::string& key_sha256) { approved_.insert(key_sha256); }

  pki::Result<enrollment::LabelInfo> label(std::string_view name) const override;
  pki::Result<enrollment::EnrollmentResult> enroll(
      const enrollment::EnrollmentRequest& request) override;

  /** The state of the request made with this key: issued, pending or NotFound. */
  pki::Result<enrollment::EnrollmentResult> stateOf(const std::string& key_sha256);

  /** Requests seen, in order. */
  std::vector<enrollment::EnrollmentRequest> requests;

  /** The transactionID bindings and nonces committed with issued and held requests (replay_guard),
   * under the same lock as the issuance, as the real core commits them in one transaction. */
  std::optional<std::string> boundKey(const std::string& label, const std::string& transaction_id);
  bool nonceSeen(const std::string& transaction_id, const pki::Bytes& nonce);
  /** Records a nonce on its own; false when it was seen before. */
  bool rememberNonce(const std::string& transaction_id, const pki::Bytes& nonce);

 private:
  pki::Result<enrollment::EnrollmentResult> issue(const pki::CertificateRequest& csr);
  /** Checks and records a request's replay_guard; called with mutex_ held. */
  pki::Result<void> commitGuard(const enrollment::EnrollmentRequest& request);

  TestCa& ca_;
  std::string challenge_;
  std::set<std::string> labels_;
  bool hold_ = false;
  std::map<std::string, pki::CertificateRequest> held_;  // by key SHA-256
  std::set<std::string> approved_;
  std::map<std::string, std::string> bindings_;  // "label/transactionID" -> key SHA-256
  std::set<std::pair<std::string, pki::Bytes>> nonces_;
  std::mutex mutex_;
};

/** An in-memory ScepDirectory over a TestCa and a TestEnroller. */
class TestDirectory : public ScepDirectory {
 public:
  TestDirectory(TestCa& ca, TestEnroller& enroller) : ca_(ca), enroller_(enroller) {}

  pki::Result<pki::Certificate> findCertificate(std::string_view issuer,
                                                std::string_view serial_hex) override;
  pki::Result<pki::Bytes> currentCrlDer(std::string_view label) override;
  pki::Result<Transaction> transaction(std::string_view label, std::string_view transaction_id,
                                       const pki::Bytes& sender_nonce) override;
  pki::Result<enrollment::EnrollmentResult> poll(std::string_view label,
                                                 std::string_view transaction_id) override;
  pki::Result<bool> rememberNonce(std::string_view transaction_id,
                                  const pki::Bytes& sender_nonce) override;

 private:
  TestCa& ca_;
  TestEnroller& enroller_;
};

/** SHA-256 hex of the public key of a CSR or certificate, as transactionIDs are bound to. */
std::string keyId(EVP_PKEY* key);

}  // namespace enroll::scep::test
