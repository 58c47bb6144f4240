#pragma once
/**
 * EstService: EST (RFC 7030, updated by RFC 8951) as a function from a decoded HTTP request to
 * an HTTP response. It never sees sockets, POCO or SSL*: the transport passes the peer's
 * credentials and channel binding in, and writes the response out.
 */
#include <map>
#include <string>

#include "protocols/enrollment/enrollment.h"

namespace enroll::est {

/** The parts of an HTTP request EST needs. */
struct EstRequest {
  std::string method;  ///< "GET" or "POST"
  std::string path;    ///< e.g. "/.well-known/est/mylabel/simpleenroll"
  std::string content_type;
  std::string content_transfer_encoding;
  std::string body;
  enrollment::PeerCredentials credentials;
};

/** What to send back, plus what the log line needs. */
struct EstResponse {
  int status = 200;
  std::string content_type;
  std::map<std::string, std::string> headers;
  std::string body;
  // For the one structured log line per request:
  std::string label;
  std::string operation;
  std::string outcome;  ///< "issued", "pending", "ok", or the refusal reason
  std::string device_id;
  std::string serial;
};

/** The EST operations (RFC 7030 3.2.2). */
enum class EstOperation {
  kCaCerts,
  kSimpleEnroll,
  kSimpleReEnroll,
  kCsrAttrs,
  kServerKeyGen,
  kFullCmc
};

/** A parsed EST path: "/.well-known/est[/<label>]/<operation>". */
struct EstPath {
  std::string label;
  EstOperation operation;
};
/** NotFound for a path that is not an EST operation. */
pki::Result<EstPath> parseEstPath(const std::string& path);

/** DER CsrAttrs (RFC 7030 4.5.2) for what a label wants; empty when it wants nothing. */
pki::Bytes encodeCsrAttrs(const enrollment::CsrRequirements& req);

struct EstOptions {
  size_t max_body_bytes = size_t{64} * 1024;
};

class EstService {
 public:
  EstService(enrollment::Enroller& enroller, EstOptions options = {});
  /** Handles one request; never throws. */
  EstResponse handle(const EstRequest& request) const;

 private:
  EstResponse cacerts(const EstPath& path) const;
  EstResponse csrattrs(const EstPath& path) const;
  EstResponse enroll(const EstPath& path, const EstRequest& request) const;

  enrollment::Enroller& enroller_;
  EstOptions options_;
};

/** EST answers errors with the HTTP status every HTTP surface of enrolld uses (pki/error.h). */
using pki::httpStatusFor;

}  // namespace enroll::est
