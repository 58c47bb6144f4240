#include "server/admin/revocation_jobs.h"

#include <Poco/JSON/Object.h>

#include <sstream>

#include "server/admin/selector_codec.h"

namespace enroll::admin {

std::string revocationActionName(ca::RevocationAction a) {
  switch (a) {
    case ca::RevocationAction::kRevoke:
      return "revoke";
    case ca::RevocationAction::kHold:
      return "hold";
    case ca::RevocationAction::kRelease:
      return "release";
  }
  return "revoke";
}

RevocationJobs::~RevocationJobs() {
  std::map<int64_t, std::unique_ptr<Entry>> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, e] : jobs_) e->stop = true;
    jobs.swap(jobs_);
  }
  for (auto& [id, e] : jobs) {
    if (e->thread.joinable()) e->thread.join();
  }
}

pki::Result<ca::RevocationReport> RevocationJobs::dryRun(ca::RevocationRequest request) {
  request.dry_run = true;
  return service_.run(request, [](int64_t, int64_t) { return true; });
}

pki::Result<RevocationJob> RevocationJobs::start(const ca::RevocationRequest& request,
                                                 const std::string& operator_name) {
  // Refuse what the service would refuse before a thread exists for it.
  if (request.selector.empty())
    return pki::makeError(pki::ErrorCode::kInvalidArgument,
                          "name at least one selector field (a serial, devices, a batch, ...)");
  auto entry = std::make_unique<Entry>();
  Entry* e = entry.get();
  std::lock_guard<std::mutex> lock(mu_);
  // Forget finished jobs beyond the newest 100.
  while (jobs_.size() >= 100) {
    auto oldest = std::find_if(jobs_.begin(), jobs_.end(),
                               [](const auto& j) { return j.second->job.state != "running"; });
    if (oldest == jobs_.end()) break;
    if (oldest->second->thread.joinable()) oldest->second->thread.join();
    jobs_.erase(oldest);
  }
  e->job.id = next_id_++;
  e->job.state = "running";
  e->job.operator_name = operator_name;
  e->job.request = request;
  e->job.request.dry_run = false;
  e->job.started_at = clock_.now();
  RevocationJob snapshot = e->job;
  jobs_[e->job.id] = std::move(entry);
  e->thread = std::thread([this, e] { run(e); });
  return snapshot;
}

void RevocationJobs::run(Entry* e) {
  ca::RevocationRequest request;
  {
    std::lock_guard<std::mutex> lock(mu_);
    request = e->job.request;
  }
  auto report = service_.run(request, [this, e](int64_t done, int64_t total) {
    std::lock_guard<std::mutex> lock(mu_);
    e->job.done = done;
    e->job.total = total;
    return !e->stop.load();
  });
  RevocationJob finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e->job.finished_at = clock_.now();
    if (!report) {
      e->job.state = "failed";
      e->job.error = report.error().message;
    } else {
      e->job.report = *report;
      e->job.done = report->changed;
      e->job.state = report->completed ? "done" : "stopped";
    }
    finished = e->job;
  }
  auditFinished(finished);
  if (on_finished_) on_finished_(finished);
}

void RevocationJobs::auditFinished(const RevocationJob& job) {
  Poco::JSON::Object::Ptr detail = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  detail->set("selector", selectorToJson(job.request.selector));
  detail->set("action", revocationActionName(job.request.action));
  detail->set("reason", ca::crlReasonName(job.request.reason));
  detail->set("block_devices", job.request.block_devices);
  detail->set("matched", static_cast<Poco::Int64>(job.report.matched));
  detail->set("changed", static_cast<Poco::Int64>(job.report.changed));
  detail->set("devices_blocked", static_cast<Poco::Int64>(job.report.devices_blocked));
  if (!job.error.empty()) detail->set("error", job.error);
  std::ostringstream os;
  detail->stringify(os);
  store::AuditEntry a;
  a.at = job.finished_at;
  a.actor = "operator:" + job.operator_name;
  a.action = "revocation." + revocationActionName(job.request.action);
  a.target = "job " + std::to_string(job.id);
  a.outcome = job.state;
  a.detail = os.str();
  (void)audit_.appendAudit(a);
}

pki::Result<RevocationJob> RevocationJobs::get(int64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end())
    return pki::makeError(pki::ErrorCode::kNotFound, "no job " + std::to_string(id));
  return it->second->job;
}

pki::Result<RevocationJob> RevocationJobs::stop(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end())
    return pki::makeError(pki::ErrorCode::kNotFound, "no job " + std::to_string(id));
  it->second->stop = true;
  return it->second->job;
}

}  // namespace enroll::admin
