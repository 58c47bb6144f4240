#include "protocols/scep/scep_service.h"

#include <openssl/objects.h>

#include "protocols/scep/scep_oids.h"
#include "protocols/scep/signed_data.h"

namespace enroll::scep {

using enrollment::EnrollmentResult;
using pki::Bytes;
using pki::ErrorCode;

/** A label as one request sees it: its configuration and what the Enroller says about it. */
struct ScepService::Label {
  std::string name;
  const ScepLabelConfig& config;
  enrollment::LabelInfo info;
  RaIdentity ra;
  AlgorithmPolicy policy;
};

/** What a PKIOperation comes to, before it is encoded as a CertRep. */
struct ScepService::Answer {
  PkiStatus status = PkiStatus::kFailure;
  FailInfo fail_info = FailInfo::kBadRequest;
  std::vector<pki::Certificate> certificates;
  std::optional<Bytes> crl_der;
  std::string outcome;

  static Answer refuse(FailInfo info, std::string reason) {
    return {PkiStatus::kFailure, info, {}, std::nullopt, std::move(reason)};
  }
  static Answer refuse(const pki::Error& error) {
    return refuse(failInfoFor(error), error.toString());
  }
  static Answer pending(std::string note) {
    return {PkiStatus::kPending, FailInfo::kBadRequest, {}, std::nullopt, std::move(note)};
  }
  static Answer success(std::vector<pki::Certificate> certs, std::optional<Bytes> crl,
                        std::string note) {
    return {PkiStatus::kSuccess, FailInfo::kBadRequest, std::move(certs), std::move(crl),
            std::move(note)};
  }
  /** The answer for an Enroller or directory result: issued, pending or refused. */
  static Answer fromEnrollment(const pki::Result<EnrollmentResult>& result) {
    if (!result) {
      if (result.error().code == ErrorCode::kPending) return pending(result.error().toString());
      return refuse(result.error());
    }
    if (result->status == EnrollmentResult::Status::kPending || !result->certificate) {
      return pending("waiting for approval");
    }
    return success({*result->certificate}, std::nullopt,
                   "issued serial " + result->certificate->serialHex());
  }
};

namespace {

constexpr const char* kPkiMessageType = "application/x-pki-message";

/** A text/plain answer; the log line may say more than the peer is told. */
ScepHttpResponse plain(int status, const std::string& text, const std::string& outcome = {}) {
  ScepHttpResponse r;
  r.status = status;
  r.content_type = "text/plain";
  r.body.assign(text.begin(), text.end());
  r.body.push_back('\n');
  r.outcome = outcome.empty() ? text : outcome;
  return r;
}

ScepHttpResponse binary(std::string content_type, Bytes body, std::string outcome) {
  return {200, std::move(content_type), std::move(body), std::move(outcome)};
}

/** The pkiMessage bytes of a PKIOperation: the POST body, or the base64 message= of a GET. */
pki::Result<Bytes> operationBytes(const ScepHttpRequest& request) {
  if (request.method == "POST") return request.body;
  // A form decoder may have turned the '+' of base64 into ' '; base64 has no spaces, so the
  // change is undone here rather than trusted to every transport (certmonger sends GETs).
  std::string text = request.message;
  for (auto& c : text) {
    if (c == ' ') c = '+';
  }
  return pki::base64Decode(text);
}

}  // namespace

FailInfo failInfoFor(const pki::Error& error) {
  // RFC 8894 3.2.1.4: badCertId when nothing matches; badRequest when the transaction is not
  // permitted (refused challenge, policy, unknown or rejected request).
  return error.code == ErrorCode::kNotFound ? FailInfo::kBadCertId : FailInfo::kBadRequest;
}

pki::Result<ScepService> ScepService::create(enrollment::Enroller& enroller,
                                             ScepDirectory& directory,
                                             std::map<std::string, ScepLabelConfig> labels,
                                             Clock clock) {
  bool any_legacy = false;
  for (const auto& [name, config] : labels) {
    ENROLL_TRY(auto info, enroller.label(name));
    if (info.ca_chain.empty()) {
      return pki::makeError(ErrorCode::kInvalidArgument, "label '" + name + "' has no CA chain");
    }
    if (EVP_PKEY_get_base_id(config.ra_key.native()) != EVP_PKEY_RSA) {
      return pki::makeError(ErrorCode::kInvalidArgument,
                            "SCEP RA key of label '" + name + "' must be RSA");
    }
    if (X509_check_private_key(config.ra_certificate.native(), config.ra_key.native()) != 1) {
      return pki::opensslError(ErrorCode::kInvalidArgument, "SCEP RA key of label '" + name +
                                                                "' does not match its certificate");
    }
    any_legacy = any_legacy || config.legacy;
  }
  if (any_legacy) ENROLL_CHECK(loadLegacyProviders());
  ScepOids::get();
  if (!clock) clock = [] { return std::time(nullptr); };
  return ScepService(enroller, directory, std::move(labels), std::move(clock));
}

ScepHttpResponse ScepService::handle(const ScepHttpRequest& request) const {
  if (request.method != "GET" && request.method != "POST") return plain(405, "method not allowed");
  auto config = labels_.find(request.label);
  if (config == labels_.end()) return plain(404, "no SCEP on label '" + request.label + "'");
  auto info = enroller_->label(request.label);
  if (!info)
    return plain(404, "label unavailable", "label unavailable: " + info.error().toString());
  Label label{request.label, config->second, std::move(*info),
              RaIdentity{config->second.ra_certificate, config->second.ra_key},
              AlgorithmPolicy(config->second.legacy)};

  // RFC 8894 4.1: every operation may come as GET; only PKIOperation may be POSTed.
  if (request.operation == "PKIOperation") return pkiOperation(label, request);
  if (request.method == "POST") return plain(405, "only PKIOperation may be POSTed");
  if (request.operation == "GetCACaps") return getCaCaps(label);
  if (request.operation == "GetCACert") return getCaCert(label);
  if (request.operation == "GetNextCACert") return getNextCaCert(label);
  return plain(400, "unknown SCEP operation '" + request.operation + "'");
}

ScepHttpResponse ScepService::getCaCaps(const Label& label) const {
  // RFC 8894 3.5.2: only what this server really does. SCEPStandard implies AES, SHA-256 and
  // POSTPKIOperation, which are listed too for older clients.
  std::string caps = "POSTPKIOperation\nRenewal\nSHA-256\nSHA-512\nAES\nSCEPStandard\n";
  if (!label.config.next_ca_chain.empty()) caps += "GetNextCACert\n";
  if (label.config.legacy) caps += "SHA-1\nDES3\n";
  return binary("text/plain", Bytes(caps.begin(), caps.end()), "GetCACaps");
}

ScepHttpResponse ScepService::getCaCert(const Label& label) const {
  const auto& chain = label.info.ca_chain;
  const bool ra_is_ca = label.ra.certificate == chain.front();
  // RFC 8894 4.2.1: a lone CA certificate is sent as DER; an RA or a longer chain as a
  // degenerate certs-only SignedData.
  if (ra_is_ca && chain.size() == 1) {
    return binary("application/x-x509-ca-cert", chain.front().toDer(), "GetCACert: CA certificate");
  }
  std::vector<pki::Certificate> certs;
  if (!ra_is_ca) certs.push_back(label.ra.certificate);
  certs.insert(certs.end(), chain.begin(), chain.end());
  auto der = makeDegenerate(certs, std::nullopt);
  if (!der) return plain(500, "internal error", "GetCACert: " + der.error().toString());
  return binary("application/x-x509-ca-ra-cert", std::move(*der), "GetCACert: RA and CA chain");
}

ScepHttpResponse ScepService::getNextCaCert(const Label& label) const {
  if (label.config.next_ca_chain.empty()) return plain(404, "no next CA configured");
  // RFC 8894 4.7: the next chain as a degenerate SignedData, itself signed by the current RA so
  // that the client can trust it.
  auto degenerate = makeDegenerate(label.config.next_ca_chain, std::nullopt);
  if (!degenerate)
    return plain(500, "internal error", "GetNextCACert: " + degenerate.error().toString());
  auto signed_der = signData(*degenerate, label.ra, NID_sha256, {});
  if (!signed_der)
    return plain(500, "internal error", "GetNextCACert: " + signed_der.error().toString());
  return binary("application/x-x509-next-ca-cert", std::move(*signed_der), "GetNextCACert");
}

ScepHttpResponse ScepService::pkiOperation(const Label& label,
                                           const ScepHttpRequest& request) const {
  auto der = operationBytes(request);
  if (!der || der->empty()) return plain(400, "PKIOperation without a readable message");
  auto msg = decodePkiMessage(*der, label.ra, label.policy, clock_());
  if (!msg) {
    return plain(400, "malformed pkiMessage: " + msg.error().message,
                 "malformed pkiMessage: " + msg.error().toString());
  }
  if (msg->refusal)
    return reply(label, *msg, Answer::refuse(msg->refusal->fail_info, msg->refusal->reason));

  // An enrollment commits its senderNonce with the certificate (EnrollmentRequest::replay_guard);
  // every other message records it here.
  if (msg->type != MessageType::kPKCSReq && msg->type != MessageType::kRenewalReq) {
    auto fresh = directory_->rememberNonce(msg->transaction_id, msg->sender_nonce);
    if (!fresh) return reply(label, *msg, Answer::refuse(fresh.error()));
    if (!*fresh)
      return reply(label, *msg, Answer::refuse(FailInfo::kBadRequest, "replayed senderNonce"));
  }
  return reply(label, *msg, dispatch(label, *msg, request.peer));
}

ScepService::Answer ScepService::dispatch(const Label& label, const PkiMessage& msg,
                                          const std::string& peer) const {
  switch (msg.type) {
    case MessageType::kPKCSReq:
    case MessageType::kRenewalReq:
      return enroll(label, msg, peer);
    case MessageType::kCertPoll:
      return certPoll(label, msg);
    case MessageType::kGetCert:
      return getCert(msg);
    case MessageType::kGetCRL:
      return getCrl(label, msg);
    case MessageType::kCertRep:
      break;
  }
  return Answer::refuse(FailInfo::kBadRequest, "not a request");
}

ScepService::Answer ScepService::enroll(const Label& label, const PkiMessage& msg,
                                        const std::string& peer) const {
  auto csr = pki::CertificateRequest::fromDer(msg.message_data);
  if (!csr) return Answer::refuse(FailInfo::kBadRequest, "messageData is not a PKCS#10 request");

  // The transactionID is bound to the request's key (clients hash the key in different ways, or
  // not at all): the same transactionID with another key is refused. This read answers a plain
  // replay early; the Enroller commits the nonce and the binding with the certificate (or the
  // held request), where a unique key refuses a concurrent copy of the message.
  const std::string key = pki::hexEncode(pki::sha256(csr->publicKeyDer()));
  auto known = directory_->transaction(label.name, msg.transaction_id, msg.sender_nonce);
  if (!known) return Answer::refuse(known.error());
  if (known->nonce_seen) return Answer::refuse(FailInfo::kBadRequest, "replayed senderNonce");
  if (!known->public_key_sha256.empty() && known->public_key_sha256 != key)
    return Answer::refuse(FailInfo::kBadRequest, "transactionID already used with another key");

  enrollment::EnrollmentRequest request{enrollment::Protocol::kScep,
                                        label.name,
                                        enrollment::Operation::kEnroll,
                                        std::move(*csr),
                                        {},
                                        std::nullopt,
                                        {msg.transaction_id, msg.sender_nonce, true}};
  request.credentials.peer_address = peer;
  if (!msg.signer_self_signed) request.credentials.message_signer = msg.signer;
  // RFC 8894 3.3.1: RenewalReq is signed by the certificate being renewed. certmonger renews
  // with a PKCSReq signed by its current certificate: a signer from our CA means renewal too.
  const bool signed_by_ours =
      !msg.signer_self_signed && msg.signer->isSignedBy(label.info.ca_chain.front());
  if (msg.type == MessageType::kRenewalReq && !signed_by_ours) {
    return Answer::refuse(FailInfo::kBadRequest,
                          "RenewalReq not signed by a certificate of this CA");
  }
  if (signed_by_ours) {
    request.operation = enrollment::Operation::kReEnroll;
  } else if (!known->public_key_sha256.empty()) {
    // The transactionID was used before with this key: certmonger polls a held request by
    // sending the same PKCSReq again. Nothing else commits this message's nonce: record it now.
    auto fresh = directory_->rememberNonce(msg.transaction_id, msg.sender_nonce);
    if (!fresh) return Answer::refuse(fresh.error());
    if (!*fresh) return Answer::refuse(FailInfo::kBadRequest, "replayed senderNonce");
    request.replay_guard.nonce.clear();
    if (auto held = heldEnrollment(label, msg)) return std::move(*held);
  }
  Answer answer = Answer::fromEnrollment(enroller_->enroll(request));
  answer.outcome =
      std::string(enrollment::operationName(request.operation)) + ": " + answer.outcome;
  return answer;
}

std::optional<ScepService::Answer> ScepService::heldEnrollment(const Label& label,
                                                               const PkiMessage& msg) const {
  // Instead of CertPoll, certmonger polls a pending request by sending the same PKCSReq again
  // with the same transactionID: answer from the held request rather than enrolling twice.
  auto held = directory_->poll(label.name, msg.transaction_id);
  if (!held && held.error().code == ErrorCode::kNotFound) return std::nullopt;
  Answer answer = Answer::fromEnrollment(held);
  answer.outcome = "resent request: " + answer.outcome;
  return answer;
}

ScepService::Answer ScepService::certPoll(const Label& label, const PkiMessage& msg) const {
  auto names = parseIssuerAndSubject(msg.message_data);
  if (!names) return Answer::refuse(FailInfo::kBadRequest, "CertPoll without an IssuerAndSubject");
  // RFC 8894 3.3.3: the poll carries the transactionID of the original request.
  return Answer::fromEnrollment(directory_->poll(label.name, msg.transaction_id));
}

ScepService::Answer ScepService::getCert(const PkiMessage& msg) const {
  auto id = parseIssuerAndSerial(msg.message_data);
  if (!id) return Answer::refuse(FailInfo::kBadRequest, "GetCert without an IssuerAndSerialNumber");
  auto cert = directory_->findCertificate(id->issuer, id->serial_hex);
  if (!cert) return Answer::refuse(cert.error());
  return Answer::success({*cert}, std::nullopt, "certificate serial " + id->serial_hex);
}

ScepService::Answer ScepService::getCrl(const Label& label, const PkiMessage& msg) const {
  auto id = parseIssuerAndSerial(msg.message_data);
  if (!id) return Answer::refuse(FailInfo::kBadRequest, "GetCRL without an IssuerAndSerialNumber");
  if (id->issuer != label.info.ca_chain.front().subject()) {
    return Answer::refuse(FailInfo::kBadCertId, "GetCRL for another issuer: " + id->issuer);
  }
  auto crl = directory_->currentCrlDer(label.name);
  if (!crl) return Answer::refuse(crl.error());
  return Answer::success({}, std::move(*crl), "CRL");
}

ScepHttpResponse ScepService::reply(const Label& label, const PkiMessage& msg,
                                    const Answer& answer) const {
  CertRep rep = CertRep::answering(msg);
  rep.status = answer.status;
  rep.fail_info = answer.fail_info;
  rep.certificates = answer.certificates;
  rep.crl_der = answer.crl_der;
  // Answer with the client's algorithms, unless they are the reason for the refusal.
  if (!label.policy.allowsDigest(rep.digest_nid)) rep.digest_nid = NID_sha256;
  if (!label.policy.allowsCipher(rep.cipher_nid)) rep.cipher_nid = NID_aes_128_cbc;

  std::string outcome = std::string(messageTypeName(msg.type)) + " tx=" + msg.transaction_id + " " +
                        std::string(pkiStatusName(answer.status));
  if (answer.status == PkiStatus::kFailure)
    outcome += " " + std::string(failInfoName(answer.fail_info));
  outcome += ": " + answer.outcome;
  if (!msg.legacy_algorithms.empty())
    outcome += " (legacy algorithms: " + msg.legacy_algorithms + ")";

  auto der = encodeCertRep(rep, label.ra);
  if (!der)
    return plain(500, "internal error",
                 outcome + "; cannot encode CertRep: " + der.error().toString());
  return binary(kPkiMessageType, std::move(*der), std::move(outcome));
}

}  // namespace enroll::scep
