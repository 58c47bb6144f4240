#pragma once
/** The plain-HTTP adapter: /scep and /scep/<label> to ScepService (RFC 8894 4.1), one log line
 * each. */
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "protocols/scep/scep_service.h"

namespace enroll::transport {

class PlainHttpHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  /** scep may be null (no SCEP on this server): /scep then answers 404. */
  PlainHttpHandlerFactory(const scep::ScepService* scep, size_t max_body_bytes)
      : scep_(scep), max_body_bytes_(max_body_bytes) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  const scep::ScepService* scep_;
  size_t max_body_bytes_;
};

}  // namespace enroll::transport
