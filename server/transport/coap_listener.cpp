#include "server/transport/coap_listener.h"

#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <coap3/coap.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "pki/private_key.h"
#include "server/transport/http_listener.h"
#include "server/transport/http_util.h"
#include "server/transport/request_log.h"

namespace enroll::transport {

/** RFC 7252 4.8.2: EXCHANGE_LIFETIME with the default transmission parameters (247 s). */
constexpr std::chrono::seconds kExchangeLifetime{247};
/** Replies kept for duplicates; the oldest go first when full. */
constexpr size_t kMaxKeptReplies = 4096;
/** DTLS sessions kept for resumption (each holds the device's certificate). */
constexpr long kSessionCacheSize = 1024;

/** A Block1 upload libcoap left to us (see handleEst), by session and path. */
struct PartialBody {
  pki::Bytes bytes;
  unsigned next_num = 0;
};

struct CoapListener::Impl {
  Impl(const est::EstCoapsService& s, CoapSettings st) : service(s), settings(std::move(st)) {}
  const est::EstCoapsService& service;
  CoapSettings settings;
  coap_context_t* ctx = nullptr;
  /**
   * The DTLS identity, parsed once at start. libcoap would decode a configured certificate and
   * key again for every ClientHello, so it is given none; setupServerSsl sets these objects on
   * each session by reference, with the chain, and the CA names once on the SSL_CTX.
   */
  std::optional<pki::Certificate> leaf;
  std::optional<pki::PrivateKey> key;
  std::vector<pki::Certificate> chain;  ///< the intermediates after the leaf
  bool ctx_ready = false;               ///< I/O thread only: CA names set on the SSL_CTX
  std::mutex well_known_mu;             ///< setLabels (the reload thread) against the I/O thread
  std::string well_known;
  // Only the I/O thread touches these.
  std::map<std::pair<const coap_session_t*, std::string>, PartialBody> partial;
  struct Kept {
    est::CoapsResponse response;
    std::optional<unsigned> block1;
    bool from_service = false;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Kept> replies;

  // Enrollment workers (settings.enrollment_threads): jobs in, results out, eventfd to wake the
  // I/O thread. Everything else stays on the I/O thread (libcoap is not thread-safe).
  struct Job {
    uint64_t id = 0;
    est::CoapsRequest request;
  };
  struct Done {
    uint64_t id = 0;
    est::CoapsResponse response;
  };
  /** An enrollment in flight: its session is referenced until the separate response is sent. */
  struct InFlight {
    coap_session_t* session = nullptr;
    pki::Bytes token;
    std::string dedup_key;
    std::chrono::steady_clock::time_point start;
    size_t bytes_in = 0;
    std::optional<est::CoapsResponse> response;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;
  std::deque<Done> done;
  bool workers_stop = false;
  std::vector<std::thread> workers;
  int wake_fd = -1;
  uint64_t next_id = 1;
  std::map<uint64_t, InFlight> in_flight;   // I/O thread only
  std::vector<coap_session_t*> to_release;  // I/O thread only: references to drop
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> reply_order;

