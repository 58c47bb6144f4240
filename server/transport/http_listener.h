#pragma once
/** An HTTP or HTTPS listener: a POCO HTTPServer on one address, with our thread and time limits. */
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include <memory>
#include <string>

namespace enroll::transport {

struct ListenerSettings {
  std::string address = "0.0.0.0:8443";  ///< HOST:PORT; port 0 picks a free port
  int max_threads = 64;
  int max_queued = 256;
  int keep_alive_seconds = 5;
  int timeout_seconds = 30;  ///< also bounds the TLS handshake
};

class HttpListener {
 public:
  /** Binds and starts. context null: plain HTTP. Throws Poco::Exception on bind errors (start-up).
   */
  HttpListener(std::string name, const ListenerSettings& settings,
               const Poco::Net::Context::Ptr& context,
               const Poco::Net::HTTPRequestHandlerFactory::Ptr& factory);
  ~HttpListener();
  /** The bound port (useful with port 0). */
  int port() const;
  std::string host() const { return host_; }
  const std::string& name() const { return name_; }
  /** Stops accepting, lets requests in flight finish, closes idle keep-alive connections. */
  void stop();

 private:
  std::string name_;
  std::string host_;
  Poco::ThreadPool pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  bool stopped_ = false;
};

/** Splits "HOST:PORT" ("[::1]:8443" too); throws Poco::InvalidArgumentException. */
void splitHostPort(const std::string& address, std::string* host, int* port);

}  // namespace enroll::transport
