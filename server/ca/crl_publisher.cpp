#include "server/ca/crl_publisher.h"

#include <chrono>
#include <cstdio>

namespace enroll::ca {

using pki::millisecondsSince;

using pki::ErrorCode;
using pki::makeError;

std::string fullCrlPath(const std::string& ca_name) { return "/crl/" + ca_name + ".crl"; }
std::string deltaCrlPath(const std::string& ca_name) { return "/crl/" + ca_name + "-delta.crl"; }
std::string caCertificatePath(const std::string& ca_name) { return "/ca/" + ca_name + ".crt"; }
std::string ocspPath() { return "/ocsp"; }

CrlPublisher::CrlPublisher(std::vector<std::shared_ptr<CertificateAuthority>> cas,
                           store::RevocationStore& store, const pki::Clock& clock,
                           CrlSettings settings, LogFn log)
    : store_(store), clock_(clock), settings_(std::move(settings)), log_(std::move(log)) {
  for (auto& ca : cas) cas_[ca->name()] = std::move(ca);
  while (!settings_.base_url.empty() && settings_.base_url.back() == '/')
    settings_.base_url.pop_back();
}

CrlPublisher::~CrlPublisher() { stop(); }

pki::Result<void> CrlPublisher::refresh() {
  auto deltas = refreshDeltas();
  auto full = refreshFull();
  return deltas ? std::move(full) : std::move(deltas);
}

pki::Result<void> CrlPublisher::publishDue(
    bool delta,
    const std::function<pki::Result<void>(const CertificateAuthority&, int64_t, std::time_t)>&
        publish) {
  ENROLL_TRY(int64_t revision, store_.revocationRevision());
  std::time_t now = clock_.now();
  pki::Result<void> first = pki::ok();
  for (const auto& [name, ca] : cas_) {
    Published current;
    {
      std::lock_guard<std::mutex> lock(mu_);
      current = published_[name];
    }
    const auto& crl = delta ? current.delta : current.full;
    int64_t crl_revision = delta ? current.delta_revision : current.full_revision;
    std::time_t validity =
        delta ? settings_.delta_next_update_seconds : settings_.next_update_seconds;
    bool due = !crl || crl_revision != revision || now >= crl->this_update + validity / 2;
    if (!due) continue;
    auto done = publish(*ca, revision, now);
    if (!done && first) first = std::move(done);
  }
  return first;
}

pki::Result<void> CrlPublisher::refreshDeltas() {
  std::lock_guard<std::mutex> one(delta_mu_);
  return publishDue(true, [this](const CertificateAuthority& ca, int64_t revision,
                                 std::time_t now) { return publishDelta(ca, revision, now); });
}

pki::Result<void> CrlPublisher::refreshFull() {
  std::lock_guard<std::mutex> one(full_mu_);
  return publishDue(false, [this](const CertificateAuthority& ca, int64_t revision,
                                  std::time_t now) { return publishFull(ca, revision, now); });
}

pki::Result<void> CrlPublisher::publishDelta(const CertificateAuthority& ca, int64_t revision,
                                             std::time_t now) {
  auto started = std::chrono::steady_clock::now();
  const std::string& name = ca.name();
  ENROLL_TRY(store::CrlState state, store_.crlState(name));
  if (state.base_number == 0) return pki::ok();  // the first full CRL makes the base
  // Against the current base even when a new one is due: the full CRL that becomes the next
  // base may take a while, and this delta is complete with any full CRL since the base.
  ENROLL_TRY(auto delta, makeDelta(ca, state.base_number, state.base_revision, now));
  size_t entries = delta->entries;
  int64_t number = delta->number;
  putDelta(name, std::move(delta), revision);
  if (log_) {
    log_({{"event", "delta_crl_published"},
          {"ca", name},
          {"delta_number", std::to_string(number)},
          {"delta_base", std::to_string(state.base_number)},
          {"delta_entries", std::to_string(entries)},
          {"revision", std::to_string(revision)},
          {"latency_ms", millisecondsSince(started)}});
  }
  return pki::ok();
}

void CrlPublisher::putDelta(const std::string& ca_name, std::shared_ptr<const PublishedCrl> delta,
                            int64_t revision) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& p = published_[ca_name];
  // Numbers are taken before the store is read (makeDelta), so a higher number saw newer data.
  if (p.delta && p.delta->number > delta->number) return;
  p.delta = std::move(delta);
  p.delta_revision = revision;
}

pki::Result<std::shared_ptr<PublishedCrl>> CrlPublisher::makeDelta(const CertificateAuthority& ca,
                                                                   int64_t base_number,
                                                                   int64_t base_revision,
                                                                   std::time_t now) {
  auto delta = std::make_shared<PublishedCrl>();
  // The number first, then the changes: of two deltas, the higher numbered has read later.
  ENROLL_TRY(delta->number, store_.nextCrlNumber(ca.name()));
  ENROLL_TRY(std::vector<store::RevocationEntry> changes,
             store_.statusChangesSince(ca.name(), base_revision));
  CertificateAuthority::CrlContent d;
  d.revoked.reserve(changes.size());
  for (auto& e : changes) {
    if (e.status == store::CertStatus::kGood) {
      // RFC 5280 5.3.1: removeFromCRL, only in delta CRLs: released from hold since the base.
      d.revoked.push_back({std::move(e.serial), now, 8});
    } else {
      d.revoked.push_back({std::move(e.serial), e.revoked_at, e.reason});
    }
  }
  changes = {};
  d.this_update = now;
  d.next_update = now + settings_.delta_next_update_seconds;
  d.crl_number = delta->number;
  d.delta_base = base_number;
  ENROLL_TRY(delta->der, ca.signCrl(d));
  delta->base = base_number;
  delta->this_update = d.this_update;
  delta->next_update = d.next_update;
  delta->entries = d.revoked.size();
  return delta;
}