  template <typename ReplyT>
  void rememberReply(const std::string& key, const ReplyT& reply,
                     std::chrono::steady_clock::time_point now) {
    while (replies.size() >= kMaxKeptReplies && !reply_order.empty()) {
      auto it = replies.find(reply_order.front().second);
      if (it != replies.end()) {
        OPENSSL_cleanse(it->second.response.body.data(), it->second.response.body.size());
        replies.erase(it);
      }
      reply_order.pop_front();
    }
    auto expires = now + kExchangeLifetime;
    replies[key] = Kept{reply.r, reply.block1, reply.from_service, expires};
    reply_order.emplace_back(expires, key);
  }
  void expireReplies(std::chrono::steady_clock::time_point now) {
    while (!reply_order.empty() && reply_order.front().first <= now) {
      auto it = replies.find(reply_order.front().second);
      if (it != replies.end() && it->second.expires <= now) {
        OPENSSL_cleanse(it->second.response.body.data(), it->second.response.body.size());
        replies.erase(it);
      }
      reply_order.pop_front();
    }
  }
};

namespace {

using Impl = CoapListener::Impl;

/**
 * The handshake asks for a client certificate but accepts any: the Authorizer checks the chain
 * per label, exactly as on HTTPS, so that a refused device gets 4.01/4.03 with a reason.
 */
int acceptAnyCertificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) noexcept { return 1; }

/** libcoap's hook after its own setup of each server SSL (ClientHello time). */
int setupServerSsl(void* tls_session, coap_dtls_pki_t* setup_data) noexcept {
  try {
    auto* ssl = static_cast<SSL*>(tls_session);
    auto* impl = static_cast<Impl*>(setup_data->cn_call_back_arg);
    if (ssl == nullptr || impl == nullptr) return 1;
    SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, acceptAnyCertificate);
    // The identity by reference, parsed once at start (see create: libcoap is given none).
    if (SSL_use_certificate(ssl, impl->leaf->native()) != 1 ||
        SSL_use_PrivateKey(ssl, impl->key->native()) != 1) {
      pki::drainOpensslErrors();
      return 0;
    }
    // Send the issuing CA too (a reference, nothing parsed).
    for (const auto& ca : impl->chain) {
      if (SSL_add1_chain_cert(ssl, ca.native()) != 1) {
        pki::drainOpensslErrors();
        return 0;
      }
    }
    // No session tickets: making one serialises the session with the device's certificate and
    // parses it back (OpenSSL 3.0), on every handshake, for devices that mostly enroll once.
    // Resumption by session ID still works, from the bounded cache below; it needs a session
    // ID context, or OpenSSL refuses a resuming client that was asked for a certificate.
    SSL_set_options(ssl, SSL_OP_NO_TICKET);
    static constexpr unsigned char kSessionContext[] = "enrolld-coaps";
    SSL_set_session_id_context(ssl, kSessionContext, sizeof kSessionContext - 1);
    // The CA names of the CertificateRequest, once on the shared SSL_CTX (every SSL without a
    // list of its own uses the context's) instead of copying them into each session.
    if (!impl->ctx_ready) {
      SSL_CTX_sess_set_cache_size(SSL_get_SSL_CTX(ssl), kSessionCacheSize);
      STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
      for (const auto& ca : impl->settings.client_ca_names) {
        if (X509_NAME* n = X509_NAME_dup(X509_get_subject_name(ca.native())))
          sk_X509_NAME_push(names, n);
      }
      SSL_CTX_set_client_CA_list(SSL_get_SSL_CTX(ssl), names);
      impl->ctx_ready = true;
    }
    return 1;
  } catch (...) {
    return 0;
  }
}

std::optional<uint16_t> uintOption(const coap_pdu_t* pdu, coap_option_num_t number) {
  coap_opt_iterator_t it;
  coap_opt_t* opt = coap_check_option(pdu, number, &it);
  if (opt == nullptr) return std::nullopt;
  if (coap_opt_length(opt) > 2) return uint16_t{0xffff};  // not a format we know
  return static_cast<uint16_t>(coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt)));
}

void addUintOption(coap_pdu_t* pdu, coap_option_num_t number, uint32_t value) {
  uint8_t buf[4];
  coap_add_option(pdu, number, coap_encode_var_safe(buf, sizeof(buf), value), buf);
}

void releaseBody(coap_session_t* /*session*/, void* app_ptr) noexcept {
  auto* body = static_cast<pki::Bytes*>(app_ptr);
  // skg responses carry a private key: wipe it when libcoap is done with the Block2 transfer.
  OPENSSL_cleanse(body->data(), body->size());
  delete body;
}

