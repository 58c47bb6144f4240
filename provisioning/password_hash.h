#pragma once
/** Password hashing for HTTP Basic credentials: PBKDF2-HMAC-SHA256 with a random salt. */
#include <string>

#include "pki/encoding.h"

namespace enroll::provisioning {

/** "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>". */
pki::Result<std::string> hashPassword(const pki::SecretString& password, int iterations = 20000);
/** Constant-time check of a password against a stored hash; false on a malformed hash. */
bool verifyPassword(const pki::SecretString& password, const std::string& stored);

}  // namespace enroll::provisioning
