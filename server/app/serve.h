#pragma once
/** `enrolld serve DIR`: runs the listeners until SIGTERM/SIGINT; SIGHUP reloads trust and profiles.
 */
#include <map>
#include <string>

namespace enroll::app {

struct ServeOptions {
  std::string dir;
  std::map<std::string, std::string> listen_overrides;  ///< "est" -> "127.0.0.1:0"
};

int runServe(const ServeOptions& options);

}  // namespace enroll::app
