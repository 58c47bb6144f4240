#pragma once
/**
 * A decorator around the Enroller port that counts every enrollment by protocol, label,
 * operation and outcome, and times it: metrics wrap the service instead of being sprinkled
 * through the protocols (STYLE.md).
 */
#include "protocols/enrollment/enrollment.h"
#include "server/metrics/metrics_registry.h"

namespace enroll::metrics {

class MeteredEnroller final : public enrollment::Enroller {
 public:
  MeteredEnroller(enrollment::Enroller& inner, Registry& registry);
  pki::Result<enrollment::LabelInfo> label(std::string_view name) const override {
    return inner_.label(name);
  }
  pki::Result<enrollment::EnrollmentResult> enroll(
      const enrollment::EnrollmentRequest& request) override;

 private:
  enrollment::Enroller& inner_;
  CounterFamily& enrollments_;
  HistogramFamily& latency_;
};

}  // namespace enroll::metrics
