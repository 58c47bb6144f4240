// EVP_PKEY_get1_RSA/EC_KEY and EVP_PKEY_assign are deprecated in OpenSSL 3.0 but they are the only
// way to the direct SubjectPublicKeyInfo encoder (see CertificateBuilder::publicKey). This file
// only.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "server/ca/certificate_builder.h"

#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <arpa/inet.h>

namespace enroll::ca {

using pki::ErrorCode;
using pki::makeError;

const EVP_MD* signingDigest(const EVP_PKEY* key) {
  std::string kind = pki::describeKey(key);
  if (kind == "ed25519" || kind == "ed448") return nullptr;
  if (kind == "ec-p384") return EVP_sha384();
  if (kind == "ec-p521") return EVP_sha512();
  return EVP_sha256();
}

CertificateBuilder::CertificateBuilder() : x_(X509_new()) { X509_set_version(x_.get(), 2); }

CertificateBuilder& CertificateBuilder::subject(const X509_NAME* name) {
  X509_set_subject_name(x_.get(), name);
  return *this;
}

namespace {

/**
 * The same RSA or EC key as a legacy object, or nullptr for other keys. OpenSSL 3.0's
 * X509_set_pubkey encodes a provider key with an OSSL_ENCODER and decodes the result with an
 * OSSL_DECODER only to throw it away: about 200 us per certificate, a tenth of an enrollment's
 * server CPU. A legacy RSA or EC key takes the direct encoder (the same SubjectPublicKeyInfo:
 * rsaEncryption, NULL, RSAPublicKey; or id-ecPublicKey, the named curve, the point) in a few
 * microseconds, and the certificate keeps it as its in-memory key, so X509_get0_pubkey still
 * works on the new certificate.
 */
pki::UniquePtr<EVP_PKEY> legacyCopy(EVP_PKEY* key) {
  pki::UniquePtr<EVP_PKEY> copy;
  switch (EVP_PKEY_get_base_id(key)) {  // RSA-PSS and Edwards keys keep the slow way
    case EVP_PKEY_RSA: {
      RSA* rsa = EVP_PKEY_get1_RSA(key);
      if (rsa != nullptr) copy.reset(EVP_PKEY_new());
      if (!copy || EVP_PKEY_assign(copy.get(), EVP_PKEY_RSA, rsa) != 1) {
        RSA_free(rsa);
        copy.reset();
      }
      break;
    }
    case EVP_PKEY_EC: {
      EC_KEY* ec = EVP_PKEY_get1_EC_KEY(key);
      // Only named curves: an explicit-parameters key must keep its parameters as they were.
      if (ec != nullptr && EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)) != NID_undef)
        copy.reset(EVP_PKEY_new());
      if (!copy || EVP_PKEY_assign(copy.get(), EVP_PKEY_EC, ec) != 1) {
        EC_KEY_free(ec);
        copy.reset();
      }
      break;
    }
    default:
      return nullptr;
  }
  if (!copy) pki::drainOpensslErrors();
  return copy;
}

}  // namespace

CertificateBuilder& CertificateBuilder::publicKey(EVP_PKEY* key) {
  auto legacy = legacyCopy(key);
  X509_set_pubkey(x_.get(), legacy ? legacy.get() : key);
  return *this;
}

CertificateBuilder& CertificateBuilder::serial(const ASN1_INTEGER* serial) {
  X509_set_serialNumber(x_.get(), const_cast<ASN1_INTEGER*>(serial));
  return *this;
}

CertificateBuilder& CertificateBuilder::validity(std::time_t not_before, std::time_t not_after) {
  ASN1_TIME_set(X509_getm_notBefore(x_.get()), not_before);
  ASN1_TIME_set(X509_getm_notAfter(x_.get()), not_after);
  return *this;
}

CertificateBuilder& CertificateBuilder::basicConstraints(bool ca, int path_len) {
  std::string v = ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (ca && path_len >= 0) v += ",pathlen:" + std::to_string(path_len);
  exts_.emplace_back(NID_basic_constraints, v);
  return *this;
}

static std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

CertificateBuilder& CertificateBuilder::keyUsage(const std::vector<std::string>& usages) {
  if (!usages.empty()) exts_.emplace_back(NID_key_usage, "critical," + join(usages));
  return *this;
}

CertificateBuilder& CertificateBuilder::extendedKeyUsage(const std::vector<std::string>& usages) {
  if (!usages.empty()) exts_.emplace_back(NID_ext_key_usage, join(usages));
  return *this;
}