enrollment::PeerCredentials peerOf(coap_session_t* session) {
  enrollment::PeerCredentials c;
  char addr[INET6_ADDRSTRLEN + 16] = {};
  if (const coap_address_t* remote = coap_session_get_addr_remote(session))
    coap_print_addr(remote, reinterpret_cast<unsigned char*>(addr), sizeof(addr) - 1);
  c.peer_address = addr;
  coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
  auto* ssl = static_cast<SSL*>(coap_session_get_tls(session, &lib));
  if (ssl == nullptr || lib != COAP_TLS_LIBRARY_OPENSSL) return c;
  // RFC 9148 3 (RFC 7030 3.5 over DTLS): a CSR may prove it was made for this session by
  // carrying tls-unique in its challengePassword; the Authorizer compares them, as on HTTPS.
  // RFC 5929 3.1: tls-unique is the first Finished of the latest handshake, the client's on a
  // full handshake and the server's own on a resumed one. (OpenSSL 3.0 has no DTLS 1.3, for
  // which RFC 9266 tls-exporter would apply.)
  if (SSL_is_init_finished(ssl)) {
    unsigned char finished[EVP_MAX_MD_SIZE];
    size_t n = SSL_session_reused(ssl) ? SSL_get_finished(ssl, finished, sizeof finished)
                                       : SSL_get_peer_finished(ssl, finished, sizeof finished);
    if (n > 0) {
      c.channel_binding.assign(finished, finished + n);
      c.channel_binding_type = "tls-unique";
    }
  }
  if (X509* leaf = SSL_get1_peer_certificate(ssl)) {
    c.tls_chain.push_back(pki::Certificate::adopt(pki::UniquePtr<X509>(leaf)));
    // On a server the peer chain holds only the intermediates the client sent.
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        X509* x = sk_X509_value(chain, i);
        if (X509_cmp(x, leaf) != 0) c.tls_chain.push_back(pki::Certificate::share(x));
      }
    }
  }
  return c;
}

/** Writes r into the response PDU; bodies with a Content-Format go out with Block2 if needed. */
void writeResponse(est::CoapsResponse& r, coap_resource_t* resource, coap_session_t* session,
                   const coap_pdu_t* request, coap_pdu_t* response, const coap_string_t* query) {
  coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(r.code)));
  if (r.size1) addUintOption(response, COAP_OPTION_SIZE1, *r.size1);
  if (r.content_format) {
    auto* body = new pki::Bytes(std::move(r.body));
    // RFC 7959: libcoap keeps this body and answers Block2 follow-ups (GET, or POST without
    // payload as coap-client sends them) from it, without calling the handler again.
    if (!coap_add_data_large_response(resource, session, request, response, query,
                                      *r.content_format, r.max_age ? int(*r.max_age) : -1, 0,
                                      body->size(), body->data(), releaseBody, body)) {
      coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(500)));
    }
    return;
  }
  if (r.max_age) addUintOption(response, COAP_OPTION_MAXAGE, *r.max_age);
  if (!r.body.empty()) coap_add_data(response, r.body.size(), r.body.data());
}

constexpr size_t kMaxPartialBodies = 1024;

Impl* implOf(coap_session_t* session) {
  return static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
}

/** A response as the transport sends it: the service's answer plus a Block1 echo for 2.31. */
struct Reply {
  est::CoapsResponse r;
  std::optional<unsigned> block1;
  bool from_service = false;
  bool needs_service = false;  ///< answer(..., false): req is ready for the service
};

Reply incomplete(std::string_view why) {
  Reply reply;
  reply.r.code = 408;  // RFC 7959 2.9.2: Request Entity Incomplete
  reply.r.body.assign(why.begin(), why.end());
  reply.r.outcome = std::string(why);
  return reply;
}

