#include "server/transport/http_util.h"

#include <cstdio>

namespace enroll::transport {

std::string readBodyLimited(std::istream& in, size_t limit) {
  std::string body;
  char buf[8192];
  while (body.size() <= limit && in) {
    in.read(buf, sizeof buf);
    body.append(buf, static_cast<size_t>(in.gcount()));
  }
  return body;
}

std::string millisecondsSince(std::chrono::steady_clock::time_point start) {
  auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  char text[32];
  snprintf(text, sizeof text, "%.2f", ms);
  return text;
}

}  // namespace enroll::transport
