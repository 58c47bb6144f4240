#pragma once
/** One structured line per request (key=value, logfmt), to stderr. Never secrets. */
#include <functional>
#include <string>
#include <vector>

namespace enroll::transport {

struct LogField {
  std::string key;
  std::string value;
};

/** Writes "ts=... key=value ..." as one line; values with spaces or quotes are quoted. */
void logLine(const std::vector<LogField>& fields);

/**
 * Also hands every logged line to observer (metrics count requests from what is logged, so the
 * two never disagree). Set once at start, before any listener runs; nullptr removes it.
 */
void setLogObserver(std::function<void(const std::vector<LogField>&)> observer);

}  // namespace enroll::transport
