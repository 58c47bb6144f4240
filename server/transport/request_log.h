#pragma once
/** One structured line per request (key=value, logfmt), to stderr. Never secrets. */
#include <string>
#include <vector>

namespace enroll::transport {

struct LogField {
  std::string key;
  std::string value;
};

/** Writes "ts=... key=value ..." as one line; values with spaces or quotes are quoted. */
void logLine(const std::vector<LogField>& fields);

}  // namespace enroll::transport
