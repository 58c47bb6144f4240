#pragma once
/**
 * The EST-coaps listener: a libcoap 3 context with one DTLS (PKI) endpoint, its own I/O thread,
 * and resource handlers that decode a CoAP request, call EstCoapsService and encode the answer.
 * libcoap reassembles Block1 uploads (independently of the token) and serves Block2 follow-ups
 * from the response it keeps, so a handler runs once per request body.
 */
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pki/certificate.h"
#include "pki/result.h"
#include "protocols/est/est_coaps.h"

namespace enroll::transport {

struct CoapSettings {
  std::string address = "0.0.0.0:5684";  ///< HOST:PORT (UDP); port 0 picks a free port
  std::string certificate_file;          ///< server certificate followed by its chain (PEM)
  std::string key_file;
  /** CA names to advertise in the CertificateRequest (bootstrap anchors and our CAs). */
  std::vector<pki::Certificate> client_ca_names;
  /** Label names listed in /.well-known/core ("" is the default label). */
  std::vector<std::string> labels;
  /**
   * Threads that run enrollments (sen, sren, skg) off the I/O thread, answered with an empty
   * ACK and a separate response (RFC 7252 5.2.2), so that one device waiting on the store does
   * not hold up the others. 0: enroll on the I/O thread, piggybacked on the ACK. Threads that
   * wait on the store cost no CPU, and the more wait together, the more issuances share one
   * commit (group commit): 8 gave 2,651 enrollments/s over kept DTLS sessions at C = 16 where
   * 2 gave 1,588 (docs/benchmarks.md).
   */
  int enrollment_threads = 8;
};

class CoapListener {
 public:
  /** Binds the UDP endpoint and starts the I/O thread. Unavailable when it cannot bind. */
  static pki::Result<std::unique_ptr<CoapListener>> create(const est::EstCoapsService& service,
                                                           const CoapSettings& settings);
  ~CoapListener();
  CoapListener(const CoapListener&) = delete;
  CoapListener& operator=(const CoapListener&) = delete;

  std::string host() const { return host_; }
  int port() const { return port_; }
  /**
   * Replaces the labels /.well-known/core lists (after a configuration reload). Thread-safe;
   * requests to /est/<label>/... never depended on this list (the service resolves each path).
   */
  void setLabels(const std::vector<std::string>& labels);
  /** Stops the I/O thread and frees the context (sessions are dropped). Idempotent. */
  void stop();

  struct Impl;

 private:
  CoapListener(const est::EstCoapsService& service, CoapSettings settings);
  void run();

  std::unique_ptr<Impl> impl_;
  std::string host_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace enroll::transport
