#include "server/app/offline_audit.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>

namespace enroll::app {

void auditOffline(store::AuditLog& log, const std::string& action, const std::string& target,
                  const std::string& outcome, const std::string& detail_json) {
  const char* user = std::getenv("SUDO_USER");
  if (!user) user = std::getenv("USER");
  store::AuditEntry e;
  e.at = std::time(nullptr);
  e.actor = std::string("local:") + (user ? user : "uid" + std::to_string(getuid()));
  e.action = "offline." + action;
  e.target = target;
  e.outcome = outcome;
  e.detail = detail_json;
  // A failed audit write fails nothing else: the change it records is committed already.
  (void)log.appendAudit(e);
}

}  // namespace enroll::app
