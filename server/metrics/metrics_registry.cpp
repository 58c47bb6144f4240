#include "server/metrics/metrics_registry.h"

#include <cmath>
#include <cstdio>

namespace enroll::metrics {

namespace {

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string labelText(const Labels& labels, const std::string& extra_key = {},
                      const std::string& extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + escapeLabel(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += extra_key + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

void CounterFamily::add(const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  values_[labels] += value;
}

void CounterFamily::write(const std::string& name, std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, v] : values_) *out += name + labelText(labels) + " " + number(v) + "\n";
}

void HistogramFamily::observe(const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[labels];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++s.buckets[i];
  s.sum += value;
  ++s.count;
}

void HistogramFamily::write(const std::string& name, std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += s.buckets[i];
      *out += name + "_bucket" + labelText(labels, "le", number(bounds_[i])) + " " +
              std::to_string(cumulative) + "\n";
    }
    *out +=
        name + "_bucket" + labelText(labels, "le", "+Inf") + " " + std::to_string(s.count) + "\n";
    *out += name + "_sum" + labelText(labels) + " " + number(s.sum) + "\n";
    *out += name + "_count" + labelText(labels) + " " + std::to_string(s.count) + "\n";
  }
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = families_[name];
  if (!e.counter) {
    e.help = help;
    e.type = "counter";
    e.counter = std::make_unique<CounterFamily>();
  }
  return *e.counter;
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = families_[name];
  if (!e.histogram) {
    e.help = help;
    e.type = "histogram";
    e.histogram = std::make_unique<HistogramFamily>(std::move(bounds));
  }
  return *e.histogram;
}

void Registry::gauge(const std::string& name, const std::string& help, GaugeReader reader) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = families_[name];
  e.help = help;
  e.type = "gauge";
  e.gauge = std::move(reader);
}

void Registry::counterReader(const std::string& name, const std::string& help, GaugeReader reader) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = families_[name];
  e.help = help;
  e.type = "counter";
  e.gauge = std::move(reader);
}

std::string Registry::render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, e] : families_) {
    out += "# HELP " + name + " " + e.help + "\n";
    out += "# TYPE " + name + " " + e.type + "\n";
    if (e.counter) e.counter->write(name, &out);
    if (e.histogram) e.histogram->write(name, &out);
    if (e.gauge) {
      for (const auto& [labels, v] : e.gauge())
        out += name + labelText(labels) + " " + number(v) + "\n";
    }
  }
  return out;
}

std::vector<double> latencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace enroll::metrics
