#pragma once
/** `enrolld revoke DIR ...`: offline bulk revocation, hold and release over RevocationService. */
#include <string>
#include <vector>

namespace enroll::app {

/** The usage text of `enrolld revoke` (also part of `enrolld --help`). */
extern const char* const kRevokeUsage;

/** Runs `enrolld revoke` with args after "revoke" (DIR first); returns the exit code. */
int runRevokeCommand(const std::vector<std::string>& args);

}  // namespace enroll::app
