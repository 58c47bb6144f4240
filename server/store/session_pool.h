#pragma once
/**
 * A bounded pool of POCO Data sessions. POCO's own SessionPool can deadlock at shutdown (its
 * janitor timer callback waits on the mutex that shutdown() holds while stopping that timer),
 * so enrolld keeps this small one: no background thread, and a session whose statement threw is
 * dropped instead of being handed to the next request.
 */
#include <Poco/Data/Session.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace enroll::store {

class SessionPool {
 public:
  /**
   * open() makes a new, prepared session; called without the pool's lock held. closing(), when
   * given, runs on a session just before the pool closes it (SqlDialect::forgetSession).
   */
  SessionPool(std::function<Poco::Data::Session()> open, size_t max_sessions,
              std::function<void(Poco::Data::Session&)> closing = {});
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  /** A session on loan; returned to the pool at destruction unless discard() was called. */
  class Lease {
   public:
    Lease(SessionPool& pool, Poco::Data::Session session)
        : pool_(&pool), session_(std::move(session)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), session_(std::move(o.session_)), done_(o.done_) {
      o.done_ = true;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Poco::Data::Session& operator*() { return session_; }
    /** Drops the session (after an exception): the pool opens a fresh one when needed. */
    void discard();

   private:
    SessionPool* pool_;
    Poco::Data::Session session_;
    bool done_ = false;
  };

  /** Takes an idle session, opens a new one below the limit, or waits for one to come back. */
  Lease get();

 private:
  void giveBack(Poco::Data::Session session);
  void forget();

  void close(Poco::Data::Session& session);

  std::function<Poco::Data::Session()> open_;
  std::function<void(Poco::Data::Session&)> closing_;
  size_t max_;
  size_t open_count_ = 0;
  std::vector<Poco::Data::Session> idle_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace enroll::store
