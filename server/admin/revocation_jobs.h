#pragma once
/**
 * Bulk revocations run as background jobs: the admin API starts one and answers at once, the
 * operator follows its progress and may stop it between chunks (what is done stays committed;
 * the same request run again finishes it). Each finished job leaves an audit entry with its
 * selector and counts.
 */
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "pki/clock.h"
#include "server/ca/revocation_service.h"
#include "server/store/store.h"

namespace enroll::admin {

/** What a job is doing or did. */
struct RevocationJob {
  int64_t id = 0;
  std::string state;  ///< "running", "done", "stopped" (interrupted; run again) or "failed"
  std::string operator_name;
  ca::RevocationRequest request;
  int64_t done = 0;   ///< certificates changed so far
  int64_t total = 0;  ///< certificates that needed a change when it started
  ca::RevocationReport report;
  std::string error;
  std::time_t started_at = 0;
  std::time_t finished_at = 0;
};

class RevocationJobs {
 public:
  /** on_finished (optional) sees every job once it ends, e.g. to count revocations. */
  RevocationJobs(ca::RevocationService& service, store::AuditLog& audit, const pki::Clock& clock,
                 std::function<void(const RevocationJob&)> on_finished = {})
      : service_(service), audit_(audit), clock_(clock), on_finished_(std::move(on_finished)) {}
  /** Asks running jobs to stop after their current chunk and waits for them. */
  ~RevocationJobs();
  RevocationJobs(const RevocationJobs&) = delete;
  RevocationJobs& operator=(const RevocationJobs&) = delete;

  /** Counts and samples without changing anything (dry run), synchronously. */
  pki::Result<ca::RevocationReport> dryRun(ca::RevocationRequest request);
  /** Starts a job; InvalidArgument (empty selector, bad reason) before anything runs. */
  pki::Result<RevocationJob> start(const ca::RevocationRequest& request,
                                   const std::string& operator_name);
  /** NotFound for an unknown id. */
  pki::Result<RevocationJob> get(int64_t id) const;
  /** Asks a running job to stop after its current chunk; returns its state now. */
  pki::Result<RevocationJob> stop(int64_t id);

 private:
  struct Entry {
    RevocationJob job;
    std::atomic<bool> stop{false};
    std::thread thread;
  };
  void run(Entry* entry);
  void auditFinished(const RevocationJob& job);

  ca::RevocationService& service_;
  store::AuditLog& audit_;
  const pki::Clock& clock_;
  std::function<void(const RevocationJob&)> on_finished_;
  mutable std::mutex mu_;
  std::map<int64_t, std::unique_ptr<Entry>> jobs_;
  int64_t next_id_ = 1;
};

/** "revoke", "hold" or "release". */
std::string revocationActionName(ca::RevocationAction a);

}  // namespace enroll::admin
