#include "protocols/est/est_coaps.h"

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>

#include "pki/pkcs7.h"
#include "protocols/est/est_service.h"

namespace enroll::est {

using enrollment::Operation;
using pki::ErrorCode;
using pki::makeError;

namespace {

constexpr uint16_t ct(CoapContentFormat f) { return static_cast<uint16_t>(f); }

pki::Bytes textBytes(std::string_view s) { return pki::Bytes(s.begin(), s.end()); }

/** A response with a diagnostic payload (RFC 7252 5.5.2: no Content-Format). */
CoapsResponse diagnostic(int code, std::string_view text, std::string outcome) {
  CoapsResponse r;
  r.code = code;
  r.body = textBytes(text);
  r.outcome = std::move(outcome);
  return r;
}

CoapsResponse errorResponse(const pki::Error& e, uint32_t unavailable_max_age) {
  CoapsResponse r = diagnostic(coapCodeFor(e.code), e.message, e.toString());
  // RFC 9148 5: 5.03 with Max-Age tells the device when to try again.
  if (r.code == 503) r.max_age = unavailable_max_age;
  return r;
}

void appendCborHead(pki::Bytes& out, uint8_t major, uint64_t value) {
  const auto m = static_cast<uint8_t>(major << 5);
  if (value < 24) {
    out.push_back(static_cast<uint8_t>(m | value));
    return;
  }
  int bytes = value <= 0xff ? 1 : value <= 0xffff ? 2 : value <= 0xffffffffULL ? 4 : 8;
  out.push_back(static_cast<uint8_t>(m | (bytes == 1   ? 24
                                          : bytes == 2 ? 25
                                          : bytes == 4 ? 26
                                                       : 27)));
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

}  // namespace

std::string_view coapsOperationName(CoapsOperation op) {
  switch (op) {
    case CoapsOperation::kCrts:
      return "crts";
    case CoapsOperation::kSen:
      return "sen";
    case CoapsOperation::kSren:
      return "sren";
    case CoapsOperation::kAtt:
      return "att";
    case CoapsOperation::kSkg:
      return "skg";
  }
  return "unknown";
}

pki::Result<CoapsPath> parseCoapsPath(std::string_view path) {
  std::vector<std::string_view> segs;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!seg.empty()) segs.push_back(seg);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // RFC 9148 4.1: the EST resources live under one root ("/est" here, as in its examples).
  if (segs.size() < 2 || segs.size() > 3 || segs[0] != "est")
    return makeError(ErrorCode::kNotFound, "no such EST-coaps resource");
  static const std::pair<std::string_view, CoapsOperation> kOps[] = {
      {"crts", CoapsOperation::kCrts},
      {"sen", CoapsOperation::kSen},
      {"sren", CoapsOperation::kSren},
      {"att", CoapsOperation::kAtt},
      {"skg", CoapsOperation::kSkg}};
  for (const auto& [name, op] : kOps) {
    if (segs.back() == name) return CoapsPath{segs.size() == 3 ? std::string(segs[1]) : "", op};
  }
  return makeError(ErrorCode::kNotFound,
                   "no such EST-coaps operation: " + std::string(segs.back()));
}

std::string coapCodeString(int code) {
  std::string detail = std::to_string(code % 100);
  if (detail.size() < 2) detail.insert(0, "0");
  return std::to_string(code / 100) + "." + detail;
}

int coapCodeFor(ErrorCode code) {
  // CoAP's response codes carry HTTP's numbers (4.00, 4.01, 4.03, 4.04, 5.00, 5.03) except:
  switch (code) {
    case ErrorCode::kAlreadyExists:
      return 403;  // CoAP (RFC 7252) has no 4.09 Conflict; the request is refused by policy.
    case ErrorCode::kPending:
      return 503;  // held: the device returns after Max-Age (RFC 9148 5); CoAP has no 2.02
    default:
      return pki::httpStatusFor(code);
  }
}

std::string wellKnownCore(const std::vector<std::string>& labels) {
  // RFC 9148 4.1 / 8.2: resource types ace.est.* and the content formats each one serves. skg
  // serves 62 only: the key (280 or 284) and the certificate (281) are parts inside it.
  struct Entry {
    const char* name;
    const char* ct;
  };
  static const Entry kEntries[] = {{"crts", "\"281 287\""},
                                   {"sen", "\"281 287\""},
                                   {"sren", "\"281 287\""},
                                   {"att", "285"},
                                   {"skg", "62"}};
  std::string out = "</est>;rt=\"ace.est\"";
  auto add = [&](const std::string& prefix) {
    for (const auto& e : kEntries) {
      out += ",<" + prefix + e.name + ">;rt=\"ace.est." + e.name + "\";ct=" + e.ct;
    }
  };
  add("/est/");
  for (const auto& label : labels) {
    if (!label.empty()) add("/est/" + label + "/");
  }
  return out;
}

pki::Bytes encodeMultipartCore(const std::vector<std::pair<uint16_t, pki::Bytes>>& parts) {
  // RFC 8710 2: a CBOR array [ct1, bytes1, ct2, bytes2, ...]; ct as unsigned int, parts as bstr.
  pki::Bytes out;
  appendCborHead(out, 4, parts.size() * 2);
  for (const auto& [format, bytes] : parts) {
    appendCborHead(out, 0, format);
    appendCborHead(out, 2, bytes.size());
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

EstCoapsService::EstCoapsService(enrollment::Enroller& enroller, EstCoapsOptions options)
    : enroller_(enroller), options_(options) {}

CoapsResponse EstCoapsService::handle(const CoapsRequest& request) const {
  CoapsResponse r;
  try {
    auto parsed = parseCoapsPath(request.path);
    if (!parsed) {
      r = diagnostic(404, parsed.error().message, "not_found");
      return r;
    }
    const CoapsPath& path = *parsed;
    bool is_get = path.operation == CoapsOperation::kCrts || path.operation == CoapsOperation::kAtt;
    CoapMethod wanted = is_get ? CoapMethod::kGet : CoapMethod::kPost;
    if (request.method != wanted) {
      r = diagnostic(405, is_get ? "use GET" : "use POST", "method_not_allowed");
    } else if (path.operation == CoapsOperation::kCrts) {
      r = crts(path, request);
    } else if (path.operation == CoapsOperation::kAtt) {
      r = att(path, request);
    } else {
      r = enroll(path, request);
    }
    r.label = path.label;
    r.operation = std::string(coapsOperationName(path.operation));
  } catch (const std::exception& e) {
    r = diagnostic(500, "internal error", std::string("internal: ") + e.what());
  }
  return r;
}

CoapsResponse EstCoapsService::crts(const CoapsPath& path, const CoapsRequest& request) const {
  auto info = enroller_.label(path.label);
  if (!info) return errorResponse(info.error(), options_.unavailable_max_age);
  CoapsResponse r;
  r.outcome = "ok";
  if (!request.accept || *request.accept == ct(CoapContentFormat::kPkcs7CertsOnly)) {
    // RFC 7030 4.1.3 via RFC 9148 4.3: the CA certificates, issuing CA up to the root.
    auto der = pki::makeCertsOnly(info->ca_chain);
    if (!der) return errorResponse(der.error(), options_.unavailable_max_age);
    r.content_format = ct(CoapContentFormat::kPkcs7CertsOnly);
    r.body = std::move(der).value();
    return r;
  }
  if (*request.accept == ct(CoapContentFormat::kPkixCert) && !info->ca_chain.empty()) {
    // A single certificate can only carry one CA: the issuing CA, which signs enrollments.
    r.content_format = ct(CoapContentFormat::kPkixCert);
    r.body = info->ca_chain.front().toDer();
    return r;
  }
  return diagnostic(406, "crts serves content formats 281 and 287", "not_acceptable");
}

CoapsResponse EstCoapsService::att(const CoapsPath& path, const CoapsRequest& request) const {
  if (request.accept && *request.accept != ct(CoapContentFormat::kCsrAttrs))
    return diagnostic(406, "att serves content format 285", "not_acceptable");
  auto info = enroller_.label(path.label);
  if (!info) return errorResponse(info.error(), options_.unavailable_max_age);
  CoapsResponse r;
  r.outcome = "ok";
  r.content_format = ct(CoapContentFormat::kCsrAttrs);
  // An empty payload when the label asks for nothing (RFC 7030 4.5.2 answers 204 over HTTP).
  r.body = encodeCsrAttrs(info->csr);
  return r;
}

CoapsResponse EstCoapsService::enroll(const CoapsPath& path, const CoapsRequest& request) const {
  const uint32_t max_age = options_.unavailable_max_age;
  if (request.body.size() > options_.max_body_bytes) {
    CoapsResponse r = diagnostic(413, "request body too large", "body_too_large");
    r.size1 = static_cast<uint32_t>(options_.max_body_bytes);
    return r;
  }
  // RFC 9148 4.4: the CSR is application/pkcs10 (286), as binary DER.
  if (request.content_format != ct(CoapContentFormat::kPkcs10))
    return diagnostic(415, "the CSR must be content format 286 (application/pkcs10)",
                      "unsupported_content_format");
  const bool skg = path.operation == CoapsOperation::kSkg;
  // Accept is checked before issuing, so that no certificate is made that cannot be sent.
  std::optional<uint16_t> cert_format;
  if (skg) {
    if (request.accept && *request.accept != ct(CoapContentFormat::kMultipartCore))
      return diagnostic(406, "skg serves content format 62 (multipart-core)", "not_acceptable");
  } else if (!request.accept || *request.accept == ct(CoapContentFormat::kPkcs7CertsOnly)) {
    cert_format = ct(CoapContentFormat::kPkcs7CertsOnly);
  } else if (*request.accept == ct(CoapContentFormat::kPkixCert)) {
    cert_format = ct(CoapContentFormat::kPkixCert);
  } else {
    return diagnostic(406, "sen and sren serve content formats 281 and 287", "not_acceptable");
  }
  auto info = enroller_.label(path.label);
  if (!info) return errorResponse(info.error(), max_age);
  auto csr = pki::CertificateRequest::fromDer(request.body);
  if (!csr) return errorResponse(csr.error(), max_age);
  enrollment::EnrollmentRequest req{enrollment::Protocol::kEstCoaps,
                                    path.label,
                                    path.operation == CoapsOperation::kSren ? Operation::kReEnroll
                                    : skg ? Operation::kServerKeyGen
                                          : Operation::kEnroll,
                                    std::move(csr).value(),
                                    request.credentials,
                                    std::nullopt,
                                    {}};
  auto result = enroller_.enroll(req);
  if (!result) return errorResponse(result.error(), max_age);

  CoapsResponse r;
  r.device_id = result->device_id;
  if (result->status == enrollment::EnrollmentResult::Status::kPending) {
    // RFC 9148 5: the server is not ready; Max-Age says when the device should ask again.
    r = diagnostic(503, "the request is held for approval; retry after Max-Age", "pending");
    // At least one second: Max-Age 0 would tell the device to ask again at once.
    r.max_age = static_cast<uint32_t>(std::max(result->retry_after_seconds, 1));
    r.device_id = result->device_id;
    return r;
  }
  // RFC 9148 4.5: a successful POST (sen, sren, skg) is answered with 2.04 (Changed), a
  // successful GET (crts, att) with 2.05 (Content); 2.01 (Created) is not used by EST-coaps.
  r.code = 204;
  r.serial = result->certificate->serialHex();
  r.outcome = "issued";
  if (!skg) {
    r.content_format = cert_format;
    if (*cert_format == ct(CoapContentFormat::kPkixCert)) {
      r.body = result->certificate->toDer();
    } else {
      auto p7 = pki::makeCertsOnly({*result->certificate});
      if (!p7) return errorResponse(p7.error(), max_age);
      r.body = std::move(p7).value();
    }
    return r;
  }
  // RFC 9148 4.8: multipart-core holding the private key, then the certificate (281). The key is
  // 280 when the CSR asked for it encrypted (id-aa-asymmDecryptKeyID, RFC 7030 4.4.1.2: the
  // EnvelopedData to the device's certificate around the issuing CA's SignedData, made by the
  // issuance core), else 284, PKCS#8 protected by the DTLS session alone.
  pki::Bytes key_der;
  uint16_t key_format = ct(CoapContentFormat::kPkcs8);
  if (result->encrypted_server_key) {
    key_der = *result->encrypted_server_key;
    key_format = ct(CoapContentFormat::kPkcs7ServerKey);
  } else if (result->server_key) {
    auto key = result->server_key->toPkcs8Der();
    if (!key) return errorResponse(key.error(), max_age);
    key_der = std::move(key).value();
  } else {
    return errorResponse(makeError(ErrorCode::kInternal, "no server-generated key to return"),
                         max_age);
  }
  auto p7 = pki::makeCertsOnly({*result->certificate});
  if (!p7) {
    OPENSSL_cleanse(key_der.data(), key_der.size());
    return errorResponse(p7.error(), max_age);
  }
  r.content_format = ct(CoapContentFormat::kMultipartCore);
  r.body =
      encodeMultipartCore({{key_format, key_der}, {ct(CoapContentFormat::kPkcs7CertsOnly), *p7}});
  OPENSSL_cleanse(key_der.data(), key_der.size());
  return r;
}

}  // namespace enroll::est
