#pragma once
/**
 * EnrollmentService: the issuance core behind every protocol. It implements the Enroller port:
 * label lookup, authorization (provisioning::Authorizer), CSR checks against the label's
 * profile, manual approval, signing, and the commit to the store before anything is returned.
 */
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "pki/clock.h"
#include "protocols/enrollment/enrollment.h"
#include "provisioning/authorizer.h"
#include "server/ca/certificate_authority.h"
#include "server/ca/profile.h"
#include "server/ca/serial_generator.h"
#include "server/store/store.h"

namespace enroll::ca {

/** Everything a label selects. */
struct Label {
  std::string name;  ///< "" is the default label
  std::shared_ptr<CertificateAuthority> ca;
  Profile profile;
  provisioning::EnrollmentPolicy policy;
  bool manual_approval = false;
  int retry_after_seconds = 60;  ///< what a held request is told
  bool server_keygen = true;
  pki::KeyType server_keygen_key = pki::KeyType::kEcP256;
};

/** All labels by name; replaced as a whole on reload. */
using LabelMap = std::map<std::string, Label>;

class EnrollmentService final : public enrollment::Enroller {
 public:
  /** How a server-generated key goes back encrypted (RFC 7030 4.4.2): to whom, with which
   * content cipher. */
  struct KeyEncryption {
    pki::Certificate recipient;
    int cipher_nid = 0;
  };

  EnrollmentService(std::shared_ptr<const LabelMap> labels,
                    const provisioning::Authorizer& authorizer, store::Store& store,
                    const pki::Clock& clock, SerialGenerator serials = SerialGenerator());

  /** Swaps in new labels and profiles (SIGHUP). */
  void setLabels(std::shared_ptr<const LabelMap> labels);

  pki::Result<enrollment::LabelInfo> label(std::string_view name) const override;
  pki::Result<enrollment::EnrollmentResult> enroll(
      const enrollment::EnrollmentRequest& request) override;
  /** The issuing CA behind a label; NotFound for an unknown label. */
  pki::Result<std::shared_ptr<CertificateAuthority>> authorityOf(std::string_view name) const;

 private:
  std::shared_ptr<const LabelMap> labels() const;
  pki::Result<enrollment::EnrollmentResult> hold(const Label& label,
                                                 const enrollment::EnrollmentRequest& request,
                                                 const provisioning::Identity& identity,
                                                 std::string* pending_id);
  pki::Result<enrollment::EnrollmentResult> issue(const Label& label,
                                                  const enrollment::EnrollmentRequest& request,
                                                  const provisioning::Identity& identity,
                                                  const std::string& pending_id,
                                                  const std::optional<KeyEncryption>& encryption);

  mutable std::mutex mu_;
  std::shared_ptr<const LabelMap> labels_;
  const provisioning::Authorizer& authorizer_;
  store::Store& store_;
  const pki::Clock& clock_;
  SerialGenerator serials_;
};

/** Builds LabelInfo (published facts) from a label. */
enrollment::LabelInfo describeLabel(const Label& label);

}  // namespace enroll::ca