/** Decodes the request, reassembles Block1 when libcoap did not, and calls the service. */
Reply answer(Impl& impl, coap_session_t* session, const coap_pdu_t* request, est::CoapsRequest& req,
             bool call_service) {
  coap_pdu_code_t code = coap_pdu_get_code(request);
  req.method = code == COAP_REQUEST_CODE_GET    ? est::CoapMethod::kGet
               : code == COAP_REQUEST_CODE_POST ? est::CoapMethod::kPost
                                                : est::CoapMethod::kOther;
  req.content_format = uintOption(request, COAP_OPTION_CONTENT_FORMAT);
  req.accept = uintOption(request, COAP_OPTION_ACCEPT);
  size_t len = 0, offset = 0, total = 0;
  const uint8_t* data = nullptr;
  // COAP_BLOCK_SINGLE_BODY: the whole (reassembled) body in one piece.
  if (coap_get_data_large(request, &len, &data, &offset, &total) && data != nullptr)
    req.body.assign(data, data + len);
  // libcoap 4.3.1 reassembles Block1 only when the first block carries Size1 (as coap-client
  // sends it). Otherwise each block reaches us with the Block1 option still on: reassemble here,
  // in order, and never hand a part of a body to the service (RFC 7959 2.3: 4.08 otherwise).
  coap_opt_iterator_t block_it;
  coap_opt_t* block_opt = coap_check_option(request, COAP_OPTION_BLOCK1, &block_it);
  if (block_opt != nullptr && (offset != 0 || total != len))
    return incomplete("Block1 out of order: start again with block 0");
  if (block_opt != nullptr) {
    unsigned v = coap_decode_var_bytes(coap_opt_value(block_opt), coap_opt_length(block_opt));
    unsigned num = v >> 4, more = (v >> 3) & 1, szx = v & 7;
    auto key = std::make_pair(static_cast<const coap_session_t*>(session), req.path);
    if (num == 0) impl.partial.erase(key);
    auto it = impl.partial.find(key);
    if (num != 0 && (it == impl.partial.end() || it->second.next_num != num)) {
      impl.partial.erase(key);
      return incomplete("Block1 out of order: start again with block 0");
    }
    if (more && (szx == 7 || len != (size_t{16} << szx))) {
      impl.partial.erase(key);
      return incomplete("Block1 block size does not match SZX");
    }
    if (it == impl.partial.end()) {
      if (impl.partial.size() >= kMaxPartialBodies) impl.partial.erase(impl.partial.begin());
      it = impl.partial.emplace(key, PartialBody{}).first;
    }
    it->second.bytes.insert(it->second.bytes.end(), req.body.begin(), req.body.end());
    it->second.next_num = num + 1;
    if (more && it->second.bytes.size() <= impl.service.options().max_body_bytes) {
      Reply reply;
      reply.r.code = 231;  // RFC 7959 2.3: 2.31 Continue, echoing Block1
      reply.r.outcome = "continue";
      reply.block1 = v;
      return reply;
    }
    // The last block, or a body already above the limit (the service answers 4.13 with Size1).
    req.body = std::move(it->second.bytes);
    impl.partial.erase(it);
  }
  req.credentials = peerOf(session);
  Reply reply;
  // A body we reassembled ourselves is answered inline: libcoap 4.3.1 replays a triggered async
  // request with its Block1 option and would take it for a new block-wise transfer.
  if (!call_service && block_opt == nullptr) {
    reply.needs_service = true;
    return reply;
  }
  reply.r = impl.service.handle(req);
  reply.from_service = true;
  return reply;
}

void logReply(const est::CoapsResponse& r, const std::string& method, const std::string& path,
              const std::string& peer, const std::string& outcome, size_t bytes_in,
              std::chrono::steady_clock::time_point start) {
  logLine({{"protocol", "est-coaps"},
           {"method", method},
           {"path", "/" + path.substr(0, 200)},
           {"label", r.label.empty() ? "default" : r.label},
           {"operation", r.operation},
           {"peer", peer},
           {"device", r.device_id},
           {"status", est::coapCodeString(r.code)},
           {"outcome", outcome},
           {"serial", r.serial},
           {"bytes_in", std::to_string(bytes_in)},
           {"latency_ms", millisecondsSince(start)}});
}

std::string peerString(coap_session_t* session) {
  char peer[INET6_ADDRSTRLEN + 16] = {};
  if (const coap_address_t* remote = coap_session_get_addr_remote(session))
    coap_print_addr(remote, reinterpret_cast<unsigned char*>(peer), sizeof(peer) - 1);
  return peer;
}

/** The method of a request as the log names it (RFC 7252 12.1.1, RFC 8132). */
const char* methodName(coap_pdu_code_t code) {
  switch (code) {
    case COAP_REQUEST_CODE_GET:
      return "GET";
    case COAP_REQUEST_CODE_POST:
      return "POST";
    case COAP_REQUEST_CODE_PUT:
      return "PUT";
    case COAP_REQUEST_CODE_DELETE:
      return "DELETE";
    case COAP_REQUEST_CODE_FETCH:
      return "FETCH";
    case COAP_REQUEST_CODE_PATCH:
      return "PATCH";
    case COAP_REQUEST_CODE_IPATCH:
      return "iPATCH";
    default:
      return "other";
  }
}

