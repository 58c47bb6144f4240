#pragma once
/** An injectable clock, so validity dates in tests are reproducible (STYLE.md, Tests). */
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace enroll::pki {

class Clock {
 public:
  virtual ~Clock() = default;
  /** Seconds since the epoch, UTC. */
  virtual std::time_t now() const = 0;
};

/** The real time. */
class SystemClock final : public Clock {
 public:
  std::time_t now() const override { return std::time(nullptr); }
};

/** A clock that says what it is told (tests). */
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::time_t t) : t_(t) {}
  std::time_t now() const override { return t_; }
  void set(std::time_t t) { t_ = t; }
  void advance(std::time_t s) { t_ += s; }

 private:
  std::time_t t_;
};

/** Milliseconds since start with two decimals ("1.25"), for the latency_ms log fields. */
inline std::string millisecondsSince(std::chrono::steady_clock::time_point start) {
  auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", ms);
  return text;
}

}  // namespace enroll::pki
