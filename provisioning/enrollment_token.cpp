#include "provisioning/enrollment_token.h"

#include <openssl/crypto.h>

namespace enroll::provisioning {

namespace {
constexpr const char* kPrefix = "edt_";
}

pki::Result<pki::SecretString> generateEnrollmentToken() {
  ENROLL_TRY(pki::Bytes random, pki::randomBytes(16));
  pki::SecretString token(kPrefix + pki::hexEncode(random));
  OPENSSL_cleanse(random.data(), random.size());
  return token;
}

bool looksLikeEnrollmentToken(const std::string& text) {
  if (text.size() != 36 || text.rfind(kPrefix, 0) != 0) return false;
  for (size_t i = 4; i < text.size(); ++i) {
    char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string enrollmentTokenHash(const std::string& text) {
  return pki::hexEncode(pki::sha256(text));
}

pki::Result<std::vector<CreatedToken>> createEnrollmentTokens(store::TokenStore& store,
                                                              const TokenBatch& batch,
                                                              std::time_t now) {
  using pki::ErrorCode;
  if (batch.device_ids.empty() && batch.count <= 0)
    return pki::makeError(ErrorCode::kInvalidArgument, "give a count or device ids");
  if (!batch.device_ids.empty() && batch.count > 0)
    return pki::makeError(ErrorCode::kInvalidArgument, "give a count or device ids, not both");
  size_t n = batch.device_ids.empty() ? static_cast<size_t>(batch.count) : batch.device_ids.size();
  if (n > 100000)
    return pki::makeError(ErrorCode::kInvalidArgument, "at most 100000 tokens at a time");
  if (batch.expires_days < 1 || batch.expires_days > 3650)
    return pki::makeError(ErrorCode::kInvalidArgument, "expiry must be 1 to 3650 days");
  std::vector<CreatedToken> out;
  out.reserve(n);
  std::vector<store::TokenRecord> records;
  records.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    ENROLL_TRY(pki::SecretString text, generateEnrollmentToken());
    store::TokenRecord r;
    r.token_hash = enrollmentTokenHash(text.reveal());
    r.label = batch.label;
    r.device_id = batch.device_ids.empty() ? "" : batch.device_ids[i];
    r.batch = batch.batch;
    r.created_at = now;
    r.expires_at = now + static_cast<std::time_t>(batch.expires_days) * 86400;
    records.push_back(r);
    out.push_back({std::move(text), std::move(r)});
  }
  ENROLL_CHECK(store.insertTokens(records));
  return out;
}

std::string tokenState(const store::TokenRecord& t, std::time_t now) {
  if (t.revoked_at != 0) return "revoked";
  if (t.used_at != 0) return "used";
  if (t.expires_at <= now) return "expired";
  return "unused";
}

}  // namespace enroll::provisioning
