#include "server/transport/metrics_handler.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "server/transport/http_util.h"

namespace enroll::transport {

namespace {

class MetricsHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit MetricsHandler(const metrics::Registry& registry) : registry_(registry) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    if (request.getMethod() != "GET") {
      response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED);
      response.set("Allow", "GET");
      response.setContentLength(0);
      response.send();
      return;
    }
    std::string body = registry_.render();
    response.setContentType("text/plain; version=0.0.4; charset=utf-8");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send().write(body.data(), static_cast<std::streamsize>(body.size()));
  }

 private:
  const metrics::Registry& registry_;
};

}  // namespace

Poco::Net::HTTPRequestHandler* MetricsHandlerFactory::createRequestHandler(
    const Poco::Net::HTTPServerRequest& request) {
  const std::string& uri = request.getURI();
  if (uri == "/metrics" || uri.rfind("/metrics?", 0) == 0) return new MetricsHandler(registry_);
  return new NotFoundHandler("metrics");
}

}  // namespace enroll::transport
