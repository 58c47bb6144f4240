#include "server/transport/request_log.h"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace enroll::transport {

static std::string quote(const std::string& v) {
  bool plain = !v.empty();
  for (char c : v)
    plain = plain && c != ' ' && c != '"' && c != '=' && static_cast<unsigned char>(c) >= 0x20;
  if (plain) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    out += c;
  }
  return out + "\"";
}

namespace {
std::function<void(const std::vector<LogField>&)>& observerSlot() {
  static std::function<void(const std::vector<LogField>&)> observer;
  return observer;
}
}  // namespace

void setLogObserver(std::function<void(const std::vector<LogField>&)> observer) {
  observerSlot() = std::move(observer);
}

void logLine(const std::vector<LogField>& fields) {
  if (const auto& observer = observerSlot()) observer(fields);
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line = std::string("ts=") + ts;
  for (const auto& f : fields) line += " " + f.key + "=" + quote(f.value);
  line += "\n";
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace enroll::transport
