#include "protocols/est/est_service.h"

#include <algorithm>
#include <cctype>

#include "pki/pkcs7.h"

namespace enroll::est {

using enrollment::Operation;
using pki::ErrorCode;
using pki::makeError;

namespace {

constexpr const char* kPrefix = "/.well-known/est";
constexpr const char* kPkcs7 = "application/pkcs7-mime; smime-type=certs-only";
constexpr const char* kServerGeneratedKey =
    "application/pkcs7-mime; smime-type=server-generated-key";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/** "application/pkcs10; charset=x" -> "application/pkcs10". */
std::string mediaType(const std::string& content_type) {
  std::string t = lower(content_type.substr(0, content_type.find(';')));
  t.erase(0, t.find_first_not_of(" \t"));
  t.erase(t.find_last_not_of(" \t") + 1);
  return t;
}

EstResponse errorResponse(const pki::Error& e, const std::string& realm = {}) {
  EstResponse r;
  r.status = httpStatusFor(e.code);
  r.content_type = "text/plain";
  r.body = e.message + "\n";
  r.outcome = e.toString();
  if (r.status == 401 && !realm.empty())
    r.headers["WWW-Authenticate"] = "Basic realm=\"" + realm + "\"";
  if (r.status == 503) r.headers["Retry-After"] = "30";
  return r;
}

/** Base64 body with line breaks and a Content-Transfer-Encoding header (RFC 8951 3). */
void setBase64Body(EstResponse& r, const std::string& content_type, const pki::Bytes& der) {
  r.content_type = content_type;
  r.headers["Content-Transfer-Encoding"] = "base64";
  r.body = pki::base64EncodeLines(der);
}

const char* operationName(EstOperation op) {
  switch (op) {
    case EstOperation::kCaCerts:
      return "cacerts";
    case EstOperation::kSimpleEnroll:
      return "simpleenroll";
    case EstOperation::kSimpleReEnroll:
      return "simplereenroll";
    case EstOperation::kCsrAttrs:
      return "csrattrs";
    case EstOperation::kServerKeyGen:
      return "serverkeygen";
    case EstOperation::kFullCmc:
      return "fullcmc";
  }
  return "unknown";
}

// --- minimal DER writer for CsrAttrs (tag, length, value)
void appendLength(pki::Bytes& out, size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<uint8_t>(len));
    return;
  }
  pki::Bytes digits;
  for (size_t l = len; l > 0; l >>= 8)
    digits.insert(digits.begin(), static_cast<uint8_t>(l & 0xff));
  out.push_back(static_cast<uint8_t>(0x80 | digits.size()));
  out.insert(out.end(), digits.begin(), digits.end());
}

