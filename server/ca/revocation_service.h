#pragma once
/**
 * RevocationService: revoke, hold or release every certificate a selector matches, as one job in
 * committed chunks (safe to interrupt, idempotent to repeat), optionally blocking the devices.
 * The CLI (`enrolld revoke`) and the admin API both call it.
 */
#include <cstdint>
#include <functional>
#include <vector>

#include "pki/clock.h"
#include "pki/result.h"
#include "server/store/store.h"

namespace enroll::ca {

enum class RevocationAction { kRevoke, kHold, kRelease };

struct RevocationRequest {
  store::CertificateSelector selector;
  RevocationAction action = RevocationAction::kRevoke;
  int reason = 0;  ///< RFC 5280 CRLReason for kRevoke: 0-5, 9 or 10 (hold is its own action)
  bool block_devices = false;  ///< also set the matched devices to blocked (not with kRelease)
  bool dry_run = false;        ///< count and sample only; change nothing
};

struct RevocationReport {
  int64_t matched = 0;          ///< certificates the selector matches, whatever their status
  int64_t changed = 0;          ///< certificates whose status this run changed
  int64_t devices_blocked = 0;  ///< devices this run set to blocked
  std::vector<store::CertificateRecord> sample;  ///< up to 10 matched certificates
  bool completed = true;  ///< false when progress asked to stop (run again to finish)
};

/** RFC 5280 5.3.1 CRLReason names ("keyCompromise", ...) to codes; InvalidArgument otherwise. */
pki::Result<int> parseCrlReason(const std::string& text);
/** The RFC 5280 name of a CRLReason code ("unspecified" for unknown codes). */
std::string crlReasonName(int reason);
/** Lower-case hex without leading zeros; InvalidArgument for anything but hex digits. */
pki::Result<std::string> normalizeSerial(const std::string& text);

class RevocationService {
 public:
  /** chunk_size: certificates per committed transaction. */
  RevocationService(store::RevocationStore& store, const pki::Clock& clock,
                    int64_t chunk_size = 50000);

  /**
   * Runs one request. progress(done, total) is called before the first chunk and after each
   * one (total: certificates that need a change); returning false stops between chunks, with
   * completed = false in the report. InvalidArgument for an empty selector or a bad reason.
   */
  pki::Result<RevocationReport> run(
      const RevocationRequest& r, const std::function<bool(int64_t done, int64_t total)>& progress);

 private:
  store::RevocationStore& store_;
  const pki::Clock& clock_;
  int64_t chunk_size_;
};

}  // namespace enroll::ca
