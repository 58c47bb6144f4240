#pragma once
/** GET /metrics in the Prometheus text format, on its own plain HTTP listener. */
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "server/metrics/metrics_registry.h"

namespace enroll::transport {

class MetricsHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit MetricsHandlerFactory(const metrics::Registry& registry) : registry_(registry) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  const metrics::Registry& registry_;
};

}  // namespace enroll::transport
