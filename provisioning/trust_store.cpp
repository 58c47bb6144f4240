#include "provisioning/trust_store.h"

#include <openssl/x509_vfy.h>

#include "pki/encoding.h"

namespace enroll::provisioning {

using pki::ErrorCode;
using pki::makeError;

pki::Result<void> TrustStore::add(TrustAnchorSet set) {
  if (set.anchors.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "trust anchor set '" + set.name + "' has no CA certificate");
  }
  for (const auto& c : set.anchors) {
    if (!c.isCa()) {
      return makeError(ErrorCode::kInvalidArgument, "trust anchor '" + c.subject() + "' in set '" +
                                                        set.name + "' is not a CA certificate");
    }
  }
  std::string name = set.name;
  sets_[name] = std::move(set);
  return pki::ok();
}

std::vector<std::string> TrustStore::names() const {
  std::vector<std::string> out;
  for (const auto& [n, s] : sets_) out.push_back(n);
  return out;
}

static std::string verifyReason(int code) {
  switch (code) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "the certificate has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "the certificate is not yet valid";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "the certificate does not chain to a trusted CA";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "the certificate's signature does not verify";
    default:
      return X509_verify_cert_error_string(code);
  }
}

pki::Result<std::vector<pki::Certificate>> verifyChain(
    const std::vector<pki::Certificate>& presented, const std::vector<pki::Certificate>& anchors,
    const std::vector<pki::Certificate>& intermediates, std::time_t check_time) {
  if (presented.empty()) return makeError(ErrorCode::kUnauthenticated, "no client certificate");
  pki::UniquePtr<X509_STORE> store(X509_STORE_new());
  for (const auto& a : anchors) X509_STORE_add_cert(store.get(), a.native());
  pki::X509Stack untrusted(sk_X509_new_null());
  for (size_t i = 1; i < presented.size(); ++i)
    sk_X509_push(untrusted.get(), X509_dup(presented[i].native()));
  for (const auto& c : intermediates) sk_X509_push(untrusted.get(), X509_dup(c.native()));

  pki::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), presented[0].native(), untrusted.get()) != 1) {
    return pki::opensslError(ErrorCode::kInternal, "cannot set up chain verification");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, check_time);
  int ok = X509_verify_cert(ctx.get());
  if (ok != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    return pki::Error{ErrorCode::kUnauthenticated, verifyReason(err),
                      presented[0].subject() + ": " + X509_verify_cert_error_string(err) + " " +
                          pki::drainOpensslErrors()};
  }
  std::vector<pki::Certificate> path;
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(chain); ++i)
    path.push_back(pki::Certificate::share(sk_X509_value(chain, i)));
  // A leaf that declares key usage must allow signatures: it signs the TLS handshake.
  uint32_t ku = X509_get_key_usage(presented[0].native());
  if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE)) {
    return makeError(ErrorCode::kUnauthenticated,
                     "the certificate's key usage does not allow digitalSignature");
  }
  return path;
}

pki::Result<VerifiedChain> TrustStore::verify(const std::vector<pki::Certificate>& presented,
                                              const std::vector<std::string>& set_names,
                                              std::time_t now) const {
  if (presented.empty()) return makeError(ErrorCode::kUnauthenticated, "no client certificate");
  pki::Error last = makeError(ErrorCode::kUnauthenticated,
                              "no bootstrap trust anchor is configured for this label");
  for (const auto& name : set_names) {
    auto it = sets_.find(name);
    if (it == sets_.end()) continue;
    auto path = verifyChain(presented, it->second.anchors, it->second.intermediates, now);
    if (path) return VerifiedChain{name, presented[0], std::move(path).value()};
    last = std::move(path).error();
    // An unknown issuer means "try the next set"; expiry etc. are final for this chain.
    if (last.message != "the certificate does not chain to a trusted CA") break;
  }
  last.message = "bootstrap certificate refused: " + last.message;
  return last;
}

pki::Result<DeviceIdSource> parseDeviceIdSource(const std::string& s) {
  if (s == "serialNumber" || s == "serial-number") return DeviceIdSource::kSubjectSerialNumber;
  if (s == "cn" || s == "CN" || s == "commonName") return DeviceIdSource::kSubjectCommonName;
  if (s == "hardware-module-name" || s == "hardwareModuleName")
    return DeviceIdSource::kHardwareModuleName;
  return makeError(
      ErrorCode::kInvalidArgument,
      "unknown device id source '" + s + "' (use serialNumber, cn or hardware-module-name)");
}

/** Reads hwSerialNum from a HardwareModuleName otherName
 * (id-on-hardwareModuleName, 1.3.6.1.5.5.7.8.4). */
static std::optional<std::string> hardwareModuleSerial(const pki::Certificate& cert) {
  pki::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.native(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return std::nullopt;
  pki::UniquePtr<ASN1_OBJECT> hmn(OBJ_txt2obj("1.3.6.1.5.5.7.8.4", 1));
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_OTHERNAME || OBJ_cmp(gn->d.otherName->type_id, hmn.get()) != 0) continue;
    ASN1_TYPE* v = gn->d.otherName->value;
    if (!v || v->type != V_ASN1_SEQUENCE) continue;
    // HardwareModuleName ::= SEQUENCE { hwType OBJECT IDENTIFIER, hwSerialNum OCTET STRING }
    const unsigned char* p = v->value.sequence->data;
    long len = v->value.sequence->length;
    const unsigned char* end = p + len;
    long inner = 0;
    int tag = 0, cls = 0;
    if (ASN1_get_object(&p, &inner, &tag, &cls, len) & 0x80 || tag != V_ASN1_SEQUENCE) continue;
    pki::UniquePtr<ASN1_OBJECT> type(d2i_ASN1_OBJECT(nullptr, &p, end - p));
    if (!type) continue;
    pki::UniquePtr<ASN1_OCTET_STRING> serial(d2i_ASN1_OCTET_STRING(nullptr, &p, end - p));
    if (!serial) continue;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial.get())),
                       static_cast<size_t>(ASN1_STRING_length(serial.get())));
  }
  return std::nullopt;
}

pki::Result<std::string> deviceIdOf(const pki::Certificate& cert, DeviceIdSource source) {
  std::optional<std::string> id;
  switch (source) {
    case DeviceIdSource::kSubjectSerialNumber:
      id = cert.subjectEntry(NID_serialNumber);
      if (!id) id = cert.subjectEntry(NID_commonName);
      break;
    case DeviceIdSource::kSubjectCommonName:
      id = cert.subjectEntry(NID_commonName);
      break;
    case DeviceIdSource::kHardwareModuleName:
      id = hardwareModuleSerial(cert);
      break;
  }
  if (!id || id->empty()) {
    return makeError(ErrorCode::kUnauthenticated, "the bootstrap certificate carries no device id");
  }
  for (char c : *id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return makeError(ErrorCode::kUnauthenticated,
                       "the device id in the bootstrap certificate has control characters");
    }
  }
  return *id;
}

}  // namespace enroll::provisioning
