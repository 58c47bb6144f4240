#include "server/ca/enrollment_service.h"

#include "pki/server_generated_key.h"

namespace enroll::ca {

using enrollment::EnrollmentRequest;
using enrollment::EnrollmentResult;
using enrollment::Operation;
using pki::ErrorCode;
using pki::makeError;

enrollment::LabelInfo describeLabel(const Label& label) {
  enrollment::LabelInfo info;
  info.name = label.name;
  info.ca_chain = label.ca->chain();
  info.csr.key_types = label.profile.allowed_keys;
  info.csr.challenge_password = label.policy.require_channel_binding;
  info.server_keygen_allowed = label.server_keygen;
  info.basic_realm =
      label.policy.allow_basic ? "enrolld " + (label.name.empty() ? "default" : label.name) : "";
  return info;
}

EnrollmentService::EnrollmentService(std::shared_ptr<const LabelMap> labels,
                                     const provisioning::Authorizer& authorizer,
                                     store::Store& store, const pki::Clock& clock,
                                     SerialGenerator serials)
    : labels_(std::move(labels)),
      authorizer_(authorizer),
      store_(store),
      clock_(clock),
      serials_(std::move(serials)) {}

void EnrollmentService::setLabels(std::shared_ptr<const LabelMap> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  labels_ = std::move(labels);
}

std::shared_ptr<const LabelMap> EnrollmentService::labels() const {
  std::lock_guard<std::mutex> lock(mu_);
  return labels_;
}

pki::Result<enrollment::LabelInfo> EnrollmentService::label(std::string_view name) const {
  auto all = labels();
  auto it = all->find(std::string(name));
  if (it == all->end())
    return makeError(ErrorCode::kNotFound, "unknown label '" + std::string(name) + "'");
  return describeLabel(it->second);
}

pki::Result<std::shared_ptr<CertificateAuthority>> EnrollmentService::authorityOf(
    std::string_view name) const {
  auto all = labels();
  auto it = all->find(std::string(name));
  if (it == all->end())
    return makeError(ErrorCode::kNotFound, "unknown label '" + std::string(name) + "'");
  return it->second.ca;
}

/** Template values from the authenticated identity and its registry entry. */
static TemplateValues valuesFor(const provisioning::Identity& identity, const std::string& label) {
  TemplateValues v;
  v["device.id"] = identity.device_id;
  v["device.serial"] = identity.device_id;
  v["label"] = label.empty() ? "default" : label;
  if (identity.device) {
    v["device.model"] = identity.device->model;
    v["device.batch"] = identity.device->batch;
    v["device.product_line"] = identity.device->product_line;
  }
  return v;
}

/**
 * The store's form of a request's ReplayGuard: the binding is to the CSR's key (SHA-256 of its
 * SubjectPublicKeyInfo as sent, which names the held request too) on the request's label.
 */
static store::TransactionGuard guardOf(const EnrollmentRequest& request, std::string key,
                                       std::time_t at) {
  store::TransactionGuard g;
  const auto& rg = request.replay_guard;
  if (rg.empty()) return g;
  g.label = request.label;
  g.transaction_id = rg.transaction_id;
  if (!rg.nonce.empty()) g.nonce_hex = pki::hexEncode(rg.nonce);
  if (rg.bind_transaction)
    g.public_key_sha256 =
        key.empty() ? pki::hexEncode(pki::sha256(request.csr.publicKeyDer())) : std::move(key);
  g.at = at;
  return g;
}

/** RFC 7030 4.2.2: a re-enrollment keeps the subject and SANs of the certificate it renews. */
static pki::Result<void> checkSameNames(const pki::CertificateRequest& csr,
                                        const pki::Certificate& current) {
  const X509_NAME* requested = X509_REQ_get_subject_name(csr.native());
  if (X509_NAME_entry_count(requested) > 0 &&
      X509_NAME_cmp(requested, X509_get_subject_name(current.native())) != 0) {
    return makeError(ErrorCode::kInvalidArgument, "re-enrollment must keep the subject " +
                                                      current.subject() + " (the CSR asks for " +
                                                      csr.subject() + ")");
  }
  auto sans = csr.subjectAltNames();
  if (!sans.empty() && sans != current.subjectAltNames()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "re-enrollment must keep the subjectAltNames of the current certificate");
  }
  return pki::ok();
}

/**
 * RFC 7030 4.4.1.2: a serverkeygen CSR may ask for its key encrypted, naming the key to encrypt
 * to with id-aa-asymmDecryptKeyID. enrolld encrypts only to the certificate the device
 * authenticated with on this TLS/DTLS connection (its bootstrap or operational certificate),
 * whose private key the handshake proved the device holds; the identifier must name that
 * certificate's key (pki::keyIdentifier). Anything else is refused before anything is issued.
 */
