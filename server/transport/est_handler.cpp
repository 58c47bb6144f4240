#include "server/transport/est_handler.h"

#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>

#include "server/transport/http_util.h"
#include "server/transport/request_log.h"
#include "server/transport/tls_context.h"

namespace enroll::transport {

namespace {

void send(Poco::Net::HTTPServerResponse& response, const est::EstResponse& r) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
  for (const auto& [k, v] : r.headers) response.set(k, v);
  if (!r.content_type.empty()) response.setContentType(r.content_type);
  response.setContentLength(static_cast<std::streamsize>(r.body.size()));
  std::ostream& out = response.send();
  out.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
}

class EstHandler : public Poco::Net::HTTPRequestHandler {
 public:
  EstHandler(const est::EstService& service, size_t max_body)
      : service_(service), max_body_(max_body) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    auto start = std::chrono::steady_clock::now();
    est::EstRequest req;
    req.method = request.getMethod();
    req.path = request.getURI();
    req.content_type = request.getContentType();
    req.content_transfer_encoding = request.get("Content-Transfer-Encoding", "");
    req.credentials.peer_address = request.clientAddress().toString();

    est::EstResponse r;
    try {
      auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
      HandshakeInfo hs = handshakeOf(impl.socket().impl()->sockfd());
      req.credentials.tls_chain = std::move(hs.peer_chain);
      req.credentials.channel_binding = std::move(hs.channel_binding);
      req.credentials.channel_binding_type = hs.channel_binding_type;
      if (request.hasCredentials()) {
        std::string scheme, info;
        request.getCredentials(scheme, info);
        if (Poco::icompare(scheme, "Basic") == 0) {
          Poco::Net::HTTPBasicCredentials basic(info);
          req.credentials.basic_user = basic.getUsername();
          req.credentials.basic_password = pki::SecretString(basic.getPassword());
        }
      }
      if (request.hasContentLength() &&
          request.getContentLength64() > static_cast<Poco::Int64>(max_body_)) {
        r.status = 413;
        r.content_type = "text/plain";
        r.body = "request body too large (limit " + std::to_string(max_body_) + " bytes)\n";
        r.outcome = "body_too_large";
        response.setKeepAlive(false);  // the unread body would be taken for the next request
      } else {
        req.body = readBodyLimited(request.stream(), max_body_);
        r = service_.handle(req);
      }
    } catch (const Poco::Exception& e) {
      r = est::EstResponse{};
      r.status = 400;
      r.content_type = "text/plain";
      r.body = "bad request\n";
      r.outcome = "bad_request: " + e.displayText();
    }
    try {
      send(response, r);
    } catch (const Poco::Exception& e) {
      r.outcome += " (response not delivered: " + e.displayText() + ")";
    }
    logLine({{"protocol", "est"},
             {"method", req.method},
             {"path", req.path.substr(0, 200)},
             {"label", r.label.empty() ? "default" : r.label},
             {"operation", r.operation},
             {"peer", req.credentials.peer_address},
             {"device", r.device_id},
             {"status", std::to_string(r.status)},
             {"outcome", r.outcome},
             {"serial", r.serial},
             {"latency_ms", millisecondsSince(start)}});
  }

 private:
  const est::EstService& service_;
  size_t max_body_;
};

}  // namespace

Poco::Net::HTTPRequestHandler* EstHandlerFactory::createRequestHandler(
    const Poco::Net::HTTPServerRequest& request) {
  if (request.getURI().rfind("/.well-known/est", 0) == 0)
    return new EstHandler(service_, max_body_bytes_);
  return new NotFoundHandler("https");
}

}  // namespace enroll::transport
