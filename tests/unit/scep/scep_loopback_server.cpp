// scep_loopback_server: ScepService behind a minimal HTTP/1.1 listener on 127.0.0.1, with the
// in-test CA and Enroller. Only for running real peers (scepclient, certmonger) against the SCEP
// code before and apart from enrolld's own transport. One request per connection, one at a time.
//
//   scep_loopback_server --dir DIR [--port 0] [--challenge secret] [--hold]
// prints "listening http http://127.0.0.1:PORT/" (the line enrolld prints), writes DIR/ca.pem
// and DIR/ra.pem, and serves /scep (RA separate from CA), /scep/scep-legacy (SHA-1/DES allowed)
// and /scep/ra-is-ca. GET /approve approves every held request (with --hold).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "protocols/scep/scep_service.h"
#include "test_ca.h"
#include "test_enroller.h"

namespace {

using enroll::pki::Bytes;
using namespace enroll::scep;

struct HttpRequest {
  std::string method, path;
  std::map<std::string, std::string> query;
  Bytes body;
};

std::string urlDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parseQuery(const std::string& q) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= q.size()) {
    size_t amp = q.find('&', pos);
    std::string pair = q.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = pair.find('=');
    if (!pair.empty())
      out[urlDecode(pair.substr(0, eq))] =
          eq == std::string::npos ? "" : urlDecode(pair.substr(eq + 1));
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

bool readRequest(int fd, HttpRequest& req) {
  std::string data;
  char buf[8192];
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0 || data.size() > 65536) return false;
    data.append(buf, static_cast<size_t>(n));
    header_end = data.find("\r\n\r\n");
  }
  std::string head = data.substr(0, header_end);
  std::string line = head.substr(0, head.find("\r\n"));
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 <= sp1) return false;
  req.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t qm = target.find('?');
  req.path = target.substr(0, qm);
  if (qm != std::string::npos) req.query = parseQuery(target.substr(qm + 1));
  size_t length = 0;
  std::string lower = head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t cl = lower.find("\r\ncontent-length:");
  if (cl != std::string::npos) length = std::stoul(head.substr(cl + 17));
  std::string body = data.substr(header_end + 4);
  while (body.size() < length) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    body.append(buf, static_cast<size_t>(n));
  }
  req.body.assign(body.begin(), body.end());
  return true;
}

void writeResponse(int fd, int status, const std::string& type, const Bytes& body) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
                     "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nConnection: close\r\n\r\n";
  std::string all = head + std::string(body.begin(), body.end());
  for (size_t off = 0; off < all.size();) {
    ssize_t n = write(fd, all.data() + off, all.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void writeFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

int main(int argc, char** argv) {
  std::string dir = ".", challenge = "secret";
  int port = 0;
  bool hold = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--port" && i + 1 < argc)
      port = std::stoi(argv[++i]);
    else if (a == "--challenge" && i + 1 < argc)
      challenge = argv[++i];
    else if (a == "--hold")
      hold = true;
  }
  test::TestCa ca("SCEP Loopback CA", 0);
  auto ra_key = test::rsaKey(1);
  auto ra_cert = ca.issue(ra_key.native(), "SCEP Loopback RA");
  test::TestEnroller enroller(ca, challenge);
  enroller.addLabel("scep-legacy");
  enroller.addLabel("ra-is-ca");
  enroller.holdForApproval(hold);
  test::TestDirectory directory(ca, enroller);
  std::map<std::string, ScepLabelConfig> labels;
  labels.emplace("", ScepLabelConfig{ra_cert, ra_key, {}, false});
  labels.emplace("scep-legacy", ScepLabelConfig{ra_cert, ra_key, {}, true});
  labels.emplace("ra-is-ca", ScepLabelConfig{ca.certificate(), ca.key(), {}, false});
  auto service = ScepService::create(enroller, directory, std::move(labels));
  if (!service) {
    std::cerr << service.error().toString() << "\n";
    return 1;
  }
  writeFile(dir + "/ca.pem", ca.certificate().toPem());
  writeFile(dir + "/ra.pem", ra_cert.toPem());

  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(s, 16) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("listen");
    return 1;
  }
  std::cout << "listening http http://127.0.0.1:" << ntohs(addr.sin_port) << "/" << std::endl;

  for (;;) {
    int c = accept(s, nullptr, nullptr);
    if (c < 0) continue;
    HttpRequest req;
    if (!readRequest(c, req)) {
      close(c);
      continue;
    }
    if (req.path == "/approve") {
      for (const auto& r : enroller.requests) enroller.approve(test::keyId(r.csr.publicKey()));
      writeResponse(c, 200, "text/plain", Bytes{'o', 'k', '\n'});
    } else if (req.path == "/scep" || req.path.rfind("/scep/", 0) == 0) {
      ScepHttpRequest sreq{req.method,
                           req.path == "/scep" ? "" : req.path.substr(6),
                           req.query["operation"],
                           req.query["message"],
                           req.body,
                           "127.0.0.1"};
      auto resp = service->handle(sreq);
      std::cout << req.method << " " << req.path << " " << sreq.operation << " -> " << resp.status
                << " " << resp.outcome << std::endl;
      writeResponse(c, resp.status, resp.content_type, resp.body);
    } else {
      writeResponse(c, 404, "text/plain", Bytes{'?', '\n'});
    }
    close(c);
  }
}
