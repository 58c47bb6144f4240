#pragma once
/**
 * The admin API over HTTPS: authenticates the operator's client certificate, decodes the POCO
 * request into an admin::AdminRequest, calls AdminService, encodes, logs one line.
 */
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "pki/clock.h"
#include "server/admin/admin_service.h"

namespace enroll::transport {

class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  AdminHandlerFactory(admin::AdminService& service, const admin::OperatorAuthenticator& auth,
                      store::AuditLog& audit, const pki::Clock& clock, size_t max_body_bytes)
      : service_(service),
        auth_(auth),
        audit_(audit),
        clock_(clock),
        max_body_bytes_(max_body_bytes) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  admin::AdminService& service_;
  const admin::OperatorAuthenticator& auth_;
  store::AuditLog& audit_;
  const pki::Clock& clock_;
  size_t max_body_bytes_;
};

}  // namespace enroll::transport
