#pragma once
/**
 * The TLS server context for the HTTPS listeners, set up as LIBRARY-NOTES.md prescribes for
 * POCO 1.11, plus a record of each finished handshake (client chain and channel binding) that
 * handlers look up by socket.
 */
#include <Poco/Net/Context.h>

#include <string>
#include <vector>

#include "pki/certificate.h"
#include "protocols/enrollment/enrollment.h"

namespace enroll::transport {

struct TlsSettings {
  std::string certificate_file;  ///< server certificate followed by its chain (PEM)
  std::string key_file;
  std::string min_version = "1.2";  ///< "1.2" or "1.3"
  /** CA names to advertise in the CertificateRequest (bootstrap anchors and our CAs). */
  std::vector<pki::Certificate> client_ca_names;
  /** TLS sessions kept for resumption (OpenSSL's default of 20,480 grows RSS by ~6 KB each). */
  size_t session_cache_size = 1024;
};

/**
 * Builds the server Context. Client certificates are requested but checked by the Authorizer,
 * not by the handshake, so that a refused device gets an HTTP status with a reason instead of a
 * TLS alert. Throws Poco::Exception on bad files (start-up only).
 */
Poco::Net::Context::Ptr makeServerContext(const TlsSettings& settings);

/** What the handshake of one connection established. */
struct HandshakeInfo {
  std::vector<pki::Certificate> peer_chain;  ///< client certificate first
  pki::Bytes channel_binding;
  std::string channel_binding_type;  ///< "tls-unique" or "tls-exporter"
  std::string protocol;              ///< "TLSv1.2", "TLSv1.3"
};

/** The handshake record of the connection on socket fd (empty if none). */
HandshakeInfo handshakeOf(int fd);

}  // namespace enroll::transport
