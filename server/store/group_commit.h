#pragma once
/**
 * GroupCommit: many threads' small write transactions committed as one (group commit).
 *
 * A durable commit costs a WAL write and an fsync however little it holds. While one thread
 * commits, the others queue their work; when it is done, one of them (the leader) takes the whole
 * queue, runs every item in one transaction (each inside its own savepoint, so one item's failure
 * undoes only that item) and commits once. Nobody waits for a timer: a lone request is committed
 * at once, and under load the batch grows by itself with the number of waiting threads.
 *
 * The runner (SqlStore) owns the database side; this class only queues, elects the leader and
 * hands the results back.
 */
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "pki/result.h"

namespace enroll::store {

template <typename Session>
class GroupCommit {
 public:
  struct Item {
    /** The item's statements, run inside the shared transaction; an Error undoes them. */
    std::function<pki::Result<void>(Session&)> work;
    /** Set by the leader once the batch is committed (or has failed as a whole). */
    std::optional<pki::Result<void>> result;
  };
  /** Runs a batch in one transaction and sets every item's result. */
  using Runner = std::function<void(const std::vector<Item*>&)>;

  explicit GroupCommit(size_t max_batch) : max_batch_(max_batch) {}

  /** Queues the item and returns its result once it is committed (or refused). */
  pki::Result<void> submit(Item& item, const Runner& run) {
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(&item);
    while (!item.result) {
      if (leading_) {
        done_.wait(lock);
        continue;
      }
      leading_ = true;
      size_t n = std::min(queue_.size(), max_batch_);
      std::vector<Item*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      lock.unlock();
      try {
        run(batch);
      } catch (...) {  // nothing may leave a waiting thread without its answer
        for (Item* i : batch) {
          if (!i->result)
            i->result = pki::makeError(pki::ErrorCode::kInternal, "the store failed",
                                       "group commit: unexpected exception");
        }
      }
      lock.lock();
      leading_ = false;
      done_.notify_all();
    }
    return *std::move(item.result);
  }

 private:
  const size_t max_batch_;
  std::mutex mu_;
  std::condition_variable done_;
  std::vector<Item*> queue_;
  bool leading_ = false;
};

}  // namespace enroll::store
