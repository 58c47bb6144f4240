#include "tests/support/enrolld_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace enroll::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/enrolld-test.XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() { run("rm -rf '" + path_ + "'"); }

int run(const std::string& command, std::string* out) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  std::string text;
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string enrolldBinary() {
  const char* e = std::getenv("ENROLLD");
  return e ? e : "";
}

EnrolldProcess::EnrolldProcess(const std::string& binary, const std::string& dir) {
  std::string out_file = dir + "/serve.out";
  pid_ = fork();
  if (pid_ == 0) {
    FILE* out = freopen(out_file.c_str(), "w", stdout);
    FILE* err = freopen((dir + "/serve.err").c_str(), "w", stderr);
    (void)out;
    (void)err;
    execl(binary.c_str(), binary.c_str(), "serve", dir.c_str(), "--listen-est", "127.0.0.1:0",
          "--listen-http", "127.0.0.1:0", "--listen-coap", "127.0.0.1:0", nullptr);
    _exit(127);
  }
  for (int i = 0; i < 100 && port_ == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(out_file);
    std::string line;
    while (std::getline(in, line)) {
      const std::string prefix = "listening est https://127.0.0.1:";
      if (line.rfind(prefix, 0) == 0) port_ = std::atoi(line.c_str() + prefix.size());
      const std::string coap_prefix = "listening coap coaps://127.0.0.1:";
      if (line.rfind(coap_prefix, 0) == 0)
        coap_port_ = std::atoi(line.c_str() + coap_prefix.size());
    }
  }
  if (port_ == 0) throw std::runtime_error("enrolld did not start; see " + dir + "/serve.err");
}

int EnrolldProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

EnrolldProcess::~EnrolldProcess() { stop(); }

TlsClient::TlsClient(int port, const std::string& ca_file, const std::string& cert_file,
                     const std::string& key_file, int max_version) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(ctx_, max_version);
  SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (!cert_file.empty()) {
    SSL_CTX_use_certificate_file(ctx_, cert_file.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM);
  }
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, fd_);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (SSL_connect(ssl) != 1) {
    SSL_free(ssl);
    return;
  }
  ssl_ = ssl;
}

TlsClient::~TlsClient() {
  if (ssl_) SSL_free(ssl_);
  if (fd_ >= 0) close(fd_);
  if (ctx_) SSL_CTX_free(ctx_);
}

std::vector<unsigned char> TlsClient::channelBinding() const {
  std::vector<unsigned char> out;
  if (SSL_version(ssl_) >= TLS1_3_VERSION) {
    out.resize(32);
    SSL_export_keying_material(ssl_, out.data(), 32, "EXPORTER-Channel-Binding", 24, nullptr, 0, 0);
  } else {
    unsigned char buf[EVP_MAX_MD_SIZE];
    // The client's own Finished is the first Finished of a full handshake (RFC 5929 3.1).
    size_t n = SSL_get_finished(ssl_, buf, sizeof buf);
    out.assign(buf, buf + n);
  }
  return out;
}

std::string TlsClient::post(const std::string& path, const std::string& content_type,
                            const std::string& body, const std::string& extra_headers) {
  std::string req = "POST " + path +
                    " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + content_type +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
                    "Connection: close\r\n\r\n" + body;
  SSL_write(ssl_, req.data(), static_cast<int>(req.size()));
  std::string resp;
  char buf[4096];
  int n = 0;
  while ((n = SSL_read(ssl_, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  if (resp.size() < 12) return "0 ";
  size_t body_at = resp.find("\r\n\r\n");
  return resp.substr(9, 3) + " " + (body_at == std::string::npos ? "" : resp.substr(body_at + 4));
}

}  // namespace enroll::testing
