#include "server/transport/revocation_handler.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Timestamp.h>
#include <Poco/URI.h>

#include <chrono>

#include "server/transport/http_util.h"
#include "server/transport/request_log.h"

namespace enroll::transport {

namespace {

using Poco::Net::HTTPResponse;

/** Largest OCSP request accepted (a request for 64 certificates is about 4 KB). */
constexpr size_t kMaxOcspRequestBytes = size_t{16} * 1024;

void sendBytes(Poco::Net::HTTPServerResponse& response, int status, const std::string& type,
               const pki::Bytes& body, bool head = false) {
  response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  response.setContentType(type);
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  auto& out = response.send();
  if (!head)
    out.write(reinterpret_cast<const char*>(body.data()),
              static_cast<std::streamsize>(body.size()));
}

void sendText(Poco::Net::HTTPServerResponse& response, int status, const std::string& text) {
  pki::Bytes body(text.begin(), text.end());
  body.push_back('\n');
  sendBytes(response, status, "text/plain", body);
}

int statusFor(pki::ErrorCode code) {
  switch (code) {
    case pki::ErrorCode::kNotFound:
      return 404;
    case pki::ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

/** GET/HEAD /crl/<ca>.crl, /crl/<ca>-delta.crl, /ca/<ca>.crt. */
class PublishedHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit PublishedHandler(const ca::CrlPublisher& crls) : crls_(crls) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    auto start = std::chrono::steady_clock::now();
    std::string path = request.getURI().substr(0, request.getURI().find('?'));
    std::string outcome = "ok";
    int status = 200;
    bool head = request.getMethod() == "HEAD";
    try {
      if (request.getMethod() != "GET" && !head) {
        status = 405;
        outcome = "method_not_allowed";
        response.set("Allow", "GET, HEAD");
        sendText(response, status, outcome);
      } else {
        serve(path, head, response, &status, &outcome);
      }
    } catch (const Poco::Exception& e) {
      outcome += " (response not delivered: " + e.displayText() + ")";
    }
    logLine({{"protocol", "http"},
             {"method", request.getMethod()},
             {"path", path.substr(0, 200)},
             {"peer", request.clientAddress().toString()},
             {"status", std::to_string(status)},
             {"outcome", outcome},
             {"latency_ms", millisecondsSince(start)}});
  }

 private:
  void serve(const std::string& path, bool head, Poco::Net::HTTPServerResponse& response,
             int* status, std::string* outcome) {
    for (const auto& [name, authority] : crls_.authorities()) {
      if (path == ca::caCertificatePath(name)) {
        sendBytes(response, 200, "application/pkix-cert", authority->certificate().toDer(), head);
        *outcome = "ca_certificate";
        return;
      }
      bool full = path == ca::fullCrlPath(name);
      if (full || path == ca::deltaCrlPath(name)) {
        auto crl = full ? crls_.fullCrl(name) : crls_.deltaCrl(name);
        if (!crl) {
          *status = statusFor(crl.error().code);
          *outcome = std::string(pki::errorCodeName(crl.error().code));
          sendText(response, *status, crl.error().message);
          return;
        }
        // Caches may keep it until the next regeneration is due at the latest.
        response.set("Cache-Control", "max-age=0, must-revalidate");
        response.set("Last-Modified", Poco::DateTimeFormatter::format(
                                          Poco::Timestamp::fromEpochTime((*crl)->this_update),
                                          Poco::DateTimeFormat::HTTP_FORMAT));
        sendBytes(response, 200, "application/pkix-crl", (*crl)->der, head);
        *outcome = (full ? "crl number=" : "delta_crl number=") + std::to_string((*crl)->number);
        return;
      }
    }
    *status = 404;
    *outcome = "not_found";
    sendText(response, *status, "not found");
  }

  const ca::CrlPublisher& crls_;
};

/** The OCSP responder over HTTP (RFC 6960 A.1). */
class OcspHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit OcspHandler(const ca::OcspResponder& ocsp) : ocsp_(ocsp) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    auto start = std::chrono::steady_clock::now();
    ca::OcspAnswer answer;
    int status = 200;
    const std::string& method = request.getMethod();
    try {
      if (method == "POST") {
        std::string type = request.getContentType();
        type = type.substr(0, type.find(';'));
        if (request.hasContentLength() &&
            request.getContentLength64() > static_cast<Poco::Int64>(kMaxOcspRequestBytes)) {
          status = 413;
          answer = ca::OcspResponder::malformed("body too large");
          response.setKeepAlive(false);
        } else if (type != "application/ocsp-request") {
          status = 415;
          answer = ca::OcspResponder::malformed("content type '" + type +
                                                "' is not application/ocsp-request");
        } else {
          std::string body = readBodyLimited(request.stream(), kMaxOcspRequestBytes);
          if (body.size() > kMaxOcspRequestBytes) {
            status = 413;
            answer = ca::OcspResponder::malformed("body too large");
          } else {
            answer = ocsp_.respond(pki::Bytes(body.begin(), body.end()));
          }
        }
      } else if (method == "GET") {
        // RFC 6960 A.1: GET {url}/{url-encoding of base64 of the DER OCSPRequest}.
        std::string raw = request.getURI().substr(ca::ocspPath().size());
        if (!raw.empty() && raw[0] == '/') raw.erase(0, 1);
        std::string text;
        Poco::URI::decode(raw, text);
        auto der = text.size() > 2 * kMaxOcspRequestBytes
                       ? pki::Result<pki::Bytes>(pki::makeError(pki::ErrorCode::kMalformed, "long"))
                       : pki::base64Decode(text);
        if (!der || der->empty()) {
          status = 400;
          answer = ca::OcspResponder::malformed("the GET path is not base64 of a request");
        } else {
          answer = ocsp_.respond(*der);
        }
      } else {
        status = 405;
        response.set("Allow", "GET, POST");
        answer = ca::OcspResponder::malformed("method " + method);
      }
      sendBytes(response, status, "application/ocsp-response", answer.der);
    } catch (const Poco::Exception& e) {
      answer.outcome += " (response not delivered: " + e.displayText() + ")";
    }
    std::vector<LogField> fields = {{"protocol", "ocsp"},
                                    {"method", method},
                                    {"peer", request.clientAddress().toString()},
                                    {"status", std::to_string(status)},
                                    {"outcome", answer.outcome}};
    if (!answer.serials.empty()) fields.push_back({"serials", answer.serials.substr(0, 300)});
    if (!answer.detail.empty()) fields.push_back({"reason", answer.detail.substr(0, 300)});
    fields.push_back({"latency_ms", millisecondsSince(start)});
    logLine(fields);
  }

 private:
  const ca::OcspResponder& ocsp_;
};

}  // namespace

Poco::Net::HTTPRequestHandler* makeRevocationHandler(const RevocationEndpoints& endpoints,
                                                     const Poco::Net::HTTPServerRequest& request) {
  const std::string& uri = request.getURI();
  const std::string ocsp = ca::ocspPath();
  if (endpoints.ocsp && (uri == ocsp || uri.rfind(ocsp + "/", 0) == 0))
    return new OcspHandler(*endpoints.ocsp);
  if (endpoints.crls && (uri.rfind("/crl/", 0) == 0 || uri.rfind("/ca/", 0) == 0))
    return new PublishedHandler(*endpoints.crls);
  return nullptr;
}

}  // namespace enroll::transport
