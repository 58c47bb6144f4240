#pragma once
/**
 * Test support: runs the real enrolld binary (init, then serve on a free loopback port) as a
 * child process, and a minimal OpenSSL HTTPS client for cases curl cannot produce.
 */
#include <openssl/ssl.h>

#include <string>
#include <vector>

namespace enroll::testing {

/** A temporary folder, removed at destruction. */
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/** Runs a command, returns its exit code; output goes to out when given. */
int run(const std::string& command, std::string* out = nullptr);

/**
 * `enrolld serve DIR --listen-est/-http/-coap 127.0.0.1:0` as a child; stopped with SIGTERM at
 * destruction.
 */
class EnrolldProcess {
 public:
  /** binary: path to enrolld (from the ENROLLD environment variable in tests). */
  EnrolldProcess(const std::string& binary, const std::string& dir);
  ~EnrolldProcess();
  int port() const { return port_; }
  /** The EST-coaps (UDP, DTLS) port. */
  int coapPort() const { return coap_port_; }
  /** SIGTERM and wait; returns the exit status. */
  int stop();

 private:
  int pid_ = -1;
  int port_ = 0;
  int coap_port_ = 0;
};

/** The enrolld binary under test (ENROLLD), or "" when unset. */
std::string enrolldBinary();

/** One TLS connection to 127.0.0.1:port with a client certificate. */
class TlsClient {
 public:
  TlsClient(int port, const std::string& ca_file, const std::string& cert_file,
            const std::string& key_file, int max_version);
  ~TlsClient();
  bool connected() const { return ssl_ != nullptr; }
  SSL* ssl() const { return ssl_; }
  /** RFC 5929 tls-unique (TLS 1.2) or RFC 9266 tls-exporter (TLS 1.3) of this connection. */
  std::vector<unsigned char> channelBinding() const;
  /** Sends a POST and returns "STATUS BODY". */
  std::string post(const std::string& path, const std::string& content_type,
                   const std::string& body, const std::string& extra_headers = {});

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
};

}  // namespace enroll::testing
