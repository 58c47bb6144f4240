#include "server/transport/http_listener.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

namespace enroll::transport {

void splitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    throw Poco::InvalidArgumentException("listen address must be HOST:PORT", address);
  }
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  char* end = nullptr;
  long p = std::strtol(address.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || p < 0 || p > 65535) throw Poco::InvalidArgumentException("bad port", address);
  *host = h.empty() ? "0.0.0.0" : h;
  *port = static_cast<int>(p);
}

HttpListener::HttpListener(std::string name, const ListenerSettings& settings,
                           const Poco::Net::Context::Ptr& context,
                           const Poco::Net::HTTPRequestHandlerFactory::Ptr& factory)
    : name_(std::move(name)), pool_(2, settings.max_threads, 60) {
  int port = 0;
  splitHostPort(settings.address, &host_, &port);
  Poco::Net::SocketAddress addr(host_, static_cast<Poco::UInt16>(port));
  Poco::Net::ServerSocket socket =
      context ? Poco::Net::SecureServerSocket(context) : Poco::Net::ServerSocket();
  socket.bind(addr, true);
  socket.listen(256);
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(settings.max_threads);
  params->setMaxQueued(settings.max_queued);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(settings.keep_alive_seconds, 0));
  params->setTimeout(Poco::Timespan(settings.timeout_seconds, 0));
  params->setMaxKeepAliveRequests(1000);
  server_ = std::make_unique<Poco::Net::HTTPServer>(factory, pool_, socket, params);
  server_->start();
}

HttpListener::~HttpListener() { stop(); }

int HttpListener::port() const { return server_->port(); }

void HttpListener::stop() {
  if (stopped_) return;
  stopped_ = true;
  server_->stopAll(false);
  pool_.joinAll();
}

}  // namespace enroll::transport
