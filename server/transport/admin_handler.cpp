#include "server/transport/admin_handler.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>

#include <chrono>

#include "server/transport/http_util.h"
#include "server/transport/request_log.h"
#include "server/transport/tls_context.h"

namespace enroll::transport {

namespace {

std::string errorJson(const pki::Error& e) {
  std::string msg;
  for (char c : e.message) {
    if (c == '"' || c == '\\') msg += '\\';
    msg += c;
  }
  return std::string("{\"error\":{\"code\":\"") + std::string(pki::errorCodeName(e.code)) +
         "\",\"message\":\"" + msg + "\"}}";
}

class AdminHandler : public Poco::Net::HTTPRequestHandler {
 public:
  AdminHandler(admin::AdminService& service, const admin::OperatorAuthenticator& auth,
               store::AuditLog& audit, const pki::Clock& clock, size_t max_body)
      : service_(service), auth_(auth), audit_(audit), clock_(clock), max_body_(max_body) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    auto start = std::chrono::steady_clock::now();
    admin::AdminResponse r;
    std::string peer = request.clientAddress().toString();
    std::string operator_name;
    try {
      Poco::URI uri(request.getURI());
      admin::AdminRequest req;
      req.method = request.getMethod();
      const std::string& raw = request.getURI();
      req.path = raw.substr(0, raw.find('?'));
      for (const auto& [k, v] : uri.getQueryParameters()) req.query.emplace_back(k, v);
      req.content_type = request.getContentType();
      auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
      HandshakeInfo hs = handshakeOf(impl.socket().impl()->sockfd());
      auto principal = auth_.authenticate(hs.peer_chain, clock_.now());
      if (!principal) {
        r.status = principal.error().code == pki::ErrorCode::kUnauthenticated ? 401 : 403;
        r.body = errorJson(principal.error());
        r.action = "authenticate";
        r.outcome = std::string(pki::errorCodeName(principal.error().code)) + ": " +
                    principal.error().detail;
        auditRefusal(peer, req.path, r);
        response.setKeepAlive(false);
      } else {
        req.principal = std::move(principal).value();
        operator_name = req.principal.name;
        // Declared too large, or found too large while reading (chunked): 413 either way.
        bool too_large = request.hasContentLength() &&
                         request.getContentLength64() > static_cast<Poco::Int64>(max_body_);
        if (!too_large) {
          req.body = readBodyLimited(request.stream(), max_body_);
          too_large = req.body.size() > max_body_;
        }
        if (too_large) {
          r.status = 413;
          r.body = errorJson(pki::makeError(
              pki::ErrorCode::kInvalidArgument,
              "request body too large (limit " + std::to_string(max_body_) + " bytes)"));
          r.outcome = "body_too_large";
          response.setKeepAlive(false);  // the unread body would be taken for the next request
        } else {
          r = service_.handle(req);
        }
      }
    } catch (const Poco::Exception& e) {
      r = admin::AdminResponse{};
      r.status = 400;
      r.body = errorJson(pki::makeError(pki::ErrorCode::kMalformed, "bad request"));
      r.outcome = "bad_request: " + e.displayText();
    }
    try {
      response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
      if (r.status == 401) response.set("WWW-Authenticate", "Certificate");
      if (!r.body.empty()) response.setContentType(r.content_type);
      response.setContentLength(static_cast<std::streamsize>(r.body.size()));
      std::ostream& out = response.send();
      out.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
    } catch (const Poco::Exception& e) {
      r.outcome += " (response not delivered: " + e.displayText() + ")";
    }
    logLine({{"protocol", "admin"},
             {"method", request.getMethod()},
             {"path", request.getURI().substr(0, 200)},
             {"operator", operator_name},
             {"action", r.action},
             {"peer", peer},
             {"status", std::to_string(r.status)},
             {"outcome", r.outcome},
             {"latency_ms", millisecondsSince(start)}});
  }

 private:
  /** A caller without a valid, registered operator certificate is audited too. */
  void auditRefusal(const std::string& peer, const std::string& path,
                    const admin::AdminResponse& r) {
    store::AuditEntry e;
    e.at = clock_.now();
    e.actor = "peer:" + peer;
    e.action = "admin.authenticate";
    e.target = path.substr(0, 200);
    e.outcome = r.status == 401 ? "unauthenticated" : "permission_denied";
    e.detail = "{}";
    (void)audit_.appendAudit(e);
  }

  admin::AdminService& service_;
  const admin::OperatorAuthenticator& auth_;
  store::AuditLog& audit_;
  const pki::Clock& clock_;
  size_t max_body_;
};

}  // namespace

Poco::Net::HTTPRequestHandler* AdminHandlerFactory::createRequestHandler(
    const Poco::Net::HTTPServerRequest& request) {
  if (request.getURI().rfind("/api/", 0) == 0)
    return new AdminHandler(service_, auth_, audit_, clock_, max_body_bytes_);
  return new NotFoundHandler("admin");
}

}  // namespace enroll::transport
