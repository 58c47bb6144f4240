#pragma once
/** Error values shared by every layer (STYLE.md, Errors). */
#include <string>
#include <string_view>

namespace enroll::pki {

/** The small set of error codes; transports map each to an HTTP status, CoAP code or SCEP failInfo.
 */
enum class ErrorCode {
  kInvalidArgument,   ///< The request is well formed but asks for something not allowed.
  kMalformed,         ///< The bytes could not be decoded.
  kUnauthenticated,   ///< No or wrong credentials.
  kPermissionDenied,  ///< Authenticated, but policy refuses.
  kNotFound,          ///< The named thing does not exist.
  kAlreadyExists,     ///< A unique thing exists already.
  kUnavailable,       ///< A dependency (the store) is unavailable; retry later.
  kPending,           ///< Accepted but waiting (manual approval); retry later.
  kInternal,          ///< A bug or an unexpected library failure.
};

/** Returns a stable lower-case name for a code, used in logs ("permission_denied"). */
std::string_view errorCodeName(ErrorCode code);

/** An error: a code, a message safe to send to a device, and a detail only for the log. */
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  ///< Safe to show to the peer.
  std::string detail;   ///< Log only: may name internal causes (never secrets).

  /** "permission_denied: message (detail)" for log lines. */
  std::string toString() const;
};

/**
 * The HTTP status for an error code, shared by every HTTP surface (EST, the admin API): 400,
 * 401, 403, 404, 409, 503, 202 for kPending (accepted, not done yet), 500.
 */
int httpStatusFor(ErrorCode code);

/** Builds an Error. */
Error makeError(ErrorCode code, std::string message, std::string detail = {});

/**
 * Builds an Error from a failed OpenSSL call: drains the whole OpenSSL error queue of this
 * thread into the detail so that no stale error leaks into the next request.
 */
Error opensslError(ErrorCode code, std::string message);

/** Empties this thread's OpenSSL error queue and returns its text (for logs). */
std::string drainOpensslErrors();

}  // namespace enroll::pki