pki::Result<void> CrlPublisher::publishFull(const CertificateAuthority& ca, int64_t revision,
                                            std::time_t now) {
  auto started = std::chrono::steady_clock::now();
  const std::string& name = ca.name();
  ENROLL_TRY(store::CrlState state, store_.crlState(name));
  // The base of the deltas: kept for delta_base_seconds, then the next full CRL takes over; early
  // when the delta has grown large (a bulk change), so that later deltas are small again.
  size_t delta_entries_now = 0;
  size_t full_entries_before = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto& p = published_[name];
    if (p.delta) delta_entries_now = p.delta->entries;
    if (p.full) full_entries_before = p.full->entries;
  }
  bool delta_grown = delta_entries_now > settings_.delta_rebase_entries &&
                     delta_entries_now * 4 > full_entries_before;
  bool rotate =
      state.base_number == 0 || now - state.base_at >= settings_.delta_base_seconds || delta_grown;

  auto full = std::make_shared<PublishedCrl>();
  ENROLL_TRY(full->number, store_.nextCrlNumber(name));
  // RFC 5280 3.3: an entry stays until it has appeared on one CRL issued after the certificate
  // expired; entries of certificates expired longer than one CRL period ago are dropped.
  CertificateAuthority::CrlContent content;
  {
    ENROLL_TRY(std::vector<store::RevocationEntry> revoked,
               store_.revokedEntries(name, now - settings_.next_update_seconds));
    content.revoked.reserve(revoked.size());
    for (auto& e : revoked)
      content.revoked.push_back({std::move(e.serial), e.revoked_at, e.reason});
  }
  content.this_update = now;
  content.next_update = now + settings_.next_update_seconds;
  content.crl_number = full->number;
  if (!settings_.base_url.empty())
    content.freshest_crl_url = settings_.base_url + deltaCrlPath(name);
  ENROLL_TRY(full->der, ca.signCrl(content));
  full->this_update = content.this_update;
  full->next_update = content.next_update;
  full->entries = content.revoked.size();
  content = {};

  int64_t base_number = state.base_number;
  int64_t base_revision = state.base_revision;
  if (rotate) {
    ENROLL_CHECK(store_.setCrlBase(name, full->number, revision, now));
    base_number = full->number;
    base_revision = revision;
  }
  // The delta published beside the full CRL has a higher number, so clients combine the two.
  ENROLL_TRY(auto delta, makeDelta(ca, base_number, base_revision, now));
  int64_t delta_number = delta->number;
  size_t delta_entries = delta->entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& p = published_[name];
    p.full = full;
    p.full_revision = revision;
  }
  putDelta(name, std::move(delta), revision);
  if (log_) {
    log_({{"event", "crl_published"},
          {"ca", name},
          {"crl_number", std::to_string(full->number)},
          {"entries", std::to_string(full->entries)},
          {"bytes", std::to_string(full->der.size())},
          {"delta_number", std::to_string(delta_number)},
          {"delta_base", std::to_string(base_number)},
          {"delta_entries", std::to_string(delta_entries)},
          {"revision", std::to_string(revision)},
          {"latency_ms", millisecondsSince(started)}});
  }
  return pki::ok();
}

void CrlPublisher::start() {
  std::lock_guard<std::mutex> lock(run_mu_);
  if (delta_thread_.joinable()) return;
  stopping_ = false;
  delta_thread_ = std::thread([this] { loop(&CrlPublisher::refreshDeltas); });
  full_thread_ = std::thread([this] { loop(&CrlPublisher::refreshFull); });
}

void CrlPublisher::stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (delta_thread_.joinable()) delta_thread_.join();
  if (full_thread_.joinable()) full_thread_.join();
}

void CrlPublisher::loop(pki::Result<void> (CrlPublisher::*step)()) {
  std::string last_error;
  for (;;) {
    auto done = (this->*step)();
    std::string error = done ? std::string() : done.error().toString();
    if (error != last_error && log_) {
      if (error.empty())
        log_({{"event", "crl_publisher"}, {"outcome", "recovered"}});
      else
        log_({{"event", "crl_publisher"}, {"outcome", "error"}, {"reason", error}});
    }
    last_error = error;
    std::unique_lock<std::mutex> lock(run_mu_);
    if (run_cv_.wait_for(lock, std::chrono::milliseconds(settings_.poll_milliseconds),
                         [this] { return stopping_; }))
      return;
  }
}

pki::Result<std::shared_ptr<const PublishedCrl>> CrlPublisher::fullCrl(
    const std::string& ca_name) const {
  if (!cas_.contains(ca_name)) return makeError(ErrorCode::kNotFound, "no CA named " + ca_name);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = published_.find(ca_name);
  if (it == published_.end() || !it->second.full)
    return makeError(ErrorCode::kUnavailable, "the CRL is not published yet");
  return it->second.full;
}

pki::Result<std::shared_ptr<const PublishedCrl>> CrlPublisher::deltaCrl(
    const std::string& ca_name) const {
  if (!cas_.contains(ca_name)) return makeError(ErrorCode::kNotFound, "no CA named " + ca_name);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = published_.find(ca_name);
  if (it == published_.end() || !it->second.delta)
    return makeError(ErrorCode::kUnavailable, "the delta CRL is not published yet");
  return it->second.delta;
}

}  // namespace enroll::ca
