#pragma once
/**
 * SqlStore's session helpers, shared by the .cpp files that implement it (sql_store.cpp,
 * sql_revocation_store.cpp): include only there.
 */
#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "server/store/sql_store.h"

namespace enroll::store {

/** Failures by error code since start (storeErrorCounts() reads them). */
inline std::array<std::atomic<int64_t>, static_cast<size_t>(pki::ErrorCode::kInternal) + 1>&
storeErrorCounters() {
  static std::array<std::atomic<int64_t>, static_cast<size_t>(pki::ErrorCode::kInternal) + 1>
      counters{};
  return counters;
}

template <typename T, typename Fn>
Result<T> SqlStore::run(const char* what, Fn&& fn, bool* busy) {
  std::optional<SessionPool::Lease> lease;
  try {
    lease.emplace(pool_->get());
    return fn(**lease);
  } catch (const Poco::Exception& e) {
    if (lease) lease->discard();
    if (busy) *busy = dialect_->isBusy(e);
    return storeError(what, e);
  }
}

inline pki::Error SqlStore::storeError(const char* what, const Poco::Exception& e) const {
  pki::ErrorCode code = dialect_->classify(e);
  storeErrorCounters()[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  std::string message = code == pki::ErrorCode::kAlreadyExists
                            ? std::string(what) + ": already exists"
                            : "the store is unavailable";
  return pki::makeError(code, message, std::string(what) + ": " + e.displayText());
}

template <typename T, typename Fn>
Result<T> SqlStore::write(const char* what, Fn&& fn) {
  // A single-writer database (SQLite) gets one writer at a time from this process, so our own
  // writers never meet SQLite's busy handler, which sleeps up to 100 ms between retries.
  std::unique_lock<std::mutex> lock(write_mu_, std::defer_lock);
  if (dialect_->singleWriter()) lock.lock();
  // Another process (an offline enrolld command, another node) can commit between a
  // transaction's first read and its first write; SQLite then answers "busy" at once instead of
  // waiting, since waiting cannot help a reader that must upgrade. The transaction was rolled
  // back whole, so it runs again. A busy answer that took long is the lock timeout: not retried.
  for (int attempt = 0;; ++attempt) {
    bool busy = false;
    auto started = std::chrono::steady_clock::now();
    Result<T> r = run<T>(what, fn, &busy);
    if (r || !busy || attempt == 4 ||
        std::chrono::steady_clock::now() - started > std::chrono::milliseconds(100))
      return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt));
  }
}

}  // namespace enroll::store
