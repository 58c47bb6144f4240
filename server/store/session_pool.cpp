#include "server/store/session_pool.h"

namespace enroll::store {

SessionPool::SessionPool(std::function<Poco::Data::Session()> open, size_t max_sessions,
                         std::function<void(Poco::Data::Session&)> closing)
    : open_(std::move(open)),
      closing_(std::move(closing)),
      max_(max_sessions == 0 ? 1 : max_sessions) {}

SessionPool::~SessionPool() {
  for (Poco::Data::Session& session : idle_) close(session);
}

void SessionPool::close(Poco::Data::Session& session) {
  try {
    if (closing_) closing_(session);
    session.close();
  } catch (...) {  // a connection that fails to close is gone all the same
  }
}

SessionPool::Lease SessionPool::get() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_count_ < max_; });
    if (!idle_.empty()) {
      Poco::Data::Session s = idle_.back();
      idle_.pop_back();
      return Lease(*this, std::move(s));
    }
    ++open_count_;
  }
  try {
    return Lease(*this, open_());
  } catch (...) {
    forget();
    throw;
  }
}

void SessionPool::giveBack(Poco::Data::Session session) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(session));
  }
  cv_.notify_one();
}

void SessionPool::forget() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --open_count_;
  }
  cv_.notify_one();
}

SessionPool::Lease::~Lease() {
  if (!done_) pool_->giveBack(std::move(session_));
}

void SessionPool::Lease::discard() {
  if (done_) return;
  done_ = true;
  pool_->close(session_);
  pool_->forget();
}

}  // namespace enroll::store
