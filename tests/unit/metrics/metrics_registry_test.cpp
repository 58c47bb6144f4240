// The Prometheus text the registry writes: families, labels, escaping, cumulative buckets.
#include "server/metrics/metrics_registry.h"

#include <gtest/gtest.h>

namespace enroll::metrics {
namespace {

TEST(MetricsRegistry, WritesCountersWithHelpTypeAndLabels) {
  Registry r;
  auto& c = r.counter("x_total", "Things.");
  c.add({{"a", "1"}});
  c.add({{"a", "1"}}, 2);
  c.add({{"a", "2"}});
  std::string text = r.render();
  EXPECT_NE(std::string::npos, text.find("# HELP x_total Things.\n# TYPE x_total counter\n"));
  EXPECT_NE(std::string::npos, text.find("x_total{a=\"1\"} 3\n"));
  EXPECT_NE(std::string::npos, text.find("x_total{a=\"2\"} 1\n"));
}

TEST(MetricsRegistry, EscapesLabelValues) {
  Registry r;
  r.counter("y_total", "Y.").add({{"label", "a\"b\\c\nd"}});
  EXPECT_NE(std::string::npos, r.render().find(R"(y_total{label="a\"b\\c\nd"} 1)"));
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeAndEndInInf) {
  Registry r;
  auto& h = r.histogram("t_seconds", "T.", {0.1, 1});
  h.observe({}, 0.05);
  h.observe({}, 0.5);
  h.observe({}, 0.5);
  h.observe({}, 7);
  std::string text = r.render();
  EXPECT_NE(std::string::npos, text.find("t_seconds_bucket{le=\"0.1\"} 1\n"));
  EXPECT_NE(std::string::npos, text.find("t_seconds_bucket{le=\"1\"} 3\n"));
  EXPECT_NE(std::string::npos, text.find("t_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_NE(std::string::npos, text.find("t_seconds_count 4\n"));
  EXPECT_NE(std::string::npos, text.find("t_seconds_sum 8.05\n"));
}

TEST(MetricsRegistry, ReadsGaugesAtScrapeTime) {
  Registry r;
  double v = 1;
  r.gauge("g", "G.", [&v] { return std::vector<std::pair<Labels, double>>{{{}, v}}; });
  EXPECT_NE(std::string::npos, r.render().find("# TYPE g gauge\ng 1\n"));
  v = 2.5;
  EXPECT_NE(std::string::npos, r.render().find("g 2.5\n"));
}

}  // namespace
}  // namespace enroll::metrics