static pki::Result<std::optional<EnrollmentService::KeyEncryption>> keyEncryptionFor(
    const EnrollmentRequest& request, const provisioning::Identity& identity) {
  ENROLL_TRY(pki::KeyProtectionRequest asked, pki::readKeyProtectionRequest(request.csr));
  if (!asked.wantsEncryption()) return std::optional<EnrollmentService::KeyEncryption>();
  if (asked.symmetric_key_id && !asked.asymmetric_key_id) {
    return makeError(ErrorCode::kInvalidArgument,
                     "id-aa-decryptKeyID (a pre-shared symmetric key) is not supported: name "
                     "this connection's client certificate with id-aa-asymmDecryptKeyID instead");
  }
  if (asked.symmetric_key_id) {
    return makeError(ErrorCode::kInvalidArgument,
                     "the CSR names both a symmetric and an asymmetric decryption key");
  }
  const bool by_certificate = identity.method == provisioning::AuthMethod::kBootstrapCertificate ||
                              identity.method == provisioning::AuthMethod::kOperationalCertificate;
  if (!by_certificate || request.credentials.tls_chain.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "an encrypted key is sent only to the client certificate that authenticated "
                     "this connection, and this request was authenticated by " +
                         provisioning::authMethodName(identity.method));
  }
  const pki::Certificate& recipient = request.credentials.tls_chain.front();
  const pki::Bytes key_id = pki::keyIdentifier(recipient);
  if (key_id != *asked.asymmetric_key_id) {
    return makeError(ErrorCode::kInvalidArgument,
                     "id-aa-asymmDecryptKeyID does not name the key of this connection's client "
                     "certificate (its subjectKeyIdentifier)",
                     "asked " + pki::hexEncode(*asked.asymmetric_key_id) + ", certificate " +
                         pki::hexEncode(key_id));
  }
  if (!pki::canReceiveEnvelope(recipient.publicKey())) {
    return makeError(ErrorCode::kInvalidArgument,
                     "the client certificate's " + pki::describeKey(recipient.publicKey()) +
                         " key cannot receive an encrypted key (RSA or EC only)");
  }
  ENROLL_TRY(int cipher_nid, pki::chooseContentCipher(asked));
  return std::optional<EnrollmentService::KeyEncryption>(
      EnrollmentService::KeyEncryption{recipient, cipher_nid});
}

pki::Result<EnrollmentResult> EnrollmentService::enroll(const EnrollmentRequest& request) {
  auto all = labels();
  auto it = all->find(request.label);
  if (it == all->end())
    return makeError(ErrorCode::kNotFound, "unknown label '" + request.label + "'");
  const Label& label = it->second;
  if (request.operation == Operation::kServerKeyGen && !label.server_keygen) {
    return makeError(ErrorCode::kPermissionDenied,
                     "server key generation is not enabled on this label");
  }

  ENROLL_TRY(provisioning::Identity identity,
             authorizer_.authorize(request, label.policy, label.ca->chain()));
  // RFC 7030 4.2.2 (and RFC 9148, which reuses it) asks EST re-enrollments to keep the names.
  // SCEP (RFC 8894 3.3.1.2) has no such rule: there the profile alone decides the names.
  if (request.operation == Operation::kReEnroll && identity.current &&
      request.protocol != enrollment::Protocol::kScep) {
    ENROLL_CHECK(checkSameNames(request.csr, *identity.current));
  }

  std::optional<KeyEncryption> encryption;
  if (request.operation == Operation::kServerKeyGen) {
    ENROLL_TRY(encryption, keyEncryptionFor(request, identity));
  }

  std::string pending_id;
  if (label.manual_approval &&
      identity.method != provisioning::AuthMethod::kOperationalCertificate) {
    auto held = hold(label, request, identity, &pending_id);
    if (!held || held->status == EnrollmentResult::Status::kPending || held->certificate)
      return held;
  }
  return issue(label, request, identity, pending_id, encryption);
}

