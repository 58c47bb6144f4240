#pragma once
/**
 * A profile: what an operational certificate looks like (lifetime, key usage, subject and SAN
 * templates, allowed keys, URLs) and the checks a CSR must pass before it is signed.
 */
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "pki/certificate_request.h"
#include "pki/private_key.h"

namespace enroll::ca {

/** Values a template may use: {device.id}, {device.serial}, {device.model}, {label}, {csr.cn}... */
using TemplateValues = std::map<std::string, std::string>;

/** Replaces {name} by values[name]; InvalidArgument names any unknown variable. */
pki::Result<std::string> renderTemplate(const std::string& tmpl, const TemplateValues& values);
/** The variable names a template uses (for checks at configuration load). */
std::vector<std::string> templateVariables(const std::string& tmpl);
/** Variables a template may name. */
const std::vector<std::string>& knownTemplateVariables();

/** How the issued subject relates to the CSR's subject. */
enum class SubjectPolicy {
  kTemplate,  ///< The CA builds the subject from the template; the CSR subject is ignored.
  kMatch,     ///< The CSR subject must equal the rendered template, or be empty.
};

struct Profile {
  std::string name = "device";
  int lifetime_days = 365;
  int backdate_seconds = 300;
  std::vector<std::string> key_usage = {"digitalSignature", "keyAgreement"};
  std::vector<std::string> extended_key_usage = {"clientAuth"};
  /** RFC 4514-style, most significant first: "O=Acme,CN={device.id}". */
  std::string subject = "CN={device.id}";
  std::vector<std::string> subject_alt_names = {"URI:urn:dev:serial:{device.id}"};
  SubjectPolicy subject_policy = SubjectPolicy::kTemplate;
  /** When true, DNS SANs requested in the CSR are copied; otherwise any requested SAN must be one
   * the profile makes. */
  bool allow_csr_dns_names = false;
  std::vector<pki::KeyType> allowed_keys = {pki::KeyType::kEcP256,  pki::KeyType::kEcP384,
                                            pki::KeyType::kRsa2048, pki::KeyType::kRsa3072,
                                            pki::KeyType::kRsa4096, pki::KeyType::kEd25519};
  /** Allow SHA-1 signed CSRs (SCEP legacy labels only). */
  bool allow_sha1_csr = false;
  std::string crl_url;
  std::string ocsp_url;
  std::string ca_issuers_url;
};

/** The subject and SANs a certificate gets, after the CSR checks. */
struct IssuedNames {
  pki::UniquePtr<X509_NAME> subject;
  std::vector<pki::SubjectAltName> subject_alt_names;
};

/**
 * Checks a CSR against a profile: signature (proof of possession), signature digest, key type,
 * subject and SANs. Returns the names to issue. Every refusal says why.
 */
pki::Result<IssuedNames> checkRequest(const Profile& profile, const pki::CertificateRequest& csr,
                                      const TemplateValues& values);
/** Checks only that a key is one the profile allows ("rsa-1024 is not allowed by profile x"). */
pki::Result<void> checkKey(const Profile& profile, const EVP_PKEY* key);
/** Parses "CN=x,O=y" into an X509_NAME (values may contain "\,"). */
pki::Result<pki::UniquePtr<X509_NAME>> parseName(const std::string& text);

}  // namespace enroll::ca
