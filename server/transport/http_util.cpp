#include "server/transport/http_util.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <cstdio>

#include "server/transport/request_log.h"

namespace enroll::transport {

std::string readBodyLimited(std::istream& in, size_t limit) {
  std::string body;
  char buf[8192];
  while (body.size() <= limit && in) {
    in.read(buf, sizeof buf);
    body.append(buf, static_cast<size_t>(in.gcount()));
  }
  return body;
}

void NotFoundHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                    Poco::Net::HTTPServerResponse& response) {
  static const std::string kBody = "not found\n";
  response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
  response.setContentType("text/plain");
  response.setContentLength(static_cast<std::streamsize>(kBody.size()));
  response.send() << kBody;
  logLine({{"protocol", protocol_},
           {"method", request.getMethod()},
           {"path", request.getURI().substr(0, 200)},
           {"peer", request.clientAddress().toString()},
           {"status", "404"},
           {"outcome", "not_found"}});
}

}  // namespace enroll::transport
