#pragma once
/**
 * One-time enrollment tokens for devices without a bootstrap certificate: "edt_" and 32 hex
 * digits (128 random bits). Only their SHA-256 is stored, so a database copy reveals none.
 */
#include <string>

#include "pki/encoding.h"

namespace enroll::provisioning {

/** A new random token text. */
pki::Result<pki::SecretString> generateEnrollmentToken();
/** True for text shaped like a token (so a static secret is never looked up as one). */
bool looksLikeEnrollmentToken(const std::string& text);
/** The stored form: SHA-256 of the token text, lower-case hex. */
std::string enrollmentTokenHash(const std::string& text);

}  // namespace enroll::provisioning
