#pragma once
/**
 * ScepService: the SCEP server (RFC 8894) without a transport. The HTTP adapter turns a request
 * on /scep or /scep/<label> into a ScepHttpRequest and writes the ScepHttpResponse back.
 */
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/private_key.h"
#include "protocols/enrollment/enrollment.h"
#include "protocols/scep/cert_rep.h"
#include "protocols/scep/pki_message.h"
#include "protocols/scep/scep_directory.h"

namespace enroll::scep {

/** One SCEP HTTP request, already taken apart by the transport. */
struct ScepHttpRequest {
  std::string method;     ///< "GET" or "POST".
  std::string label;      ///< "" for /scep (the default label), else the <label> of /scep/<label>.
  std::string operation;  ///< The operation= query parameter.
  std::string message;    ///< The message= query parameter, URL-decoded (GET PKIOperation: base64).
  pki::Bytes body;        ///< POST body (PKIOperation: raw DER).
  std::string peer;       ///< "ip:port", for logs.
};

/** The answer to write back. */
struct ScepHttpResponse {
  int status = 200;
  std::string content_type;
  pki::Bytes body;
  std::string outcome;  ///< One line for the log: what was done or why it was refused.
};

/** SCEP settings of one label. */
struct ScepLabelConfig {
  /** The RA certificate and its RSA key; the CA's own certificate and key when RA == CA. */
  pki::Certificate ra_certificate;
  pki::PrivateKey ra_key;
  /** The next CA chain during a CA rollover (GetNextCACert); empty when none. */
  std::vector<pki::Certificate> next_ca_chain;
  /** Accept SHA-1/MD5 digests and DES/3DES envelopes (old clients such as scepclient). */
  bool legacy = false;
};

/** Returns the current time; tests inject a fixed one. */
using Clock = std::function<std::time_t()>;

/** The SCEP server for every label that has SCEP enabled; thread-safe (no request state). */
class ScepService {
 public:
  /**
   * labels: SCEP settings by label name ("" is the default label, served on /scep). Checks each
   * (known to the Enroller, RSA RA key matching its certificate) and loads OpenSSL's legacy
   * provider when a label needs it. The Enroller and the directory must outlive the service.
   */
  static pki::Result<ScepService> create(enrollment::Enroller& enroller, ScepDirectory& directory,
                                         std::map<std::string, ScepLabelConfig> labels,
                                         Clock clock = nullptr);

  /** Answers one request: GetCACaps, GetCACert, GetNextCACert or PKIOperation (RFC 8894 4). */
  ScepHttpResponse handle(const ScepHttpRequest& request) const;

 private:
  struct Label;
  struct Answer;

  ScepService(enrollment::Enroller& enroller, ScepDirectory& directory,
              std::map<std::string, ScepLabelConfig> labels, Clock clock)
      : enroller_(&enroller),
        directory_(&directory),
        labels_(std::move(labels)),
        clock_(std::move(clock)) {}

  ScepHttpResponse getCaCaps(const Label& label) const;
  ScepHttpResponse getCaCert(const Label& label) const;
  ScepHttpResponse getNextCaCert(const Label& label) const;
  ScepHttpResponse pkiOperation(const Label& label, const ScepHttpRequest& request) const;
  ScepHttpResponse reply(const Label& label, const PkiMessage& msg, const Answer& answer) const;

  Answer dispatch(const Label& label, const PkiMessage& msg, const std::string& peer) const;
  Answer enroll(const Label& label, const PkiMessage& msg, const std::string& peer) const;
  std::optional<Answer> heldEnrollment(const Label& label, const PkiMessage& msg) const;
  Answer certPoll(const Label& label, const PkiMessage& msg) const;
  Answer getCert(const PkiMessage& msg) const;
  Answer getCrl(const Label& label, const PkiMessage& msg) const;

  enrollment::Enroller* enroller_;
  ScepDirectory* directory_;
  std::map<std::string, ScepLabelConfig> labels_;
  Clock clock_;
};

/** The failInfo that answers an Enroller or directory error (RFC 8894 3.2.1.4). */
FailInfo failInfoFor(const pki::Error& error);

}  // namespace enroll::scep
