#pragma once
/**
 * EST-coaps (RFC 9148): EST over CoAP and DTLS as a function from a decoded CoAP request to a
 * CoAP response. No libcoap types here: the transport (server/transport/coap_listener) passes
 * the method, Uri-Path, Content-Format, Accept, the reassembled body and the DTLS peer chain,
 * and writes the response out (with Block2 when it is large).
 */
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/enrollment/enrollment.h"

namespace enroll::est {

/** CoAP Content-Format numbers EST-coaps uses (RFC 9148 8.1, RFC 7252 12.3, RFC 8710). */
enum class CoapContentFormat : uint16_t {
  kLinkFormat = 40,       ///< application/link-format
  kMultipartCore = 62,    ///< application/multipart-core
  kPkcs7ServerKey = 280,  ///< application/pkcs7-mime; smime-type=server-generated-key
  kPkcs7CertsOnly = 281,  ///< application/pkcs7-mime; smime-type=certs-only
  kPkcs8 = 284,           ///< application/pkcs8
  kCsrAttrs = 285,        ///< application/csrattrs
  kPkcs10 = 286,          ///< application/pkcs10
  kPkixCert = 287,        ///< application/pkix-cert
};

/** The EST-coaps resources (RFC 9148 Table 1). */
enum class CoapsOperation { kCrts, kSen, kSren, kAtt, kSkg };

/** The short name of an operation ("crts", "sen", ...). */
std::string_view coapsOperationName(CoapsOperation op);

/** A parsed EST-coaps path: "/est[/<label>]/<operation>". */
struct CoapsPath {
  std::string label;
  CoapsOperation operation = CoapsOperation::kCrts;
};

/** NotFound for a path that is not an EST-coaps resource. Leading '/' optional. */
pki::Result<CoapsPath> parseCoapsPath(std::string_view path);

/** CoAP method codes (RFC 7252 12.1.1) as far as EST-coaps cares. */
enum class CoapMethod { kGet, kPost, kOther };

/** The parts of a CoAP request EST-coaps needs (Block1 already reassembled). */
struct CoapsRequest {
  CoapMethod method = CoapMethod::kGet;
  std::string path;  ///< Uri-Path joined with '/', e.g. "est/sen" or "/est/lbl/sen"
  std::optional<uint16_t> content_format;
  std::optional<uint16_t> accept;
  pki::Bytes body;
  enrollment::PeerCredentials credentials;
};

/** What to send back, plus what the log line needs. */
struct CoapsResponse {
  /** The response code as class * 100 + detail: 205 is 2.05 Content, 415 is 4.15. */
  int code = 205;
  /** Absent for diagnostic payloads (RFC 7252 5.5.2: they carry no Content-Format). */
  std::optional<uint16_t> content_format;
  /** Max-Age in seconds (5.03: when to come back, RFC 9148 5). */
  std::optional<uint32_t> max_age;
  /** Size1 on 4.13: the largest body we accept (RFC 7959 4). */
  std::optional<uint32_t> size1;
  pki::Bytes body;
  // For the one structured log line per request:
  std::string label;
  std::string operation;
  std::string outcome;  ///< "issued", "pending", "ok", or the refusal reason
  std::string device_id;
  std::string serial;
};

/** "2.05", "4.15" for a code written as class * 100 + detail. */
std::string coapCodeString(int code);

/** Maps an error code to the CoAP response code EST-coaps uses for it. */
int coapCodeFor(pki::ErrorCode code);

/**
 * The CoRE link-format (RFC 6690) answer to GET /.well-known/core: every EST-coaps resource
 * with its resource type (rt="ace.est.*") and content formats (RFC 9148 4.1), for the default
 * label and for each named label.
 */
std::string wellKnownCore(const std::vector<std::string>& labels);

/**
 * application/multipart-core (RFC 8710): a CBOR array of alternating content-format numbers
 * and byte strings.
 */
pki::Bytes encodeMultipartCore(const std::vector<std::pair<uint16_t, pki::Bytes>>& parts);

struct EstCoapsOptions {
  size_t max_body_bytes = size_t{64} * 1024;
  /** Max-Age on 5.03 when the store is unavailable (pending requests use the label's value). */
  uint32_t unavailable_max_age = 30;
};

/** EST-coaps on top of the Enroller port. Thread-safe as the Enroller is. */
class EstCoapsService {
 public:
  explicit EstCoapsService(enrollment::Enroller& enroller, EstCoapsOptions options = {});
  /** Handles one request; never throws. */
  CoapsResponse handle(const CoapsRequest& request) const;
  const EstCoapsOptions& options() const { return options_; }

 private:
  CoapsResponse crts(const CoapsPath& path, const CoapsRequest& request) const;
  CoapsResponse att(const CoapsPath& path, const CoapsRequest& request) const;
  CoapsResponse enroll(const CoapsPath& path, const CoapsRequest& request) const;

  enrollment::Enroller& enroller_;
  EstCoapsOptions options_;
};

}  // namespace enroll::est
