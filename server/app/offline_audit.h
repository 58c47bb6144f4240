#pragma once
/**
 * Offline commands (`enrolld tokens`, `registry`, `stations`, `operators`, `revoke`, ...) change
 * the data folder directly; each change is audited as an admin call would be, by the local user
 * ("local:<user>"), in the same hash chain.
 */
#include <string>

#include "server/store/store.h"

namespace enroll::app {

/** Appends one entry: action "offline.<action>", outcome "ok" or an error code name. */
void auditOffline(store::AuditLog& log, const std::string& action, const std::string& target,
                  const std::string& outcome, const std::string& detail_json = "{}");

/** The same, with the outcome of a store or service result. */
template <typename R>
void auditOffline(store::AuditLog& log, const std::string& action, const std::string& target,
                  const R& result) {
  auditOffline(log, action, target,
               result ? std::string("ok") : std::string(pki::errorCodeName(result.error().code)));
}

}  // namespace enroll::app
