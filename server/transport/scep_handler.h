#pragma once
/**
 * The plain-HTTP adapter: /scep and /scep/<label> to ScepService (RFC 8894 4.1); CRLs, CA
 * certificates and OCSP through revocation_handler.h. One log line each.
 */
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "protocols/scep/scep_service.h"
#include "server/transport/revocation_handler.h"

namespace enroll::transport {

class PlainHttpHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  /** scep may be null (no SCEP on this server): /scep then answers 404. */
  PlainHttpHandlerFactory(const scep::ScepService* scep, size_t max_body_bytes,
                          RevocationEndpoints revocation = {})
      : scep_(scep), max_body_bytes_(max_body_bytes), revocation_(revocation) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  const scep::ScepService* scep_;
  size_t max_body_bytes_;
  RevocationEndpoints revocation_;
};

}  // namespace enroll::transport
