#include "server/transport/tls_context.h"

#include <openssl/ssl.h>

#include <mutex>
#include <unordered_map>

namespace enroll::transport {

namespace {

std::mutex g_mu;
std::unordered_map<int, HandshakeInfo> g_handshakes;

/** Accepts any client certificate in the handshake; the Authorizer verifies it per label. */
int acceptAnyClientCertificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

/** Records the peer chain and channel binding when a handshake completes. No exception escapes. */
void onTlsInfo(const SSL* ssl, int where, int /*ret*/) noexcept {
  if (!(where & SSL_CB_HANDSHAKE_DONE)) return;
  try {
    HandshakeInfo info;
    if (X509* leaf = SSL_get0_peer_certificate(ssl)) {
      info.peer_chain.push_back(pki::Certificate::share(leaf));
      STACK_OF(X509)* rest = SSL_get_peer_cert_chain(ssl);  // server side: without the leaf
      for (int i = 0; rest && i < sk_X509_num(rest); ++i) {
        X509* c = sk_X509_value(rest, i);
        if (X509_cmp(c, leaf) != 0) info.peer_chain.push_back(pki::Certificate::share(c));
      }
    }
    info.protocol = SSL_get_version(ssl);
    if (SSL_version(ssl) >= TLS1_3_VERSION) {
      // RFC 9266: tls-exporter, 32 bytes, label "EXPORTER-Channel-Binding", no context.
      info.channel_binding.resize(32);
      if (SSL_export_keying_material(const_cast<SSL*>(ssl), info.channel_binding.data(), 32,
                                     "EXPORTER-Channel-Binding", 24, nullptr, 0, 0) == 1) {
        info.channel_binding_type = "tls-exporter";
      } else {
        info.channel_binding.clear();
      }
    } else {
      // RFC 5929 3.1: tls-unique is the first Finished of the latest handshake: the client's on
      // a full handshake, the server's on a resumed one.
      unsigned char buf[EVP_MAX_MD_SIZE];
      size_t n = SSL_session_reused(const_cast<SSL*>(ssl))
                     ? SSL_get_finished(ssl, buf, sizeof buf)
                     : SSL_get_peer_finished(ssl, buf, sizeof buf);
      info.channel_binding.assign(buf, buf + n);
      info.channel_binding_type = "tls-unique";
    }
    int fd = SSL_get_fd(ssl);
    std::lock_guard<std::mutex> lock(g_mu);
    g_handshakes[fd] = std::move(info);
  } catch (...) {
    // Out of memory at worst: the handler then sees no client certificate and refuses.
  }
}

}  // namespace

HandshakeInfo handshakeOf(int fd) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_handshakes.find(fd);
  return it == g_handshakes.end() ? HandshakeInfo{} : it->second;
}

Poco::Net::Context::Ptr makeServerContext(const TlsSettings& settings) {
  Poco::Net::Context::Params params;
  params.certificateFile = settings.certificate_file;
  params.privateKeyFile = settings.key_file;
  params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
  params.loadDefaultCAs = false;
  params.cipherList = "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:!aNULL:!SHA1:!MD5";
  Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
  // LIBRARY-NOTES: extended verification would match client names against client IPs.
  ctx->enableExtendedCertificateVerification(false);
  // LIBRARY-NOTES: without a session id context, resuming clients get an internal-error alert.
  ctx->enableSessionCache(true, "enrolld");
  ctx->setSessionCacheSize(settings.session_cache_size);
  ctx->requireMinimumProtocol(settings.min_version == "1.3" ? Poco::Net::Context::PROTO_TLSV1_3
                                                            : Poco::Net::Context::PROTO_TLSV1_2);
  SSL_CTX* ssl_ctx = ctx->sslContext();
  SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, acceptAnyClientCertificate);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (const auto& c : settings.client_ca_names) {
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(c.native())));
  }
  SSL_CTX_set_client_CA_list(ssl_ctx, names);
  SSL_CTX_set_info_callback(ssl_ctx, onTlsInfo);
  return ctx;
}

}  // namespace enroll::transport
