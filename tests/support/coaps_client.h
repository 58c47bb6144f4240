#pragma once
/**
 * A libcoap 3 (OpenSSL) DTLS client for EST-coaps, shared by the wire tests
 * (tests/integration/coaps_retransmission_test.cpp) and the load tool (bench/coaps_load.cpp).
 * Header-only, on libcoap and OpenSSL alone, so that bench/ still builds without anything of
 * enrolld. The server's certificate is not checked: these peers test the server, not themselves.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <coap3/coap.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace enroll::coaps_client {

/** coap_startup() once per process, with libcoap's logging cut to errors. */
inline void startLibcoap() {
  static std::once_flag once;
  std::call_once(once, [] {
    coap_startup();
    coap_set_log_level(LOG_ERR);
    coap_dtls_set_log_level(LOG_ERR);
  });
}

/** A DTLS session to 127.0.0.1:port with a client identity pki.pki_key (filled by the caller). */
inline coap_session_t* openLoopbackSession(coap_context_t* ctx, int port, coap_dtls_pki_t pki) {
  coap_address_t dst;
  coap_address_init(&dst);
  dst.size = sizeof(sockaddr_in);
  dst.addr.sin.sin_family = AF_INET;
  dst.addr.sin.sin_port = htons(static_cast<uint16_t>(port));
  dst.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  static char sni[] = "localhost";
  pki.version = COAP_DTLS_PKI_SETUP_VERSION;
  pki.verify_peer_cert = 0;
  pki.client_sni = sni;
  return coap_new_client_session_pki(ctx, nullptr, &dst, COAP_PROTO_DTLS, &pki);
}

/**
 * A DTLS 1.2 client session to 127.0.0.1:port with a PEM certificate and key (SNI "localhost",
 * as coap-client sends it). The handshake starts with the first request. Null on failure.
 */
inline coap_session_t* openSession(coap_context_t* ctx, int port, const std::string& cert_file,
                                   const std::string& key_file) {
  coap_dtls_pki_t pki;
  std::memset(&pki, 0, sizeof(pki));
  pki.pki_key.key_type = COAP_PKI_KEY_PEM;
  // libcoap copies nothing: the strings must outlive the session (callers keep them).
  pki.pki_key.key.pem.public_cert = cert_file.c_str();
  pki.pki_key.key.pem.private_key = key_file.c_str();
  return openLoopbackSession(ctx, port, pki);
}

/**
 * A client certificate and key as DER in memory, read once: libcoap sets the identity up again
 * for every session, and from files that means reading and decoding PEM each time, which a load
 * tool would pay on the cores it shares with the server.
 */
struct Identity {
  std::vector<uint8_t> certificate_der;
  std::vector<uint8_t> key_der;  ///< ECPrivateKey or RSAPrivateKey
  coap_asn1_privatekey_type_t key_type = COAP_ASN1_PKEY_EC;
  bool ok() const { return !certificate_der.empty() && !key_der.empty(); }
};

/** Reads a PEM certificate (the first of the file) and a PEM key; !ok() on failure. */
inline Identity loadIdentity(const std::string& cert_file, const std::string& key_file) {
  Identity id;
  FILE* f = std::fopen(cert_file.c_str(), "r");
  X509* cert = f != nullptr ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
  if (f != nullptr) std::fclose(f);
  f = std::fopen(key_file.c_str(), "r");
  EVP_PKEY* key = f != nullptr ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
  if (f != nullptr) std::fclose(f);
  unsigned char* der = nullptr;
  int n = cert != nullptr ? i2d_X509(cert, &der) : -1;
  if (n > 0) id.certificate_der.assign(der, der + n);
  OPENSSL_free(der);
  der = nullptr;
  n = key != nullptr ? i2d_PrivateKey(key, &der) : -1;
  if (n > 0) id.key_der.assign(der, der + n);
  OPENSSL_clear_free(der, n > 0 ? static_cast<size_t>(n) : 0);
  if (key != nullptr && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) id.key_type = COAP_ASN1_PKEY_RSA;
  X509_free(cert);
  EVP_PKEY_free(key);
  return id;
}

/** As openSession above, with an identity already in memory (it must outlive the session). */
inline coap_session_t* openSession(coap_context_t* ctx, int port, const Identity& id) {
  coap_dtls_pki_t pki;
  std::memset(&pki, 0, sizeof(pki));
  pki.pki_key.key_type = COAP_PKI_KEY_ASN1;
  pki.pki_key.key.asn1.public_cert = id.certificate_der.data();
  pki.pki_key.key.asn1.public_cert_len = id.certificate_der.size();
  pki.pki_key.key.asn1.private_key = id.key_der.data();
  pki.pki_key.key.asn1.private_key_len = id.key_der.size();
  pki.pki_key.key.asn1.private_key_type = id.key_type;
  return openLoopbackSession(ctx, port, pki);
}