/**
 * What a handler answers when something threw (out of memory at worst): 5.00 with a diagnostic
 * payload, and a log line. Never throws itself.
 */
void internalError(coap_pdu_t* response, const char* what) noexcept {
  coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(500)));
  static constexpr char kText[] = "internal error";
  coap_add_data(response, sizeof kText - 1, reinterpret_cast<const uint8_t*>(kText));
  try {
    logLine({{"protocol", "est-coaps"},
             {"status", "5.00"},
             {"outcome", "internal error"},
             {"while", what}});
  } catch (...) {
    // Nothing left to report with.
  }
}

/**
 * The handler runs again for an enrollment handed to a worker: either libcoap's trigger once
 * the result is in (send the separate response), or a repeat of the request while it runs
 * (nothing to send: libcoap answers a CON with an empty ACK). True when it was one of these.
 */
bool answerInFlight(Impl& impl, coap_resource_t* resource, coap_session_t* session,
                    const coap_pdu_t* request, coap_pdu_t* response, const coap_string_t* query) {
  coap_async_t* async = coap_find_async(session, coap_pdu_get_token(request));
  if (async == nullptr) return false;
  auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(coap_async_get_app_data(async)));
  auto it = impl.in_flight.find(id);
  if (it == impl.in_flight.end() || !it->second.response) return true;
  Impl::InFlight& f = it->second;
  Reply reply;
  reply.r = std::move(*f.response);
  reply.from_service = true;
  impl.rememberReply(f.dedup_key, reply, std::chrono::steady_clock::now());
  est::CoapsResponse logged = reply.r;
  logged.body.clear();
  writeResponse(reply.r, resource, session, request, response, query);
  logReply(logged, "POST", logged.operation.empty() ? "" : "est/" + logged.operation,
           peerString(session), logged.outcome + " (separate response)", f.bytes_in, f.start);
  impl.to_release.push_back(f.session);
  impl.in_flight.erase(it);
  // libcoap removes the async itself once this triggered request is answered.
  return true;
}

void handleEst(coap_resource_t* resource, coap_session_t* session, const coap_pdu_t* request,
               const coap_string_t* query, coap_pdu_t* response) noexcept {
  auto start = std::chrono::steady_clock::now();
  try {
    Impl& impl = *implOf(session);
    est::CoapsRequest req;
    if (coap_string_t* path = coap_get_uri_path(request)) {
      req.path.assign(reinterpret_cast<const char*>(path->s), path->length);
      coap_delete_string(path);
    }
    const bool workers = !impl.workers.empty();
    if (workers && answerInFlight(impl, resource, session, request, response, query)) return;
    // RFC 7252 4.5: a duplicate (same peer, same message ID within EXCHANGE_LIFETIME) gets the
    // same answer again and is not processed twice. libcoap 4.3.1 runs the handler again for a
    // confirmable request repeated after its ACK went out, so the replies are kept here.
    const std::string peer = peerString(session);
    const std::string dedup_key = peer + "#" + std::to_string(coap_pdu_get_mid(request)) + "#" +
                                  std::to_string(reinterpret_cast<uintptr_t>(session));
    impl.expireReplies(std::chrono::steady_clock::now());
    Reply reply;
    bool duplicate = false;
    if (auto it = impl.replies.find(dedup_key); it != impl.replies.end()) {
      reply.r = it->second.response;
      reply.block1 = it->second.block1;
      reply.from_service = it->second.from_service;
      duplicate = true;
    } else {
      const bool post = coap_pdu_get_code(request) == COAP_REQUEST_CODE_POST;
      reply = answer(impl, session, request, req, !(workers && post));
      if (reply.needs_service) {
        // Enrollment off the I/O thread: empty ACK now, separate response when done.
        coap_async_t* async = coap_register_async(session, request, 0);
        if (async == nullptr) {
          reply.r = impl.service.handle(req);
          reply.from_service = true;
        } else {
          uint64_t id = impl.next_id++;
          // The id is an opaque tag, never dereferenced.
          coap_async_set_app_data(async,
                                  reinterpret_cast<void*>(  // NOLINT(performance-no-int-to-ptr)
                                      static_cast<uintptr_t>(id)));
          coap_bin_const_t token = coap_pdu_get_token(request);
          Impl::InFlight f;
          f.session = coap_session_reference(session);
          f.token.assign(token.s, token.s + token.length);
          f.dedup_key = dedup_key;
          f.start = start;
          f.bytes_in = req.body.size();
          impl.in_flight.emplace(id, std::move(f));
          {
            std::lock_guard<std::mutex> lock(impl.mu);
            impl.jobs.push_back(Impl::Job{id, std::move(req)});
          }
          impl.cv.notify_one();
          return;  // no response code: libcoap sends an empty ACK for a CON
        }
      }
      impl.rememberReply(dedup_key, reply, std::chrono::steady_clock::now());
    }
    std::string outcome =
        duplicate ? "duplicate (answered again): " + reply.r.outcome : reply.r.outcome;
    est::CoapsResponse logged = reply.r;
    logged.body.clear();
    bool log = reply.from_service || reply.r.code == 408;
    if (reply.block1) addUintOption(response, COAP_OPTION_BLOCK1, *reply.block1);
    writeResponse(reply.r, resource, session, request, response, query);
    if (!log) return;
    logReply(logged, methodName(coap_pdu_get_code(request)), req.path, peer, outcome,
             req.body.size(), start);
  } catch (...) {
    internalError(response, "est-coaps request");
  }
}

