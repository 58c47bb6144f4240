#include "pki/certificate.h"

#include <openssl/pem.h>

#include "pki/direct_decode.h"
#include "pki/private_key.h"

namespace enroll::pki {

std::time_t asn1TimeToEpoch(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

std::string nameToString(const X509_NAME* name) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::optional<std::string> nameEntry(const X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return std::nullopt;
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::vector<SubjectAltName> describeGeneralNames(const GENERAL_NAMES* names) {
  std::vector<SubjectAltName> out;
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    auto ia5 = [](const ASN1_IA5STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    };
    switch (gn->type) {
      case GEN_DNS:
        out.push_back("DNS:" + ia5(gn->d.dNSName));
        break;
      case GEN_URI:
        out.push_back("URI:" + ia5(gn->d.uniformResourceIdentifier));
        break;
      case GEN_EMAIL:
        out.push_back("email:" + ia5(gn->d.rfc822Name));
        break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
        char buf[64] = {0};
        const unsigned char* p = ASN1_STRING_get0_data(ip);
        if (ASN1_STRING_length(ip) == 4) {
          snprintf(buf, sizeof buf, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
          out.push_back(std::string("IP:") + buf);
        } else {
          out.push_back("IP:" + hexEncode(p, static_cast<size_t>(ASN1_STRING_length(ip))));
        }
        break;
      }
      case GEN_OTHERNAME: {
        char oid[80] = {0};
        OBJ_obj2txt(oid, sizeof oid, gn->d.otherName->type_id, 1);
        out.push_back(std::string("otherName:") + oid);
        break;
      }
      case GEN_DIRNAME:
        out.push_back("dirName:" + nameToString(gn->d.directoryName));
        break;
      default:
        out.push_back("other:" + std::to_string(gn->type));
        break;
    }
  }
  return out;
}

Result<Certificate> Certificate::fromDer(const uint8_t* der, size_t len) {
  // Most certificates are read without OpenSSL 3.0's key decoder (direct_decode.h).
  if (UniquePtr<X509> fast = direct::decodeCertificate(der, len))
    return Certificate(std::move(fast));
  const unsigned char* p = der;
  X509* raw = d2i_X509(nullptr, &p, static_cast<long>(len));
  if (!raw) return opensslError(ErrorCode::kMalformed, "not a DER certificate");
  UniquePtr<X509> x(raw);
  if (p != der + len)
    return makeError(ErrorCode::kMalformed, "trailing bytes after the certificate");
  return Certificate(std::move(x));
}

Result<Certificate> Certificate::fromPem(std::string_view pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!raw) return opensslError(ErrorCode::kMalformed, "not a PEM certificate");
  return Certificate(UniquePtr<X509>(raw));
}

Result<std::vector<Certificate>> Certificate::chainFromPem(std::string_view pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Certificate> out;
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.push_back(Certificate(UniquePtr<X509>(raw)));
  }
  drainOpensslErrors();  // the loop ends on a "no start line" error
  if (out.empty()) return makeError(ErrorCode::kMalformed, "no PEM certificate found");
  return out;
}

Bytes Certificate::toDer() const {
  unsigned char* der = nullptr;
  int n = i2d_X509(x_.get(), &der);
  if (n <= 0) return {};
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string Certificate::toPem() const {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x_.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Certificate::serialHex() const {
  UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x_.get()), nullptr));
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex);
  OPENSSL_free(hex);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

std::vector<SubjectAltName> Certificate::subjectAltNames() const {
  UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x_.get(), NID_subject_alt_name, nullptr, nullptr)));
  return describeGeneralNames(names.get());
}

std::string Certificate::fingerprintSha256() const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(x_.get(), EVP_sha256(), md, &n);
  return hexEncode(md, n);
}

/** DER of an X509_PUBKEY as it sits in a certificate or request. Encoding the structure directly
 * avoids OpenSSL 3.0's provider encoder path that i2d_PUBKEY(EVP_PKEY*) takes on every call. */
Bytes spkiDer(const X509_PUBKEY* spki) {
  unsigned char* der = nullptr;
  int n = i2d_X509_PUBKEY(spki, &der);
  if (n <= 0) return {};
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Bytes Certificate::publicKeyDer() const { return spkiDer(X509_get_X509_PUBKEY(x_.get())); }

std::string Certificate::publicKeyFingerprint() const { return hexEncode(sha256(publicKeyDer())); }

bool Certificate::isSignedBy(const Certificate& issuer) const {
  bool ok = X509_verify(x_.get(), issuer.publicKey()) == 1;
  drainOpensslErrors();
  return ok;
}

std::string toPemChain(const std::vector<Certificate>& certs) {
  std::string out;
  for (const auto& c : certs) out += c.toPem();
  return out;
}

}  // namespace enroll::pki
