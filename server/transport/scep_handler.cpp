#include "server/transport/scep_handler.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <chrono>

#include "server/transport/http_util.h"
#include "server/transport/request_log.h"

namespace enroll::transport {

namespace {

class ScepHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ScepHandler(const scep::ScepService& service, size_t max_body)
      : service_(service), max_body_(max_body) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    auto start = std::chrono::steady_clock::now();
    scep::ScepHttpRequest req;
    req.method = request.getMethod();
    req.peer = request.clientAddress().toString();
    scep::ScepHttpResponse resp;
    try {
      Poco::URI uri(request.getURI());
      // RFC 8894 4.1: /scep, or /scep/<label> for a label other than the default.
      const std::string& path = uri.getPath();
      req.label = path.size() > 6 ? path.substr(6) : "";
      if (!req.label.empty() && req.label.back() == '/') req.label.pop_back();
      for (const auto& [k, v] : uri.getQueryParameters()) {
        if (k == "operation")
          req.operation = v;
        else if (k == "message")
          req.message = v;
      }
      if (request.hasContentLength() &&
          request.getContentLength64() > static_cast<Poco::Int64>(max_body_)) {
        resp = {413, "text/plain", {}, "body_too_large"};
        response.setKeepAlive(false);
      } else {
        std::string body = readBodyLimited(request.stream(), max_body_);
        req.body.assign(body.begin(), body.end());
        if (req.body.size() > max_body_)
          resp = {413, "text/plain", {}, "body_too_large"};
        else
          resp = service_.handle(req);
      }
    } catch (const Poco::Exception& e) {
      resp = {400, "text/plain", {}, "bad_request: " + e.displayText()};
    }
    try {
      response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(resp.status));
      if (!resp.content_type.empty()) response.setContentType(resp.content_type);
      if (resp.body.empty() && resp.status >= 400) {
        std::string text = resp.outcome + "\n";
        resp.body.assign(text.begin(), text.end());
      }
      response.setContentLength(static_cast<std::streamsize>(resp.body.size()));
      response.send().write(reinterpret_cast<const char*>(resp.body.data()),
                            static_cast<std::streamsize>(resp.body.size()));
    } catch (const Poco::Exception& e) {
      resp.outcome += " (response not delivered: " + e.displayText() + ")";
    }
    logLine({{"protocol", "scep"},
             {"method", req.method},
             {"label", req.label.empty() ? "default" : req.label},
             {"operation", req.operation},
             {"peer", req.peer},
             {"status", std::to_string(resp.status)},
             {"outcome", resp.outcome},
             {"latency_ms", millisecondsSince(start)}});
  }

 private:
  const scep::ScepService& service_;
  size_t max_body_;
};

}  // namespace

Poco::Net::HTTPRequestHandler* PlainHttpHandlerFactory::createRequestHandler(
    const Poco::Net::HTTPServerRequest& request) {
  const std::string& uri = request.getURI();
  bool scep_path = uri == "/scep" || uri.rfind("/scep?", 0) == 0 || uri.rfind("/scep/", 0) == 0;
  if (scep_ && scep_path) return new ScepHandler(*scep_, max_body_bytes_);
  if (auto* handler = makeRevocationHandler(revocation_, request)) return handler;
  return new NotFoundHandler("http");
}

}  // namespace enroll::transport
