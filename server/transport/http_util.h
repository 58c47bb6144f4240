#pragma once
/** Small pieces the HTTP adapters share: size-limited body reading and request timing. */
#include <Poco/Net/HTTPRequestHandler.h>

#include <chrono>
#include <istream>
#include <string>

#include "pki/clock.h"

namespace enroll::transport {

/**
 * Reads a request body, stopping after limit + 1 bytes: a result longer than limit means the body
 * is too large, detected without reading all of it (chunked bodies have no Content-Length).
 */
std::string readBodyLimited(std::istream& in, size_t limit);

using pki::millisecondsSince;

/** Answers 404 "not found" and logs one line; protocol names the listener ("https", "http"). */
class NotFoundHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit NotFoundHandler(std::string protocol) : protocol_(std::move(protocol)) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  std::string protocol_;
};

}  // namespace enroll::transport
