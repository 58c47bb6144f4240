#include "server/metrics/metered_enroller.h"

#include <chrono>

namespace enroll::metrics {

MeteredEnroller::MeteredEnroller(enrollment::Enroller& inner, Registry& registry)
    : inner_(inner),
      enrollments_(registry.counter("enrolld_enrollments_total",
                                    "Enrollment requests by protocol, label, operation and outcome "
                                    "(issued, pending, or the refusal's error code).")),
      latency_(registry.histogram("enrolld_enrollment_duration_seconds",
                                  "Time to decide and answer an enrollment (authorization, "
                                  "signing, commit), by protocol and outcome.",
                                  latencyBuckets())) {}

pki::Result<enrollment::EnrollmentResult> MeteredEnroller::enroll(
    const enrollment::EnrollmentRequest& request) {
  auto start = std::chrono::steady_clock::now();
  auto result = inner_.enroll(request);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string outcome;
  if (result) {
    outcome =
        result->status == enrollment::EnrollmentResult::Status::kIssued ? "issued" : "pending";
  } else {
    outcome = std::string(pki::errorCodeName(result.error().code));
  }
  std::string protocol(enrollment::protocolName(request.protocol));
  enrollments_.add({{"protocol", protocol},
                    {"label", request.label.empty() ? "default" : request.label},
                    {"operation", std::string(enrollment::operationName(request.operation))},
                    {"outcome", outcome}});
  latency_.observe({{"protocol", protocol}, {"outcome", result ? "ok" : "refused"}}, seconds);
  return result;
}

}  // namespace enroll::metrics
