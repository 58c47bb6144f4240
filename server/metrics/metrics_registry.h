#pragma once
/**
 * Counters, histograms and gauges with labels, written in the Prometheus text format (0.0.4).
 * Thread-safe; cheap enough to update on every request (one mutex per family, no allocation
 * once a label set has been seen). Gauges are read at scrape time from callbacks.
 */
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace enroll::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

/** A counter family: one monotonically increasing value per label set. */
class CounterFamily {
 public:
  void add(const Labels& labels, double value = 1);
  void write(const std::string& name, std::string* out) const;

 private:
  mutable std::mutex mu_;
  std::map<Labels, double> values_;
};

/** A histogram family with fixed upper bounds (seconds, ascending). */
class HistogramFamily {
 public:
  explicit HistogramFamily(std::vector<double> bounds) : bounds_(std::move(bounds)) {}
  void observe(const Labels& labels, double value);
  void write(const std::string& name, std::string* out) const;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // non-cumulative per bound, plus +Inf at the end
    double sum = 0;
    uint64_t count = 0;
  };
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, Series> series_;
};

/** A gauge read at scrape time: each call returns the current value per label set. */
using GaugeReader = std::function<std::vector<std::pair<Labels, double>>()>;

class Registry {
 public:
  /** The family of that name (made on first use). help is written once per family. */
  CounterFamily& counter(const std::string& name, const std::string& help);
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<double> bounds);
  void gauge(const std::string& name, const std::string& help, GaugeReader reader);
  /** A counter kept elsewhere (e.g. by the store), read at scrape time. */
  void counterReader(const std::string& name, const std::string& help, GaugeReader reader);
  /** Everything, in the text exposition format. */
  std::string render() const;

 private:
  struct Entry {
    std::string help;
    std::string type;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<HistogramFamily> histogram;
    GaugeReader gauge;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> families_;
};

/** Latency buckets in seconds, 0.5 ms to 10 s. */
std::vector<double> latencyBuckets();

}  // namespace enroll::metrics