void handleWellKnown(coap_resource_t* resource, coap_session_t* session, const coap_pdu_t* request,
                     const coap_string_t* query, coap_pdu_t* response) noexcept {
  try {
    Impl* impl = implOf(session);
    est::CoapsResponse r;
    r.content_format = 40;  // application/link-format (RFC 6690)
    {
      std::lock_guard<std::mutex> lock(impl->well_known_mu);
      r.body.assign(impl->well_known.begin(), impl->well_known.end());
    }
    writeResponse(r, resource, session, request, response, query);
  } catch (...) {
    internalError(response, "/.well-known/core");
  }
}

/**
 * Every method goes to handleEst, which lets the service answer what EST-coaps does not serve
 * (4.05 with a diagnostic and a log line) instead of libcoap's bare 4.05.
 */
void registerAllMethods(coap_resource_t* r) {
  for (coap_request_t method :
       {COAP_REQUEST_GET, COAP_REQUEST_POST, COAP_REQUEST_PUT, COAP_REQUEST_DELETE,
        COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH})
    coap_register_handler(r, method, handleEst);
}

/** What libcoap's per-session setup says on every handshake by design (see create). */
constexpr std::string_view kExpectedLibcoapError = "No Server Certificate defined";

/** libcoap's own messages as log lines, but the expected one above. Never throws. */
void libcoapLog(coap_log_t level, const char* message) noexcept {
  try {
    std::string_view text = message != nullptr ? message : "";
    if (text.find(kExpectedLibcoapError) != std::string_view::npos) return;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    logLine(
        {{"event", "libcoap"}, {"level", std::to_string(level)}, {"message", std::string(text)}});
  } catch (...) {
    // A log line lost; nothing else to do from a C callback.
  }
}

void startLibcoapOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    coap_startup();
    coap_set_log_handler(libcoapLog);
    coap_set_log_level(LOG_ERR);
    coap_dtls_set_log_level(LOG_ERR);
  });
}

}  // namespace

CoapListener::CoapListener(const est::EstCoapsService& service, CoapSettings settings)
    : impl_(std::make_unique<Impl>(service, std::move(settings))) {}

