#include "server/ca/revocation_service.h"

#include <algorithm>
#include <array>

namespace enroll::ca {

using pki::ErrorCode;
using pki::makeError;
using store::CertStatus;

namespace {

// RFC 5280 5.3.1: CRLReason; 7 is not used.
constexpr std::array<const char*, 11> kReasonNames = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", "",
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};

/** The statuses a change moves certificates away from. */
std::vector<CertStatus> fromStatuses(CertStatus to) {
  switch (to) {
    case CertStatus::kRevoked:
      return {CertStatus::kGood, CertStatus::kHold};
    case CertStatus::kHold:
      return {CertStatus::kGood};
    case CertStatus::kGood:
      return {CertStatus::kHold};
  }
  return {};
}

}  // namespace

pki::Result<int> parseCrlReason(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit) && text.size() <= 2) {
    int n = std::stoi(text);
    if (n >= 0 && n <= 10 && n != 7) return n;
  }
  for (size_t i = 0; i < kReasonNames.size(); ++i) {
    std::string name = kReasonNames[i];
    if (name.empty()) continue;
    bool same = name.size() == text.size() &&
                std::equal(name.begin(), name.end(), text.begin(), [](char a, char b) {
                  return std::tolower(static_cast<unsigned char>(a)) ==
                         std::tolower(static_cast<unsigned char>(b));
                });
    if (same) return static_cast<int>(i);
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "unknown revocation reason '" + text +
                       "' (RFC 5280: unspecified, keyCompromise, cACompromise, affiliationChanged, "
                       "superseded, cessationOfOperation, privilegeWithdrawn, aACompromise, or "
                       "0-10 but 7)");
}

std::string crlReasonName(int reason) {
  if (reason < 0 || reason >= static_cast<int>(kReasonNames.size()) || reason == 7)
    return "unspecified";
  return kReasonNames[static_cast<size_t>(reason)];
}

pki::Result<std::string> normalizeSerial(const std::string& text) {
  std::string s = text;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s = s.substr(2);
  std::string out;
  for (char c : s) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return makeError(ErrorCode::kInvalidArgument, "'" + text + "' is not a hexadecimal serial");
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.empty() || out.size() > 40)
    return makeError(ErrorCode::kInvalidArgument, "'" + text + "' is not a certificate serial");
  out.erase(0, std::min(out.find_first_not_of('0'), out.size() - 1));
  return out;
}

RevocationService::RevocationService(store::RevocationStore& store, const pki::Clock& clock,
                                     int64_t chunk_size)
    : store_(store), clock_(clock), chunk_size_(std::max<int64_t>(1, chunk_size)) {}

pki::Result<RevocationReport> RevocationService::run(
    const RevocationRequest& r, const std::function<bool(int64_t, int64_t)>& progress) {
  if (r.selector.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "the selector is empty: name serials, devices, registry fields, a label, a "
                     "bootstrap CA, a station or an issue period");
  }
  store::CertificateSelector selector = r.selector;
  for (auto& serial : selector.serials) {
    ENROLL_TRY(serial, normalizeSerial(serial));
  }
  std::sort(selector.serials.begin(), selector.serials.end());
  selector.serials.erase(std::unique(selector.serials.begin(), selector.serials.end()),
                         selector.serials.end());
  std::sort(selector.device_ids.begin(), selector.device_ids.end());
  selector.device_ids.erase(std::unique(selector.device_ids.begin(), selector.device_ids.end()),
                            selector.device_ids.end());
  if (selector.issued_to != 0 && selector.issued_from > selector.issued_to)
    return makeError(ErrorCode::kInvalidArgument, "issued_from is after issued_to");

  store::StatusChange change;
  change.at = clock_.now();
  switch (r.action) {
    case RevocationAction::kRevoke:
      if (r.reason < 0 || r.reason > 10 || r.reason == 7 || r.reason == 6 || r.reason == 8) {
        return makeError(ErrorCode::kInvalidArgument,
                         "revocation reason " + std::to_string(r.reason) +
                             " is not allowed: use 0-5, 9 or 10 (certificateHold is the hold "
                             "action, removeFromCRL is release)");
      }
      change.status = CertStatus::kRevoked;
      change.reason = r.reason;
      break;
    case RevocationAction::kHold:
      change.status = CertStatus::kHold;
      change.reason = 6;  // RFC 5280 5.3.1 certificateHold
      break;
    case RevocationAction::kRelease:
      if (r.block_devices)
        return makeError(ErrorCode::kInvalidArgument, "release cannot block devices");
      change.status = CertStatus::kGood;
      change.reason = 0;
      break;
  }

  RevocationReport report;
  ENROLL_TRY(report.matched, store_.countCertificates(selector));
  ENROLL_TRY(report.sample, store_.listCertificates(selector, 10, ""));
  if (r.dry_run) return report;

  // What needs a change: matched certificates in a status the change moves away from.
  int64_t total = 0;
  for (CertStatus from : fromStatuses(change.status)) {
    if (selector.status && *selector.status != from) continue;
    store::CertificateSelector narrowed = selector;
    narrowed.status = from;
    ENROLL_TRY(int64_t n, store_.countCertificates(narrowed));
    total += n;
  }
  // Devices first, so that none of them enrolls again while its certificates are revoked.
  if (r.block_devices) {
    ENROLL_TRY(report.devices_blocked, store_.blockDevices(selector, change.at));
  }
  if (progress && !progress(0, total)) {
    report.completed = false;
    return report;
  }
  std::string after;
  for (;;) {
    ENROLL_TRY(store::StatusChunk chunk,
               store_.changeCertificateStatus(selector, change, after, chunk_size_));
    if (chunk.cursor.empty()) break;
    report.changed += chunk.changed;
    after = chunk.cursor;
    if (progress && !progress(std::min(report.changed, total), total)) {
      report.completed = false;
      break;
    }
  }
  return report;
}

}  // namespace enroll::ca