pki::Result<EnrollmentResult> EnrollmentService::hold(const Label& label,
                                                      const EnrollmentRequest& request,
                                                      const provisioning::Identity& identity,
                                                      std::string* pending_id) {
  // The same CSR public key on the same label is the same request (RFC 7030 4.2.3: the client
  // repeats the request after Retry-After).
  const std::string key = pki::hexEncode(pki::sha256(request.csr.publicKeyDer()));
  std::string id = (label.name.empty() ? "default" : label.name) + "/" + key;
  *pending_id = id;
  const store::TransactionGuard guard = guardOf(request, key, clock_.now());
  EnrollmentResult pending;
  pending.status = EnrollmentResult::Status::kPending;
  pending.retry_after_seconds = label.retry_after_seconds;
  pending.device_id = identity.device_id;

  auto existing = store_.findPending(id);
  if (!existing) {
    if (existing.error().code != ErrorCode::kNotFound) return std::move(existing).error();
    store::PendingRecord record;
    record.id = id;
    record.label = label.name;
    record.device_id = identity.device_id;
    record.transaction_id = key;
    record.csr_der = request.csr.toDer();
    record.created_at = guard.at;
    // The guard (SCEP: nonce and transactionID binding, by which CertPoll finds the request)
    // is committed with the held request, in one transaction.
    auto inserted = store_.commitPending(record, guard);
    if (!inserted && inserted.error().code != ErrorCode::kAlreadyExists)
      return std::move(inserted).error();
    return pending;
  }
  switch (existing->state) {
    case store::PendingRecord::State::kPending:
      // Asked again, maybe under a new transactionID: bind that one too, so that it polls.
      if (!guard.empty()) ENROLL_CHECK(store_.commitTransactionGuard(guard));
      return pending;
    case store::PendingRecord::State::kRejected:
      return makeError(ErrorCode::kPermissionDenied, "the request was rejected by an operator");
    case store::PendingRecord::State::kApproved: {
      EnrollmentResult go_on;  // status kIssued without a certificate: the caller issues now
      return go_on;
    }
    case store::PendingRecord::State::kIssued: {
      if (request.operation == Operation::kServerKeyGen) {
        // The key went back with the certificate and was never kept: it cannot be sent again.
        return makeError(ErrorCode::kAlreadyExists,
                         "the key made for this request was delivered already and is not kept; "
                         "send a new request with a new CSR key");
      }
      ENROLL_TRY(store::CertificateRecord record, store_.findCertificate(existing->serial));
      ENROLL_TRY(pki::Certificate cert, pki::Certificate::fromDer(record.der));
      EnrollmentResult done;
      done.certificate = cert;
      done.ca_chain = label.ca->chain();
      done.device_id = record.device_id;
      return done;
    }
  }
  return pending;
}

pki::Result<EnrollmentResult> EnrollmentService::issue(
    const Label& label, const EnrollmentRequest& request, const provisioning::Identity& identity,
    const std::string& pending_id, const std::optional<KeyEncryption>& encryption) {
  TemplateValues values = valuesFor(identity, label.name);
  std::optional<pki::PrivateKey> server_key;
  EVP_PKEY* subject_key = request.csr.publicKey();
  if (request.operation == Operation::kServerKeyGen) {
    // RFC 7030 4.4.1: the CSR carries the names; its key is the client's throwaway key.
    ENROLL_TRY(pki::PrivateKey key, pki::PrivateKey::generate(
                                        request.server_key_type.value_or(label.server_keygen_key)));
    server_key = std::move(key);
    subject_key = server_key->native();
    ENROLL_CHECK(checkKey(label.profile, subject_key));
  }
  ENROLL_TRY(IssuedNames names, checkRequest(label.profile, request.csr, values));
  std::time_t now = clock_.now();
  // RFC 7030 4.4.2: sealed before the certificate is made, so a failure leaves nothing issued.
  std::optional<pki::Bytes> encrypted_key;
  if (encryption && server_key) {
    ENROLL_TRY(pki::Bytes sealed, label.ca->protectServerKey(*server_key, encryption->recipient,
                                                             encryption->cipher_nid, now));
    encrypted_key = std::move(sealed);
  }

  for (int attempt = 0;; ++attempt) {
    ENROLL_TRY(auto serial, serials_.next());
    ENROLL_TRY(pki::Certificate cert,
               label.ca->issue(subject_key, names, label.profile, serial.get(), now));

    store::Issuance issuance;
    auto& rec = issuance.certificate;
    rec.serial = cert.serialHex();
    rec.issuer = label.ca->name();
    rec.device_id = identity.device_id;
    rec.label = label.name;
    rec.profile = label.profile.name;
    rec.protocol = std::string(enrollment::protocolName(request.protocol));
    rec.subject = cert.subject();
    rec.not_before = cert.notBefore();
    rec.not_after = cert.notAfter();
    rec.issued_at = now;
    rec.public_key_sha256 = cert.publicKeyFingerprint();
    rec.bootstrap_fingerprint = identity.bootstrap_fingerprint;
    rec.bootstrap_ca = identity.bootstrap_ca;
    rec.station = identity.station;
    rec.der = cert.toDer();
    issuance.event = store::EnrollmentEvent{
        now,
        rec.protocol,
        label.name,
        std::string(enrollment::operationName(request.operation)),
        identity.device_id,
        request.credentials.peer_address,
        "issued",
        rec.serial,
        identity.station.empty() ? provisioning::authMethodName(identity.method)
                                 : "station:" + identity.station};
    issuance.pending_id = pending_id;
    issuance.token_hash = identity.token_hash;
    issuance.guard = guardOf(request, {}, now);
    auto committed = store_.commitIssuance(issuance);
    if (!committed) {
      // A serial collision (2^-126 per pair) is retried with a fresh serial; anything else fails.
      if (committed.error().code == ErrorCode::kAlreadyExists && attempt < 3) continue;
      return std::move(committed).error();
    }
    EnrollmentResult result;
    result.status = EnrollmentResult::Status::kIssued;
    result.certificate = std::move(cert);
    result.ca_chain = label.ca->chain();
    if (encrypted_key) {
      result.encrypted_server_key = std::move(encrypted_key);
    } else {
      result.server_key = std::move(server_key);
    }
    result.device_id = identity.device_id;
    return result;
  }
}

}  // namespace enroll::ca