pki::Result<std::unique_ptr<CoapListener>> CoapListener::create(const est::EstCoapsService& service,
                                                                const CoapSettings& settings) {
  using pki::ErrorCode;
  startLibcoapOnce();
  if (!coap_dtls_is_supported())
    return pki::makeError(ErrorCode::kUnavailable, "libcoap has no DTLS support");
  std::unique_ptr<CoapListener> l(new CoapListener(service, settings));
  Impl& impl = *l->impl_;
  impl.well_known = est::wellKnownCore(settings.labels);

  std::string host;
  int port = 0;
  try {
    splitHostPort(settings.address, &host, &port);
  } catch (const std::exception& e) {
    return pki::makeError(ErrorCode::kInvalidArgument, "listen.coap: " + settings.address);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    return pki::makeError(ErrorCode::kInvalidArgument, "cannot resolve " + settings.address);
  coap_address_t addr;
  coap_address_init(&addr);
  addr.size = res->ai_addrlen;
  std::memcpy(&addr.addr, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);

  impl.ctx = coap_new_context(nullptr);
  if (impl.ctx == nullptr) return pki::makeError(ErrorCode::kInternal, "coap_new_context failed");
  coap_set_app_data(impl.ctx, &impl);
  coap_context_set_block_mode(impl.ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);

  // The identity, parsed once (see Impl::leaf).
  auto readText = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream all;
    all << in.rdbuf();
    return all.str();
  };
  auto chain = pki::Certificate::chainFromPem(readText(impl.settings.certificate_file));
  if (!chain || chain->empty())
    return pki::makeError(ErrorCode::kInvalidArgument,
                          "cannot read the DTLS certificate " + impl.settings.certificate_file);
  std::string key_pem = readText(impl.settings.key_file);
  auto key = pki::PrivateKey::fromPem(key_pem);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  if (!key)
    return pki::makeError(ErrorCode::kInvalidArgument,
                          "cannot read the DTLS key " + impl.settings.key_file);
  impl.leaf = chain->front();
  impl.chain.assign(chain->begin() + 1, chain->end());
  impl.key = std::move(key).value();

  coap_dtls_pki_t pki;
  std::memset(&pki, 0, sizeof(pki));
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  pki.verify_peer_cert = 1;  // makes libcoap send a CertificateRequest; our hook then accepts all
  pki.check_common_ca = 0;
  pki.allow_self_signed = 1;
  pki.allow_expired_certs = 1;
  pki.cert_chain_validation = 0;
  pki.cn_call_back_arg = &impl;  // carried to setupServerSsl (no CN callback is set)
  pki.additional_tls_setup_call_back = setupServerSsl;
  // No key material for libcoap: it would decode it again for every ClientHello (OpenSSL 3.0's
  // decoders, about 14% of the server's CPU per fresh enrollment). Its per-session setup then
  // stops at "No Server Certificate defined" (a message kLibcoapLog drops), which libcoap 4.3
  // does not treat as fatal, and setupServerSsl sets the parsed identity by reference.
  pki.pki_key.key_type = COAP_PKI_KEY_ASN1;
  if (!coap_context_set_pki(impl.ctx, &pki))
    return pki::makeError(ErrorCode::kInvalidArgument,
                          "cannot use the DTLS certificate " + impl.settings.certificate_file);

  coap_endpoint_t* ep = coap_new_endpoint(impl.ctx, &addr, COAP_PROTO_DTLS);
  if (ep == nullptr)
    return pki::makeError(ErrorCode::kUnavailable, "cannot bind UDP " + settings.address);
  // "127.0.0.1:40123" (the bound port, also with port 0).
  std::string bound = coap_endpoint_str(ep);
  size_t colon = bound.rfind(':');
  l->host_ = host;
  l->port_ = colon == std::string::npos ? port : std::atoi(bound.c_str() + colon + 1);

  // The five resources of the default label, with libcoap's resource directory attributes.
  for (const char* op : {"crts", "sen", "sren", "att", "skg"}) {
    std::string uri = std::string("est/") + op;
    coap_resource_t* r = coap_resource_init(
        coap_new_str_const(reinterpret_cast<const uint8_t*>(uri.data()), uri.size()),
        COAP_RESOURCE_FLAGS_RELEASE_URI);
    registerAllMethods(r);
    coap_add_resource(impl.ctx, r);
  }
  // "/est/<label>/<op>" and anything else: the service parses the path (4.04 when unknown).
  coap_resource_t* unknown = coap_resource_unknown_init2(handleEst, 0);
  registerAllMethods(unknown);
  coap_add_resource(impl.ctx, unknown);
  coap_resource_t* wk = coap_resource_init(coap_make_str_const(".well-known/core"), 0);
  coap_register_handler(wk, COAP_REQUEST_GET, handleWellKnown);
  coap_add_resource(impl.ctx, wk);

  if (settings.enrollment_threads > 0) {
    impl.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (impl.wake_fd < 0) return pki::makeError(ErrorCode::kInternal, "eventfd failed");
    for (int i = 0; i < settings.enrollment_threads; ++i) {
      impl.workers.emplace_back([&impl] {
        for (;;) {
          Impl::Job job;
          {
            std::unique_lock<std::mutex> lock(impl.mu);
            impl.cv.wait(lock, [&] { return impl.workers_stop || !impl.jobs.empty(); });
            if (impl.workers_stop) return;
            job = std::move(impl.jobs.front());
            impl.jobs.pop_front();
          }
          est::CoapsResponse r = impl.service.handle(job.request);  // never throws
          {
            std::lock_guard<std::mutex> lock(impl.mu);
            impl.done.push_back(Impl::Done{job.id, std::move(r)});
          }
          uint64_t one = 1;
          if (write(impl.wake_fd, &one, sizeof(one)) < 0) {
            // The counter is saturated: the I/O thread is awake already.
          }
        }
      });
    }
  }
  l->thread_ = std::thread([raw = l.get()] { raw->run(); });
  return l;
}