CertificateBuilder& CertificateBuilder::subjectAltNames(
    const std::vector<pki::SubjectAltName>& names) {
  sans_ = names;
  return *this;
}

CertificateBuilder& CertificateBuilder::crlDistributionPoint(const std::string& url) {
  if (!url.empty()) exts_.emplace_back(NID_crl_distribution_points, "URI:" + url);
  return *this;
}

CertificateBuilder& CertificateBuilder::authorityInfoAccess(const std::string& ocsp_url,
                                                            const std::string& ca_issuers_url) {
  std::vector<std::string> parts;
  if (!ocsp_url.empty()) parts.push_back("OCSP;URI:" + ocsp_url);
  if (!ca_issuers_url.empty()) parts.push_back("caIssuers;URI:" + ca_issuers_url);
  if (!parts.empty()) exts_.emplace_back(NID_info_access, join(parts));
  return *this;
}

CertificateBuilder& CertificateBuilder::ocspNoCheck() {
  exts_.emplace_back(NID_id_pkix_OCSP_noCheck, "yes");  // the value is ignored: NULL content
  return *this;
}

/** Builds a GENERAL_NAMES from "TYPE:value" strings without OpenSSL's comma-separated config
 * syntax. */
static pki::Result<pki::UniquePtr<GENERAL_NAMES>> buildGeneralNames(
    const std::vector<pki::SubjectAltName>& names) {
  pki::UniquePtr<GENERAL_NAMES> out(GENERAL_NAMES_new());
  for (const auto& n : names) {
    size_t colon = n.find(':');
    if (colon == std::string::npos) {
      return makeError(ErrorCode::kInvalidArgument, "subjectAltName '" + n + "' is not TYPE:value");
    }
    std::string type = n.substr(0, colon), value = n.substr(colon + 1);
    pki::UniquePtr<GENERAL_NAME> gn(GENERAL_NAME_new());
    if (type == "DNS" || type == "URI" || type == "email") {
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
      int t = type == "DNS" ? GEN_DNS : type == "URI" ? GEN_URI : GEN_EMAIL;
      GENERAL_NAME_set0_value(gn.get(), t, s);
    } else if (type == "IP") {
      unsigned char buf[16];
      int len = 0;
      if (inet_pton(AF_INET, value.c_str(), buf) == 1)
        len = 4;
      else if (inet_pton(AF_INET6, value.c_str(), buf) == 1)
        len = 16;
      else
        return makeError(ErrorCode::kInvalidArgument, "bad IP address in subjectAltName: " + value);
      ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
      ASN1_OCTET_STRING_set(s, buf, len);
      GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, s);
    } else {
      return makeError(ErrorCode::kInvalidArgument,
                       "unsupported subjectAltName type '" + type + "'");
    }
    sk_GENERAL_NAME_push(out.get(), gn.release());
  }
  return out;
}

pki::Result<pki::Certificate> CertificateBuilder::sign(EVP_PKEY* issuer_key,
                                                       const pki::Certificate* issuer) {
  X509* subject_cert = x_.get();
  X509* issuer_cert = issuer ? issuer->native() : subject_cert;
  X509_set_issuer_name(subject_cert, X509_get_subject_name(issuer_cert));

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert, subject_cert, nullptr, nullptr, 0);
  std::vector<std::pair<int, std::string>> all = exts_;
  all.emplace_back(NID_subject_key_identifier, "hash");
  if (issuer) all.emplace_back(NID_authority_key_identifier, "keyid:always");
  for (const auto& [nid, value] : all) {
    pki::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(subject_cert, ext.get(), -1) != 1) {
      return pki::opensslError(ErrorCode::kInternal, std::string("cannot add extension ") +
                                                         OBJ_nid2sn(nid) + "=" + value);
    }
  }
  if (!sans_.empty()) {
    ENROLL_TRY(auto names, buildGeneralNames(sans_));
    if (X509_add1_ext_i2d(subject_cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) !=
        1) {
      return pki::opensslError(ErrorCode::kInternal, "cannot add subjectAltName");
    }
  }
  if (X509_sign(subject_cert, issuer_key, signingDigest(issuer_key)) <= 0) {
    return pki::opensslError(ErrorCode::kInternal, "signing the certificate failed");
  }
  return pki::Certificate::adopt(std::move(x_));
}

}  // namespace enroll::ca