pki::Bytes tlv(uint8_t tag, const pki::Bytes& value) {
  pki::Bytes out{tag};
  appendLength(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

pki::Bytes oid(const char* dotted) {
  pki::UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(dotted, 1));
  unsigned char* der = nullptr;
  int n = i2d_ASN1_OBJECT(obj.get(), &der);
  pki::Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

pki::Bytes concat(std::initializer_list<pki::Bytes> parts) {
  pki::Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

pki::Result<EstPath> parseEstPath(const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  if (p.rfind(kPrefix, 0) != 0) return makeError(ErrorCode::kNotFound, "not an EST path");
  std::string rest = p.substr(std::string(kPrefix).size());
  std::vector<std::string> segs;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t slash = rest.find('/', start);
    std::string seg =
        rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!seg.empty()) segs.push_back(seg);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (segs.empty() || segs.size() > 2)
    return makeError(ErrorCode::kNotFound, "no such EST resource: " + p);
  static const std::map<std::string, EstOperation> kOps = {
      {"cacerts", EstOperation::kCaCerts},
      {"simpleenroll", EstOperation::kSimpleEnroll},
      {"simplereenroll", EstOperation::kSimpleReEnroll},
      {"csrattrs", EstOperation::kCsrAttrs},
      {"serverkeygen", EstOperation::kServerKeyGen},
      {"fullcmc", EstOperation::kFullCmc}};
  auto it = kOps.find(segs.back());
  if (it == kOps.end())
    return makeError(ErrorCode::kNotFound, "no such EST operation: " + segs.back());
  EstPath out{segs.size() == 2 ? segs[0] : "", it->second};
  return out;
}

pki::Bytes encodeCsrAttrs(const enrollment::CsrRequirements& req) {
  pki::Bytes items;
  if (req.challenge_password) {
    // RFC 7030 4.5.2: the challengePassword OID asks for the tls-unique value (3.5).
    auto o = oid("1.2.840.113549.1.9.7");
    items.insert(items.end(), o.begin(), o.end());
  }
  if (!req.key_types.empty()) {
    pki::Bytes attr;
    switch (req.key_types.front()) {
      case pki::KeyType::kEcP256:
        attr = tlv(0x30, concat({oid("1.2.840.10045.2.1"), tlv(0x31, oid("1.2.840.10045.3.1.7"))}));
        items.insert(items.end(), attr.begin(), attr.end());
        attr = oid("1.2.840.10045.4.3.2");  // ecdsa-with-SHA256
        break;
      case pki::KeyType::kEcP384:
        attr = tlv(0x30, concat({oid("1.2.840.10045.2.1"), tlv(0x31, oid("1.3.132.0.34"))}));
        items.insert(items.end(), attr.begin(), attr.end());
        attr = oid("1.2.840.10045.4.3.3");  // ecdsa-with-SHA384
        break;
      case pki::KeyType::kEcP521:
        attr = tlv(0x30, concat({oid("1.2.840.10045.2.1"), tlv(0x31, oid("1.3.132.0.35"))}));
        items.insert(items.end(), attr.begin(), attr.end());
        attr = oid("1.2.840.10045.4.3.4");
        break;
      case pki::KeyType::kRsa2048:
      case pki::KeyType::kRsa3072:
      case pki::KeyType::kRsa4096:
        attr = concat({oid("1.2.840.113549.1.1.1"), oid("1.2.840.113549.1.1.11")});
        break;
      case pki::KeyType::kEd25519:
        attr = oid("1.3.101.112");
        break;
    }
    items.insert(items.end(), attr.begin(), attr.end());
  }
  if (items.empty()) return {};
  return tlv(0x30, items);
}

EstService::EstService(enrollment::Enroller& enroller, EstOptions options)
    : enroller_(enroller), options_(options) {}

EstResponse EstService::handle(const EstRequest& request) const {
  auto parsed = parseEstPath(request.path);
  if (!parsed) return errorResponse(parsed.error());
  const EstPath& path = *parsed;
  bool is_get =
      path.operation == EstOperation::kCaCerts || path.operation == EstOperation::kCsrAttrs;
  EstResponse r;
  if ((is_get && request.method != "GET") || (!is_get && request.method != "POST")) {
    r = errorResponse(makeError(ErrorCode::kInvalidArgument, "method not allowed"));
    r.status = 405;
    r.headers["Allow"] = is_get ? "GET" : "POST";
  } else if (path.operation == EstOperation::kCaCerts) {
    r = cacerts(path);
  } else if (path.operation == EstOperation::kCsrAttrs) {
    r = csrattrs(path);
  } else if (path.operation == EstOperation::kFullCmc) {
    r.status = 501;
    r.content_type = "text/plain";
    r.body = "fullcmc is not implemented by enrolld: use simpleenroll or simplereenroll\n";
    r.outcome = "not_implemented";
  } else {
    r = enroll(path, request);
  }
  r.label = path.label;
  r.operation = operationName(path.operation);
  return r;
}

EstResponse EstService::cacerts(const EstPath& path) const {
  auto info = enroller_.label(path.label);
  if (!info) return errorResponse(info.error());
  // RFC 7030 4.1.3: the current CA certificates, from the issuing CA up to the root.
  auto der = pki::makeCertsOnly(info->ca_chain);
  if (!der) return errorResponse(der.error());
  EstResponse r;
  setBase64Body(r, kPkcs7, *der);
  r.outcome = "ok";
  return r;
}

EstResponse EstService::csrattrs(const EstPath& path) const {
  auto info = enroller_.label(path.label);
  if (!info) return errorResponse(info.error());
  pki::Bytes der = encodeCsrAttrs(info->csr);
  EstResponse r;
  r.outcome = "ok";
  if (der.empty()) {
    r.status = 204;  // RFC 7030 4.5.2: no attributes wanted
    return r;
  }
  setBase64Body(r, "application/csrattrs", der);
  return r;
}

EstResponse EstService::enroll(const EstPath& path, const EstRequest& request) const {
  auto info = enroller_.label(path.label);
  if (!info) return errorResponse(info.error());
  if (request.body.size() > options_.max_body_bytes) {
    EstResponse r = errorResponse(makeError(ErrorCode::kInvalidArgument, "request body too large"));
    r.status = 413;
    return r;
  }
  if (mediaType(request.content_type) != "application/pkcs10") {
    EstResponse r = errorResponse(
        makeError(ErrorCode::kInvalidArgument, "Content-Type must be application/pkcs10"));
    r.status = 415;
    return r;
  }
  // RFC 8951: the body is base64 whether or not Content-Transfer-Encoding says so; "binary"
  // (raw DER) is accepted from clients that send it.
  pki::Bytes der;
  std::string cte = lower(request.content_transfer_encoding);
  if (cte == "binary") {
    der.assign(request.body.begin(), request.body.end());
  } else if (cte.empty() || cte == "base64") {
    auto decoded = pki::base64Decode(request.body);
    if (!decoded) return errorResponse(decoded.error());
    der = std::move(decoded).value();
  } else {
    EstResponse r = errorResponse(
        makeError(ErrorCode::kInvalidArgument, "unsupported Content-Transfer-Encoding: " + cte));
    r.status = 415;
    return r;
  }
  auto csr = pki::CertificateRequest::fromDer(der);
  if (!csr) return errorResponse(csr.error(), info->basic_realm);

  enrollment::EnrollmentRequest req{enrollment::Protocol::kEst,
                                    path.label,
                                    Operation::kEnroll,
                                    std::move(csr).value(),
                                    request.credentials,
                                    std::nullopt,
                                    {}};
  if (path.operation == EstOperation::kSimpleReEnroll) req.operation = Operation::kReEnroll;
  if (path.operation == EstOperation::kServerKeyGen) req.operation = Operation::kServerKeyGen;

  auto result = enroller_.enroll(req);
  if (!result) return errorResponse(result.error(), info->basic_realm);
  EstResponse r;
  r.device_id = result->device_id;
  if (result->status == enrollment::EnrollmentResult::Status::kPending) {
    // RFC 7030 4.2.3: 202 with Retry-After; the client repeats the same request later.
    r.status = 202;
    r.content_type = "text/plain";
    r.headers["Retry-After"] = std::to_string(result->retry_after_seconds);
    r.body = "the request is held for approval; retry later\n";
    r.outcome = "pending";
    return r;
  }
  r.serial = result->certificate->serialHex();
  r.outcome = "issued";
  auto p7 = pki::makeCertsOnly({*result->certificate});
  if (!p7) return errorResponse(p7.error());
  if (req.operation != Operation::kServerKeyGen) {
    setBase64Body(r, kPkcs7, *p7);
    return r;
  }
  // RFC 7030 4.4.2: multipart/mixed, the private key part first, then the certificate part. The
  // key is either the CMS structure the CSR asked for (encrypted to the device's certificate) or
  // PKCS#8 protected by TLS alone.
  pki::Bytes key_der;
  std::string key_type;
  if (result->encrypted_server_key) {
    key_der = *result->encrypted_server_key;
    key_type = kServerGeneratedKey;
  } else if (result->server_key) {
    auto key = result->server_key->toPkcs8Der();
    if (!key) return errorResponse(key.error());
    key_der = std::move(key).value();
    key_type = "application/pkcs8";
  } else {
    return errorResponse(makeError(ErrorCode::kInternal, "no server-generated key to return"));
  }
  auto boundary_bytes = pki::randomBytes(12);
  if (!boundary_bytes) return errorResponse(boundary_bytes.error());
  std::string boundary = "est-" + pki::hexEncode(*boundary_bytes);
  r.content_type = "multipart/mixed; boundary=" + boundary;
  r.body = "--" + boundary + "\r\nContent-Type: " + key_type +
           "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pki::base64EncodeLines(key_der) +
           "--" + boundary + "\r\nContent-Type: " + kPkcs7 +
           "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pki::base64EncodeLines(*p7) + "--" +
           boundary + "--\r\n";
  OPENSSL_cleanse(key_der.data(), key_der.size());
  return r;
}

}  // namespace enroll::est