/** Adds an unsigned-integer option in its shortest encoding. */
inline void addUintOption(coap_pdu_t* pdu, coap_option_num_t number, unsigned value) {
  uint8_t buf[4];
  coap_add_option(pdu, number, coap_encode_var_safe(buf, sizeof(buf), value), buf);
}

/** The code of a PDU as class * 100 + detail (2.04 is 204). */
inline int codeOf(const coap_pdu_t* pdu) {
  coap_pdu_code_t code = coap_pdu_get_code(pdu);
  return (code >> 5) * 100 + (code & 0x1f);
}

/** The payload of a PDU (the whole body when libcoap reassembled Block2). */
inline std::string payloadOf(const coap_pdu_t* pdu) {
  size_t len = 0, offset = 0, total = 0;
  const uint8_t* data = nullptr;
  if (!coap_get_data_large(pdu, &len, &data, &offset, &total) || data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), len);
}

/** Options of an EST-coaps request beyond the path. Negative: option absent. */
struct RequestOptions {
  int content_format = -1;
  int accept = -1;
  int block1 = -1;  ///< the Block1 option value (NUM << 4 | M << 3 | SZX)
  int size1 = -1;
};

/**
 * A confirmable request (GET or POST) for a path such as "est/sen", one Uri-Path option per
 * segment, with the given message ID and token, options in ascending number, and the body.
 */
inline coap_pdu_t* makeRequest(coap_session_t* session, coap_pdu_code_t method, coap_mid_t mid,
                               const std::vector<uint8_t>& token, std::string_view path,
                               const RequestOptions& o = {},
                               const std::vector<uint8_t>& body = {}) {
  coap_pdu_t* pdu =
      coap_pdu_init(COAP_MESSAGE_CON, method, mid, coap_session_max_pdu_size(session));
  if (pdu == nullptr) return nullptr;
  coap_add_token(pdu, token.size(), token.data());
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = std::min(path.find('/', start), path.size());
    if (slash > start) {
      coap_add_option(pdu, COAP_OPTION_URI_PATH, slash - start,
                      reinterpret_cast<const uint8_t*>(path.data() + start));
    }
    start = slash + 1;
  }
  if (o.content_format >= 0)
    addUintOption(pdu, COAP_OPTION_CONTENT_FORMAT, static_cast<unsigned>(o.content_format));
  if (o.accept >= 0) addUintOption(pdu, COAP_OPTION_ACCEPT, static_cast<unsigned>(o.accept));
  if (o.block1 >= 0) addUintOption(pdu, COAP_OPTION_BLOCK1, static_cast<unsigned>(o.block1));
  if (o.size1 >= 0) addUintOption(pdu, COAP_OPTION_SIZE1, static_cast<unsigned>(o.size1));
  if (!body.empty()) coap_add_data(pdu, body.size(), body.data());
  return pdu;
}

/**
 * RFC 5929 3.1 tls-unique of the session's DTLS 1.2 handshake, seen from the client: its own
 * Finished on a full handshake, the server's on a resumed one. Empty before the handshake is done.
 */
inline std::vector<uint8_t> tlsUnique(coap_session_t* session) {
  coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
  auto* ssl = static_cast<SSL*>(coap_session_get_tls(session, &lib));
  if (ssl == nullptr || lib != COAP_TLS_LIBRARY_OPENSSL || !SSL_is_init_finished(ssl)) return {};
  unsigned char buf[EVP_MAX_MD_SIZE];
  size_t n = SSL_session_reused(ssl) ? SSL_get_peer_finished(ssl, buf, sizeof buf)
                                     : SSL_get_finished(ssl, buf, sizeof buf);
  return std::vector<uint8_t>(buf, buf + n);
}

/** Base64 without line breaks (the challengePassword form of RFC 7030 3.5). */
inline std::string base64(const std::vector<uint8_t>& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), in.data(),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

/**
 * DER PKCS#10 for CN=cn with a fresh P-256 key, and a challengePassword when one is given.
 * Empty on failure.
 */
inline std::vector<uint8_t> makeCsr(const std::string& cn, const std::string& challenge = "") {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509_REQ* req = X509_REQ_new();
  std::vector<uint8_t> out;
  if (key != nullptr && req != nullptr) {
    X509_NAME* name = X509_REQ_get_subject_name(req);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    if (!challenge.empty()) {
      X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, MBSTRING_UTF8,
                                reinterpret_cast<const unsigned char*>(challenge.c_str()), -1);
    }
    unsigned char* der = nullptr;
    int n = X509_REQ_sign(req, key, EVP_sha256()) > 0 ? i2d_X509_REQ(req, &der) : -1;
    if (n > 0) out.assign(der, der + n);
    OPENSSL_free(der);
  }
  X509_REQ_free(req);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace enroll::coaps_client
