#pragma once
/** The EST over HTTPS adapter: decodes the POCO request, calls EstService, encodes, logs. */
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "protocols/est/est_service.h"

namespace enroll::transport {

class EstHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  EstHandlerFactory(const est::EstService& service, size_t max_body_bytes)
      : service_(service), max_body_bytes_(max_body_bytes) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  const est::EstService& service_;
  size_t max_body_bytes_;
};

}  // namespace enroll::transport
