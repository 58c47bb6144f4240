#pragma once
/** enrollctl's side of the admin API: HTTPS with the operator's client certificate, JSON. */
#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>

#include <map>
#include <string>
#include <vector>

namespace enroll::enrollctl {

/** Where and as whom to connect. */
struct Connection {
  std::string server = "https://127.0.0.1:9443";
  std::string certificate;  ///< the operator certificate (PEM)
  std::string key;          ///< its key (PEM)
  std::string ca;           ///< the CA that signed enrolld's TLS certificate (PEM)
};

/** One answer: the HTTP status and the body (JSON for every route but 204). */
struct Reply {
  int status = 0;
  std::string body;
  Poco::JSON::Object::Ptr json;  ///< null when the body is empty or not a JSON object
  /** The server's error message for a 4xx/5xx, or a generic one. */
  std::string errorMessage() const;
};

/** Thrown when enrolld cannot be reached or the TLS handshake fails. */
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class AdminClient {
 public:
  /** Throws ConnectionError for unreadable certificate or key files. */
  explicit AdminClient(const Connection& c);
  /** One request; path includes the query ("/api/v1/devices?batch=B"). */
  Reply call(const std::string& method, const std::string& path, const std::string& body = {},
             const std::string& content_type = "application/json");

 private:
  Connection conn_;
  std::string host_;
  unsigned short port_ = 0;
  Poco::Net::Context::Ptr context_;
};

/** Percent-encodes one path segment or query value. */
std::string encode(const std::string& s);

}  // namespace enroll::enrollctl
