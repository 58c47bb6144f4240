#include "server/enrollctl/admin_client.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace enroll::enrollctl {

std::string Reply::errorMessage() const {
  if (json && json->has("error")) {
    auto err = json->getObject("error");
    if (err && err->has("message")) return err->getValue<std::string>("message");
  }
  return "enrolld answered HTTP " + std::to_string(status);
}

AdminClient::AdminClient(const Connection& c) : conn_(c) {
  Poco::URI uri(c.server);
  if (uri.getScheme() != "https")
    throw ConnectionError("--server must be an https:// URL (got " + c.server + ")");
  host_ = uri.getHost();
  port_ = uri.getPort() == 0 ? 9443 : uri.getPort();
  try {
    // The operator certificate authenticates us; enrolld's TLS certificate must chain to the CA
    // given (and name the host we dial).
    context_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, c.key, c.certificate,
                                      c.ca, Poco::Net::Context::VERIFY_RELAXED, 9, false);
  } catch (const Poco::Exception& e) {
    throw ConnectionError("cannot load the operator certificate, key or CA: " + e.displayText());
  }
}

Reply AdminClient::call(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type) {
  Reply reply;
  try {
    Poco::Net::HTTPSClientSession session(host_, port_, context_);
    session.setTimeout(Poco::Timespan(600, 0));  // a large import or revocation takes a while
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!body.empty() || method == "POST") {
      req.setContentType(content_type);
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream& out = session.sendRequest(req);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    Poco::StreamCopier::copyToString(in, reply.body);
    reply.status = static_cast<int>(resp.getStatus());
  } catch (const Poco::Net::SSLException& e) {
    throw ConnectionError("TLS with " + conn_.server + " failed: " + e.displayText());
  } catch (const Poco::Exception& e) {
    throw ConnectionError("cannot reach enrolld at " + conn_.server + ": " + e.displayText());
  }
  if (!reply.body.empty()) {
    try {
      Poco::JSON::Parser parser;
      reply.json = parser.parse(reply.body).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
      reply.json = nullptr;
    }
  }
  return reply;
}

std::string encode(const std::string& s) {
  std::string out;
  Poco::URI::encode(s, "/?#&=+%;", out);
  return out;
}

}  // namespace enroll::enrollctl
