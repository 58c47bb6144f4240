#pragma once
/**
 * One-time enrollment tokens for devices without a bootstrap certificate: "edt_" and 32 hex
 * digits (128 random bits). Only their SHA-256 is stored, so a database copy reveals none.
 */
#include <ctime>
#include <string>
#include <vector>

#include "pki/encoding.h"
#include "server/store/store.h"

namespace enroll::provisioning {

/** A new random token text. */
pki::Result<pki::SecretString> generateEnrollmentToken();
/** True for text shaped like a token (so a static secret is never looked up as one). */
bool looksLikeEnrollmentToken(const std::string& text);
/** The stored form: SHA-256 of the token text, lower-case hex. */
std::string enrollmentTokenHash(const std::string& text);

/** What to make tokens for: count batch tokens, or one per listed device. */
struct TokenBatch {
  std::string label;  ///< "" = the default label
  int count = 0;
  std::vector<std::string> device_ids;
  std::string batch;
  int expires_days = 30;
};

/** A token made now: its text (shown once, never stored) and the stored record. */
struct CreatedToken {
  pki::SecretString text;
  store::TokenRecord record;
};

/**
 * Makes the tokens of a batch and stores their hashes in one transaction. InvalidArgument for a
 * batch that asks for nothing, both a count and devices, more than 100,000 tokens, or an
 * expiry outside 1..3650 days. The caller checks that the label exists.
 */
pki::Result<std::vector<CreatedToken>> createEnrollmentTokens(store::TokenStore& store,
                                                              const TokenBatch& batch,
                                                              std::time_t now);

/** "unused", "used", "revoked" or "expired" at time now. */
std::string tokenState(const store::TokenRecord& t, std::time_t now);

}  // namespace enroll::provisioning
