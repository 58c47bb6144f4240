#pragma once
/**
 * CrlPublisher: keeps a signed full CRL and a delta CRL (RFC 5280 5.2.4) per issuing CA, made
 * again when the store's revocation revision moves (polled, so it works with several nodes on
 * one database) and before half of their validity has passed. CRL numbers come from the store:
 * monotonic, persisted, shared by full and delta CRLs.
 *
 * Delta CRLs name a base full CRL that stays the same for settings.delta_base_seconds, and list
 * every certificate whose status changed since that base: revoked, on hold, or released from
 * hold (removeFromCRL). Deltas and full CRLs are made apart, by two background threads: a change
 * is in a delta CRL within a poll interval even while a full CRL of a million entries is being
 * made, and a delta that is due (half its validity passed) does not remake the full CRL. A full
 * CRL is followed by a delta numbered above it, so that clients combine the two.
 */
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pki/clock.h"
#include "server/ca/certificate_authority.h"
#include "server/store/store.h"

namespace enroll::ca {

struct CrlSettings {
  std::time_t next_update_seconds = 86400;       ///< full CRL: nextUpdate - thisUpdate
  std::time_t delta_next_update_seconds = 3600;  ///< delta CRL: nextUpdate - thisUpdate
  std::time_t delta_base_seconds = 86400;        ///< how long a full CRL stays the deltas' base
  /**
   * A bulk change would make every later delta as large as itself until the base moves: the
   * next full CRL becomes the base early once the delta lists more than this many entries and
   * more than a quarter of the full CRL's.
   */
  size_t delta_rebase_entries = 1000;
  int poll_milliseconds = 250;  ///< how often the revision is read
  /** Public base URL of the HTTP listener ("http://pki.example:8080"); empty: no Freshest CRL. */
  std::string base_url;
};

/** The URL paths CRLs and CA certificates are published at (under the HTTP listener). */
std::string fullCrlPath(const std::string& ca_name);        ///< "/crl/<ca>.crl"
std::string deltaCrlPath(const std::string& ca_name);       ///< "/crl/<ca>-delta.crl"
std::string caCertificatePath(const std::string& ca_name);  ///< "/ca/<ca>.crt"
std::string ocspPath();                                     ///< "/ocsp"

/** One published CRL. */
struct PublishedCrl {
  pki::Bytes der;
  int64_t number = 0;
  int64_t base = 0;  ///< delta only: the base CRL number
  std::time_t this_update = 0;
  std::time_t next_update = 0;
  size_t entries = 0;
};

class CrlPublisher {
 public:
  /** Log lines as key/value pairs (wired to the transport's logger by the app). */
  using LogFn = std::function<void(const std::vector<std::pair<std::string, std::string>>&)>;

  CrlPublisher(std::vector<std::shared_ptr<CertificateAuthority>> cas,
               store::RevocationStore& store, const pki::Clock& clock, CrlSettings settings,
               LogFn log = {});
  ~CrlPublisher();
  CrlPublisher(const CrlPublisher&) = delete;
  CrlPublisher& operator=(const CrlPublisher&) = delete;

  /**
   * Makes new CRLs for every CA whose CRLs are missing, out of date with the store's revision,
   * or due (half their validity passed): first the delta CRLs (refreshDeltas), then the full
   * CRLs (refreshFull). Returns the first error; the old CRLs stay published.
   */
  pki::Result<void> refresh();
  /**
   * Makes a new delta CRL for every CA that has a base full CRL and whose delta is missing, out
   * of date with the store's revision, or due. Cheap unless many certificates changed.
   */
  pki::Result<void> refreshDeltas();
  /** Makes a new full CRL, and a delta numbered above it, for every CA whose full CRL is due. */
  pki::Result<void> refreshFull();
  /**
   * Starts the background threads that call refreshDeltas() and refreshFull() every poll
   * interval.
   */
  void start();
  /** Stops them (idempotent). */
  void stop();

  /** The current full CRL of a CA; NotFound for an unknown CA, Unavailable before the first. */
  pki::Result<std::shared_ptr<const PublishedCrl>> fullCrl(const std::string& ca_name) const;
  /** The current delta CRL of a CA. */
  pki::Result<std::shared_ptr<const PublishedCrl>> deltaCrl(const std::string& ca_name) const;
  /** The CA certificates by name (what /ca/<name>.crt serves). */
  const std::map<std::string, std::shared_ptr<CertificateAuthority>>& authorities() const {
    return cas_;
  }

 private:
  struct Published {
    std::shared_ptr<const PublishedCrl> full;
    std::shared_ptr<const PublishedCrl> delta;
    int64_t full_revision = -1;   ///< the revocation revision the full CRL reflects
    int64_t delta_revision = -1;  ///< the revocation revision the delta CRL reflects (at least)
  };
  pki::Result<void> publishFull(const CertificateAuthority& ca, int64_t revision, std::time_t now);
  pki::Result<void> publishDelta(const CertificateAuthority& ca, int64_t revision, std::time_t now);
  /**
   * Calls publish for every CA whose delta (or full) CRL is missing, behind the revision, or
   * past half its validity; returns the first error.
   */
  pki::Result<void> publishDue(
      bool delta,
      const std::function<pki::Result<void>(const CertificateAuthority&, int64_t, std::time_t)>&
          publish);
  pki::Result<std::shared_ptr<PublishedCrl>> makeDelta(const CertificateAuthority& ca,
                                                       int64_t base_number, int64_t base_revision,
                                                       std::time_t now);
  /** Publishes delta unless a delta with a higher number (so fresher data) is out already. */
  void putDelta(const std::string& ca_name, std::shared_ptr<const PublishedCrl> delta,
                int64_t revision);
  void loop(pki::Result<void> (CrlPublisher::*step)());

  std::map<std::string, std::shared_ptr<CertificateAuthority>> cas_;
  store::RevocationStore& store_;
  const pki::Clock& clock_;
  CrlSettings settings_;
  LogFn log_;

  mutable std::mutex mu_;  ///< guards published_
  std::map<std::string, Published> published_;
  std::mutex delta_mu_;  ///< one refreshDeltas() at a time
  std::mutex full_mu_;   ///< one refreshFull() at a time

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  std::thread delta_thread_;
  std::thread full_thread_;
};

}  // namespace enroll::ca