CoapListener::~CoapListener() { stop(); }

void CoapListener::setLabels(const std::vector<std::string>& labels) {
  std::string fresh = est::wellKnownCore(labels);
  std::lock_guard<std::mutex> lock(impl_->well_known_mu);
  impl_->settings.labels = labels;
  impl_->well_known = std::move(fresh);
}

void CoapListener::run() {
  Impl& impl = *impl_;
  while (!stopping_.load()) {
    const int coap_fd = coap_context_get_coap_fd(impl.ctx);
    if (impl.wake_fd < 0 || coap_fd < 0) {
      // No way to be woken by a worker: poll often while workers may have results.
      coap_io_process(impl.ctx, impl.wake_fd < 0 ? 100 : 2);
    } else {
      // libcoap's epoll descriptor and the workers' eventfd in one wait, then libcoap does its
      // I/O and timers without waiting (net.h: coap_context_get_coap_fd, COAP_IO_NO_WAIT).
      coap_tick_t now = 0;
      coap_ticks(&now);
      unsigned next = coap_io_prepare_epoll(impl.ctx, now);
      pollfd fds[2] = {{coap_fd, POLLIN, 0}, {impl.wake_fd, POLLIN, 0}};
      poll(fds, 2, next == 0 || next > 100 ? 100 : static_cast<int>(next));
      coap_io_process(impl.ctx, COAP_IO_NO_WAIT);
    }
    uint64_t wakeups = 0;
    while (impl.wake_fd >= 0 && read(impl.wake_fd, &wakeups, sizeof(wakeups)) > 0) {
    }
    for (coap_session_t* s : impl.to_release) coap_session_release(s);
    impl.to_release.clear();
    bool triggered = false;
    std::deque<Impl::Done> finished;
    {
      std::lock_guard<std::mutex> lock(impl.mu);
      finished.swap(impl.done);
    }
    for (auto& d : finished) {
      auto it = impl.in_flight.find(d.id);
      if (it == impl.in_flight.end()) continue;
      it->second.response = std::move(d.response);
      coap_bin_const_t token{it->second.token.size(), it->second.token.data()};
      coap_async_t* async = coap_find_async(it->second.session, token);
      if (async != nullptr) {
        coap_async_trigger(async);  // the handler runs again and sends the separate response
        triggered = true;
      } else {
        // The session went away: the certificate is stored; the device asks again.
        coap_session_release(it->second.session);
        impl.in_flight.erase(it);
      }
    }
    if (triggered) coap_io_process(impl.ctx, COAP_IO_NO_WAIT);
  }
}

void CoapListener::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->workers_stop = true;
  }
  impl_->cv.notify_all();
  for (auto& w : impl_->workers) w.join();
  impl_->workers.clear();
  if (impl_->ctx) {
    for (coap_session_t* s : impl_->to_release) coap_session_release(s);
    impl_->to_release.clear();
    for (auto& [id, f] : impl_->in_flight) coap_session_release(f.session);
    impl_->in_flight.clear();
    coap_free_context(impl_->ctx);
    impl_->ctx = nullptr;
  }
  if (impl_->wake_fd >= 0) {
    close(impl_->wake_fd);
    impl_->wake_fd = -1;
  }
}

}  // namespace enroll::transport
