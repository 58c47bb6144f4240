#include "server/admin/operator_identity.h"

#include <algorithm>
#include <cctype>

#include "provisioning/trust_store.h"
#include "server/ca/certificate_builder.h"
#include "server/ca/profile.h"
#include "server/ca/serial_generator.h"

namespace enroll::admin {

namespace {
constexpr std::time_t kDay = 86400;
}

pki::Result<AdminCa> createAdminCa(const std::string& organization, std::time_t now) {
  ENROLL_TRY(pki::PrivateKey key, pki::PrivateKey::generate(pki::KeyType::kEcP256));
  ENROLL_TRY(auto name, ca::parseName("O=" + organization + ",CN=" + organization + " admin CA"));
  ENROLL_TRY(auto serial, ca::SerialGenerator().next());
  ca::CertificateBuilder b;
  b.subject(name.get())
      .publicKey(key.native())
      .serial(serial.get())
      .validity(now - 300, now + 7300 * kDay)
      .basicConstraints(true, 0)
      .keyUsage({"keyCertSign", "cRLSign", "digitalSignature"});
  ENROLL_TRY(pki::Certificate cert, b.sign(key.native()));
  return AdminCa{std::move(cert), std::move(key)};
}

bool validOperatorName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::ranges::all_of(name, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '@' ||
           c == '-';
  });
}

pki::Result<pki::Certificate> issueOperatorCertificate(const AdminCa& ca, const std::string& name,
                                                       store::Role role, EVP_PKEY* public_key,
                                                       std::time_t now) {
  if (!validOperatorName(name))
    return pki::makeError(pki::ErrorCode::kInvalidArgument,
                          "an operator name is 1 to 64 of A-Z a-z 0-9 _ . @ -");
  ENROLL_TRY(auto subject, ca::parseName("OU=" + store::roleName(role) + ",CN=" + name));
  ENROLL_TRY(auto serial, ca::SerialGenerator().next());
  std::time_t not_after = std::min(now + 730 * kDay, ca.certificate.notAfter());
  ca::CertificateBuilder b;
  b.subject(subject.get())
      .publicKey(public_key)
      .serial(serial.get())
      .validity(now - 300, not_after)
      .basicConstraints(false)
      .keyUsage({"digitalSignature"})
      .extendedKeyUsage({"clientAuth"});
  return b.sign(ca.key.native(), &ca.certificate);
}

pki::Result<Principal> OperatorAuthenticator::authenticate(
    const std::vector<pki::Certificate>& chain, std::time_t now) const {
  if (chain.empty())
    return pki::makeError(pki::ErrorCode::kUnauthenticated,
                          "the admin API needs an operator client certificate");
  auto verified = provisioning::verifyChain(chain, {admin_ca_}, {}, now);
  if (!verified)
    return pki::makeError(pki::ErrorCode::kUnauthenticated,
                          "the client certificate is not a valid operator certificate",
                          verified.error().message);
  std::string fingerprint = chain.front().fingerprintSha256();
  auto op = operators_.findOperatorByCertificate(fingerprint);
  if (!op) {
    if (op.error().code == pki::ErrorCode::kNotFound)
      return pki::makeError(pki::ErrorCode::kPermissionDenied,
                            "this operator certificate is not registered (or was removed)",
                            chain.front().subject());
    return pki::Unexpected(op.error());
  }
  return Principal{op->name, op->role, fingerprint};
}

}  // namespace enroll::admin
