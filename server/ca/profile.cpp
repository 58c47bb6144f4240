#include "server/ca/profile.h"

#include <algorithm>

namespace enroll::ca {

using pki::ErrorCode;
using pki::makeError;

const std::vector<std::string>& knownTemplateVariables() {
  static const std::vector<std::string> kNames = {
      "device.id",           "device.serial", "device.model", "device.batch",
      "device.product_line", "label",         "csr.cn"};
  return kNames;
}

std::vector<std::string> templateVariables(const std::string& tmpl) {
  std::vector<std::string> out;
  for (size_t p = tmpl.find('{'); p != std::string::npos; p = tmpl.find('{', p + 1)) {
    size_t e = tmpl.find('}', p);
    if (e == std::string::npos) break;
    out.push_back(tmpl.substr(p + 1, e - p - 1));
  }
  return out;
}

pki::Result<std::string> renderTemplate(const std::string& tmpl, const TemplateValues& values) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t p = tmpl.find('{', i);
    if (p == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    out.append(tmpl, i, p - i);
    size_t e = tmpl.find('}', p);
    if (e == std::string::npos) {
      return makeError(ErrorCode::kInvalidArgument, "unterminated '{' in template '" + tmpl + "'");
    }
    std::string name = tmpl.substr(p + 1, e - p - 1);
    auto it = values.find(name);
    if (it == values.end()) {
      return makeError(ErrorCode::kInvalidArgument,
                       "template variable {" + name + "} has no value");
    }
    if (it->second.empty()) {
      return makeError(ErrorCode::kInvalidArgument, "template variable {" + name + "} is empty");
    }
    out += it->second;
    i = e + 1;
  }
  return out;
}

pki::Result<pki::UniquePtr<X509_NAME>> parseName(const std::string& text) {
  pki::UniquePtr<X509_NAME> name(X509_NAME_new());
  std::string part;
  std::vector<std::string> parts;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      part += text[++i];
    } else if (text[i] == ',') {
      parts.push_back(part);
      part.clear();
    } else {
      part += text[i];
    }
  }
  if (!part.empty()) parts.push_back(part);
  for (const auto& p : parts) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return makeError(ErrorCode::kInvalidArgument, "subject part '" + p + "' is not TYPE=value");
    }
    std::string type = p.substr(0, eq);
    type.erase(0, type.find_first_not_of(' '));
    std::string value = p.substr(eq + 1);
    if (X509_NAME_add_entry_by_txt(name.get(), type.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      return pki::opensslError(ErrorCode::kInvalidArgument,
                               "unknown subject attribute '" + type + "'");
    }
  }
  return name;
}

pki::Result<void> checkKey(const Profile& profile, const EVP_PKEY* key) {
  std::string kind = pki::describeKey(key);
  for (auto t : profile.allowed_keys) {
    if (pki::keyTypeName(t) == kind) return pki::ok();
  }
  if (kind.rfind("rsa-", 0) == 0 && EVP_PKEY_get_bits(key) < 2048) {
    return makeError(ErrorCode::kInvalidArgument,
                     "RSA keys under 2048 bits are refused (" + kind + ")");
  }
  std::string allowed;
  for (auto t : profile.allowed_keys)
    allowed += (allowed.empty() ? "" : ", ") + pki::keyTypeName(t);
  return makeError(ErrorCode::kInvalidArgument, "key " + kind + " is not allowed by profile " +
                                                    profile.name + " (allowed: " + allowed + ")");
}

static bool nameEquals(const X509_NAME* a, const X509_NAME* b) { return X509_NAME_cmp(a, b) == 0; }

pki::Result<IssuedNames> checkRequest(const Profile& profile, const pki::CertificateRequest& csr,
                                      const TemplateValues& values) {
  ENROLL_CHECK(csr.verifySignature());
  int md = csr.signatureDigestNid();
  if (md == NID_md5 || md == NID_md4 || md == NID_md2 ||
      (md == NID_sha1 && !profile.allow_sha1_csr)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "the request is signed with a weak digest (" + csr.signatureAlgorithm() + ")");
  }
  ENROLL_CHECK(checkKey(profile, csr.publicKey()));

  TemplateValues all = values;
  if (auto cn = csr.subjectEntry(NID_commonName)) all["csr.cn"] = *cn;
  ENROLL_TRY(std::string subject_text, renderTemplate(profile.subject, all));
  ENROLL_TRY(auto subject, parseName(subject_text));

  if (profile.subject_policy == SubjectPolicy::kMatch) {
    const X509_NAME* requested = X509_REQ_get_subject_name(csr.native());
    if (X509_NAME_entry_count(requested) > 0 && !nameEquals(requested, subject.get())) {
      return makeError(ErrorCode::kPermissionDenied,
                       "subject " + csr.subject() + " is not allowed by profile " + profile.name +
                           " (expected " + pki::nameToString(subject.get()) + ")");
    }
  }

  IssuedNames out;
  for (const auto& t : profile.subject_alt_names) {
    ENROLL_TRY(std::string san, renderTemplate(t, all));
    out.subject_alt_names.push_back(san);
  }
  for (const auto& requested : csr.subjectAltNames()) {
    bool made = std::find(out.subject_alt_names.begin(), out.subject_alt_names.end(), requested) !=
                out.subject_alt_names.end();
    if (made) continue;
    if (profile.allow_csr_dns_names && requested.rfind("DNS:", 0) == 0) {
      out.subject_alt_names.push_back(requested);
      continue;
    }
    return makeError(ErrorCode::kPermissionDenied,
                     "subjectAltName " + requested + " is not allowed by profile " + profile.name);
  }
  out.subject = std::move(subject);
  return out;
}

}  // namespace enroll::ca
