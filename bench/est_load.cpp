// est_load: enrolls N devices with C concurrent clients against an EST server (RFC 7030
// simpleenroll over mutual TLS) and reports enrollments/s, latency, errors by status, the
// server's CPU time per enrollment and its peak RSS, and the crypto bound measured in the same
// run (crypto_bound.h). Not part of enrolld; see bench/README.md.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crypto_bound.h"
#include "ossl.h"

namespace enroll::bench {
namespace {

using Clock = std::chrono::steady_clock;

enum class Mode { kFresh, kKeepalive, kBound };

struct Options {
  Mode mode = Mode::kFresh;
  std::string host = "127.0.0.1";
  int port = 8443;
  std::string label;       // empty: the default label
  std::string path;        // overrides the path built from the label
  std::string ca_file;     // trust anchor(s) for the server's certificate
  bool insecure = false;   // do not check the server's certificate
  std::string servername;  // SNI and name check; none by default
  std::string mfr_cert, mfr_key;
  std::vector<std::string> issuer_files;  // where to find the issuing CA (for the bound)
  std::string prefix;
  std::string basic;  // user:password for HTTP Basic, optional
  int concurrency = 16;
  long count = 0;       // devices to enroll (0: from duration)
  double duration = 0;  // seconds (0: until count is done)
  int tls = 12;         // 12 or 13
  std::string groups = "P-256";
  long check_every = 16;  // parse every Kth response per client as PKCS#7
  int server_pid = 0;
  int cores = 0;
  double op_seconds = 0.25;
  double timeout = 30;
  bool bound = true;
  std::string tag;  // free text copied into the RESULT line (e.g. the server's name)
};

void usage() {
  std::fprintf(stderr, R"(usage: est_load [options]
  --mode fresh|keepalive|bound  fresh: new mutual-TLS connection and a fresh bootstrap
                             certificate per device; keepalive: one kept-alive connection per
                             client (a factory station); bound: only time the crypto bound
  --host H --port P          EST server (default 127.0.0.1:8443)
  --label L                  POST /.well-known/est/L/simpleenroll (default label: none)
  --path P                   explicit request path instead
  --ca-file F                verify the server against F (or --insecure)
  --servername N             send SNI N and check the server's name against it
  --mfr-cert F --mfr-key F   manufacturer CA that signs the bootstrap certificates
  --issuer-cert F            issuing CA certificate(s), to time its signature (repeatable)
  --prefix P                 device names P-<n> (default bench-<random>)
  --basic USER:PASS          also send HTTP Basic credentials
  -c, --concurrency C        concurrent clients (default 16)
  -n, --count N              devices to enroll (pre-generated before timing)
  -t, --duration S           stop after S seconds (whichever of -n/-t comes first)
  --tls 1.2|1.3              protocol version (default 1.2)
  --groups G                 ECDHE groups offered (default P-256)
  --check-every K            every response is base64-decoded and searched for the CSR's
                             public key; every Kth of each client (default 16, and the first)
                             is also parsed as PKCS#7 and its certificate's key compared
  --server-pid PID           report server CPU s/enrollment and peak RSS from /proc/PID
  --cores K                  cores shared by client and server for the bound (default: online)
  --op-seconds S             CPU seconds spent timing each crypto operation (default 0.25)
  --no-bound                 skip the crypto bound
  --timeout S                socket timeout (default 30)
  --tag T                    label copied into the RESULT line
)");
}

bool parseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value after %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--mode") {
      std::string m = next();
      if (m == "fresh")
        o.mode = Mode::kFresh;
      else if (m == "keepalive")
        o.mode = Mode::kKeepalive;
      else if (m == "bound")
        o.mode = Mode::kBound;
      else
        return false;
    } else if (a == "--host")
      o.host = next();
    else if (a == "--port")
      o.port = std::stoi(next());
    else if (a == "--label")
      o.label = next();
    else if (a == "--path")
      o.path = next();
    else if (a == "--ca-file")
      o.ca_file = next();
    else if (a == "--insecure")
      o.insecure = true;
    else if (a == "--servername")
      o.servername = next();
    else if (a == "--mfr-cert")
      o.mfr_cert = next();
    else if (a == "--mfr-key")
      o.mfr_key = next();
    else if (a == "--issuer-cert")
      o.issuer_files.push_back(next());
    else if (a == "--prefix")
      o.prefix = next();
    else if (a == "--basic")
      o.basic = next();
    else if (a == "-c" || a == "--concurrency")
      o.concurrency = std::stoi(next());
    else if (a == "-n" || a == "--count")
      o.count = std::stol(next());
    else if (a == "-t" || a == "--duration")
      o.duration = std::stod(next());
    else if (a == "--tls") {
      std::string v = next();
      if (v == "1.2")
        o.tls = 12;
      else if (v == "1.3")
        o.tls = 13;
      else
        return false;
    } else if (a == "--groups")
      o.groups = next();
    else if (a == "--check-every")
      o.check_every = std::max(1L, std::stol(next()));
    else if (a == "--server-pid")
      o.server_pid = std::stoi(next());
    else if (a == "--cores")
      o.cores = std::stoi(next());
    else if (a == "--op-seconds")
      o.op_seconds = std::stod(next());
    else if (a == "--no-bound")
      o.bound = false;
    else if (a == "--timeout")
      o.timeout = std::stod(next());
    else if (a == "--tag")
      o.tag = next();
    else if (a == "-h" || a == "--help")
      return false;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return false;
    }
  }
  if (o.mode == Mode::kBound) return true;
  if (o.mfr_cert.empty() || o.mfr_key.empty()) {
    std::fprintf(stderr, "--mfr-cert and --mfr-key are required\n");
    return false;
  }
  if (o.ca_file.empty() && !o.insecure) {
    std::fprintf(stderr, "--ca-file is required (or --insecure)\n");
    return false;
  }
  if (o.count <= 0 && o.duration <= 0) {
    std::fprintf(stderr, "give -n and/or -t\n");
    return false;
  }
  return o.concurrency >= 1;
}

// ---------------------------------------------------------------------------------------------
// Devices: bootstrap certificates (IDevID) and CSRs, all made before timing starts.

struct Issuer {
  UniquePtr<X509> cert;
  UniquePtr<EVP_PKEY> key;
};

/** One device: its bootstrap certificate and key, and its CSR for an operational certificate. */
struct Device {
  UniquePtr<X509> bootstrap_cert;
  UniquePtr<EVP_PKEY> bootstrap_key;
  UniquePtr<EVP_PKEY> csr_key;
  UniquePtr<X509_REQ> csr;
  std::string body;  // base64 of the DER PKCS#10
  std::string spki;  // DER SubjectPublicKeyInfo of csr_key
};

UniquePtr<EVP_PKEY> p256() {
  return UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

/** The point of an EC key, uncompressed, and its curve's NID; false for other keys. */
bool ecPoint(EVP_PKEY* key, std::string& point, int& curve_nid) {
  char group[64] = {};
  size_t len = 0;
  unsigned char buf[160];
  size_t n = 0;
  if (!EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1 ||
      EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf, &n) != 1)
    return false;
  curve_nid = OBJ_sn2nid(group);
  if (curve_nid == NID_undef) curve_nid = EC_curve_nist2nid(group);
  point.assign(reinterpret_cast<char*>(buf), n);
  return curve_nid != NID_undef;
}

/** Sets the SubjectPublicKeyInfo of a certificate or CSR to an EC key without OpenSSL 3's
 *  encoder and decoder round trip, which costs several times the signature (and takes global
 *  locks). The structure then holds no decoded key: re-read it from DER where one is needed. */
bool setPublicKeyFast(X509_PUBKEY* spki, EVP_PKEY* key) {
  std::string point;
  int curve = 0;
  if (!ecPoint(key, point, curve)) return false;
  auto* enc = static_cast<unsigned char*>(OPENSSL_malloc(point.size()));
  if (enc == nullptr) return false;
  std::copy(point.begin(), point.end(), enc);
  if (X509_PUBKEY_set0_param(spki, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                             OBJ_nid2obj(curve), enc, static_cast<int>(point.size())) != 1) {
    OPENSSL_free(enc);
    return false;
  }
  return true;
}

/** DER of the SubjectPublicKeyInfo of a fast-set structure (for a byte comparison). */
std::string spkiDer(X509_PUBKEY* spki) {
  unsigned char* der = nullptr;
  int n = i2d_X509_PUBKEY(spki, &der);
  std::string out;
  if (n > 0) out.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

UniquePtr<X509_NAME> deviceName(const std::string& id) {
  UniquePtr<X509_NAME> name(X509_NAME_new());
  const auto* v = reinterpret_cast<const unsigned char*>(id.c_str());
  X509_NAME_add_entry_by_txt(name.get(), "serialNumber", MBSTRING_ASC, v, -1, -1, 0);
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC, v, -1, -1, 0);
  return name;
}

bool addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

/** Certificate for `key` named `name`, signed by `issuer` (self-signed when null). */
UniquePtr<X509> makeCert(X509_NAME* name, EVP_PKEY* key, const Issuer* issuer, bool ca, long days) {
  UniquePtr<X509> c(X509_new());
  X509_set_version(c.get(), 2);
  unsigned char sn[16];
  RAND_bytes(sn, sizeof sn);
  sn[0] &= 0x7f;
  sn[0] |= 0x01;
  UniquePtr<BIGNUM> bn(BN_bin2bn(sn, sizeof sn, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(c.get()));
  X509_set_subject_name(c.get(), name);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : c.get();
  X509_set_issuer_name(c.get(), X509_get_subject_name(issuer_cert));
  if (!setPublicKeyFast(X509_get_X509_PUBKEY(c.get()), key)) X509_set_pubkey(c.get(), key);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), days * 86400);
  bool ok = true;
  if (ca) {
    ok = addExt(c.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE") &&
         addExt(c.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = addExt(c.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE") &&
         addExt(c.get(), issuer_cert, NID_key_usage, "critical,digitalSignature") &&
         addExt(c.get(), issuer_cert, NID_ext_key_usage, "clientAuth");
  }
  ok = ok && addExt(c.get(), issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr)
    ok = ok && addExt(c.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  EVP_PKEY* signer = issuer != nullptr ? issuer->key.get() : key;
  if (!ok || X509_sign(c.get(), signer, digestFor(signer)) <= 0) return nullptr;
  // Read back from DER, so the certificate holds a decoded public key as a parsed one does.
  unsigned char* der = nullptr;
  int n = i2d_X509(c.get(), &der);
  const unsigned char* p = der;
  UniquePtr<X509> parsed(n > 0 ? d2i_X509(nullptr, &p, n) : nullptr);
  OPENSSL_free(der);
  return parsed;
}

/** A device named `id`: a P-256 CSR always, a bootstrap certificate when `with_bootstrap`. */
std::optional<Device> makeDevice(const std::string& id, const Issuer& mfr, bool with_bootstrap) {
  Device d;
  UniquePtr<X509_NAME> name = deviceName(id);
  d.csr_key = p256();
  d.csr.reset(X509_REQ_new());
  if (!d.csr_key || !d.csr) return std::nullopt;
  X509_REQ_set_version(d.csr.get(), 0);
  X509_REQ_set_subject_name(d.csr.get(), name.get());
  if (!setPublicKeyFast(X509_REQ_get_X509_PUBKEY(d.csr.get()), d.csr_key.get()) ||
      X509_REQ_sign(d.csr.get(), d.csr_key.get(), EVP_sha256()) <= 0)
    return std::nullopt;
  d.spki = spkiDer(X509_REQ_get_X509_PUBKEY(d.csr.get()));
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(d.csr.get(), &der);
  if (n <= 0) return std::nullopt;
  d.body = base64Lines(der, static_cast<size_t>(n));
  OPENSSL_free(der);
  if (with_bootstrap) {
    d.bootstrap_key = p256();
    if (!d.bootstrap_key) return std::nullopt;
    d.bootstrap_cert = makeCert(name.get(), d.bootstrap_key.get(), &mfr, false, 1);
    if (!d.bootstrap_cert) return std::nullopt;
  }
  return d;
}

/** Makes `n` devices named prefix-<first..>, on all cores. */
bool makeDevices(std::vector<Device>& out, size_t n, const std::string& prefix, size_t first,
                 const Issuer& mfr, bool with_bootstrap) {
  out.resize(n);
  const size_t workers = std::max(1U, std::thread::hardware_concurrency());
  std::atomic<bool> ok{true};
  std::vector<std::thread> th;
  for (size_t w = 0; w < workers; ++w)
    th.emplace_back([&, w] {
      for (size_t i = w; i < n && ok; i += workers) {
        auto d = makeDevice(prefix + "-" + std::to_string(first + i), mfr, with_bootstrap);
        if (!d) {
          ok = false;
          return;
        }
        out[i] = std::move(*d);
      }
    });
  for (auto& t : th) t.join();
  return ok;
}

std::vector<UniquePtr<X509>> readCerts(const std::string& file) {
  std::vector<UniquePtr<X509>> out;
  UniquePtr<BIO> bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) return out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the end of the file reads as an error
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 over TLS, the minimum a device client does.

/** Why an enrollment failed. */
std::string kConnect = "connect", kTls = "tls-handshake", kWrite = "write", kRead = "read",
            kBody = "bad-pkcs7", kMismatch = "key-mismatch";

struct Connection {
  int fd = -1;
  UniquePtr<SSL> ssl;
  std::string rbuf;
  void close() {
    if (ssl) SSL_shutdown(ssl.get());  // send close_notify, do not wait for the peer's
    ssl.reset();
    if (fd >= 0) ::close(fd);
    fd = -1;
    rbuf.clear();
    ERR_clear_error();
  }
  ~Connection() { close(); }
};

struct Response {
  int status = 0;
  bool closes = false;
  std::string body;
};

int tcpConnect(const sockaddr_storage& addr, socklen_t len, double timeout) {
  int fd = socket(addr.ss_family, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{};
  tv.tv_sec = static_cast<long>(timeout);
  tv.tv_usec = static_cast<long>((timeout - static_cast<double>(tv.tv_sec)) * 1e6);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/** Reads more bytes into c.rbuf; false on end of stream or error. */
bool fill(Connection& c) {
  char tmp[16384];
  int n = SSL_read(c.ssl.get(), tmp, sizeof tmp);
  if (n <= 0) return false;
  c.rbuf.append(tmp, static_cast<size_t>(n));
  return true;
}

/** Reads one HTTP response: Content-Length, chunked, or delimited by the end of the stream. */
bool readResponse(Connection& c, Response& r) {
  size_t head_end = std::string::npos;
  while ((head_end = c.rbuf.find("\r\n\r\n")) == std::string::npos)
    if (!fill(c)) return false;
  std::string head = c.rbuf.substr(0, head_end);
  c.rbuf.erase(0, head_end + 4);
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return false;
  r.status = std::atoi(head.c_str() + 9);
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  // The value of a header (lower case, surrounding blanks removed), or "" when absent.
  auto header = [&head](std::string_view name) -> std::string {
    const std::string key = "\n" + std::string(name) + ":";
    const size_t p = head.find(key);
    if (p == std::string::npos) return {};
    size_t b = p + key.size();
    size_t e = head.find('\r', b);
    if (e == std::string::npos) e = head.size();
    while (b < e && (head[b] == ' ' || head[b] == '\t')) ++b;
    while (e > b && (head[e - 1] == ' ' || head[e - 1] == '\t')) --e;
    return head.substr(b, e - b);
  };
  r.closes = head.compare(0, 8, "http/1.0") == 0 || header("connection") == "close";
  const std::string length = header("content-length");
  const long clen = length.empty() ? -1 : std::atol(length.c_str());
  const bool chunked = header("transfer-encoding").find("chunked") != std::string::npos;
  r.body.clear();
  if (chunked) {
    for (;;) {
      size_t eol = std::string::npos;
      while ((eol = c.rbuf.find("\r\n")) == std::string::npos)
        if (!fill(c)) return false;
      const size_t size = std::strtoul(c.rbuf.c_str(), nullptr, 16);
      c.rbuf.erase(0, eol + 2);
      if (size == 0) {  // trailers end with an empty line
        size_t end = std::string::npos;
        while ((end = c.rbuf.find("\r\n")) == std::string::npos)
          if (!fill(c)) return false;
        while (end != 0) {
          c.rbuf.erase(0, end + 2);
          while ((end = c.rbuf.find("\r\n")) == std::string::npos)
            if (!fill(c)) return false;
        }
        c.rbuf.erase(0, 2);
        return true;
      }
      while (c.rbuf.size() < size + 2)
        if (!fill(c)) return false;
      r.body.append(c.rbuf, 0, size);
      c.rbuf.erase(0, size + 2);
    }
  }
  if (clen >= 0) {
    while (c.rbuf.size() < static_cast<size_t>(clen))
      if (!fill(c)) return false;
    r.body = c.rbuf.substr(0, static_cast<size_t>(clen));
    c.rbuf.erase(0, static_cast<size_t>(clen));
    return true;
  }
  if (r.status == 204 || r.status == 304 || r.status / 100 == 1) return true;
  while (fill(c)) {
  }
  r.body = std::move(c.rbuf);
  c.rbuf.clear();
  r.closes = true;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Shared {
  std::mutex mu;
  std::vector<UniquePtr<X509>> server_chain;
  std::string version, cipher, group;
  UniquePtr<X509> issued;
  std::vector<UniquePtr<X509>> response_certs;
  size_t issued_device = 0;
  std::map<std::string, std::string> first_error;  // kind -> what the first one said

  void noteError(const std::string& kind, const std::string& detail) {
    std::lock_guard<std::mutex> lock(mu);
    first_error.emplace(kind, detail.substr(0, 300));
  }
};

struct ClientStats {
  std::vector<double> latency_ms;
  std::map<std::string, long> errors;
  long ok = 0;
  long checked = 0;
  long connections = 0;
  long stale = 0;  // kept-alive connections found closed when reused
};

/** Checks a 200 body. Every body: base64 that decodes and holds the CSR's public key
 *  (SubjectPublicKeyInfo bytes). When `full`: also a certs-only PKCS#7 whose certificates
 *  include one for that key, compared as keys by OpenSSL. */
std::string checkBody(const std::string& body, const Device& dev, bool full, Shared& shared,
                      size_t device) {
  std::string der;
  if (!base64Decode(body, der)) return kBody;
  if (der.find(dev.spki) == std::string::npos) return kMismatch;
  if (!full) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7 || PKCS7_type_is_signed(p7.get()) == 0 || p7->d.sign == nullptr ||
      p7->d.sign->cert == nullptr) {
    ERR_clear_error();
    return kBody;
  }
  STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; i < sk_X509_num(certs); ++i) {
    X509* c = sk_X509_value(certs, i);
    if (EVP_PKEY_eq(X509_get0_pubkey(c), dev.csr_key.get()) == 1) {
      std::lock_guard<std::mutex> lock(shared.mu);
      if (!shared.issued) {
        shared.issued = upRef(c);
        shared.issued_device = device;
        for (int j = 0; j < sk_X509_num(certs); ++j)
          shared.response_certs.push_back(upRef(sk_X509_value(certs, j)));
      }
      return {};
    }
  }
  ERR_clear_error();
  return kMismatch;
}

struct ProcSample {
  double cpu_seconds = -1;
  long rss_kb = -1;
  long hwm_kb = -1;
};

ProcSample sampleProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    auto rp = line.rfind(')');
    if (rp != std::string::npos) {
      std::istringstream in(line.substr(rp + 2));
      std::vector<std::string> f;
      std::string tok;
      while (in >> tok) f.push_back(tok);
      // Fields after "(comm)" start at field 3 (state): utime is 14, stime is 15.
      if (f.size() > 12)
        s.cpu_seconds = static_cast<double>(std::stoll(f[11]) + std::stoll(f[12])) /
                        static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::atol(line.c_str() + 6);
  }
  return s;
}

/** CPU seconds the whole machine spent busy so far (all cores, from /proc/stat). */
double machineBusySeconds() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal))
    return -1;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

double processCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(p * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string basicHeader(const std::string& user_pass) {
  if (user_pass.empty()) return {};
  std::string b =
      base64Lines(reinterpret_cast<const unsigned char*>(user_pass.data()), user_pass.size());
  b.erase(std::remove(b.begin(), b.end(), '\n'), b.end());
  return "Authorization: Basic " + b + "\r\n";
}

/** The CSR as the server sees it: parsed from the request body, its key decoded. */
UniquePtr<X509_REQ> parseCsr(const std::string& body) {
  std::string der;
  if (!base64Decode(body, der)) return nullptr;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return UniquePtr<X509_REQ>(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
}

/** Synthetic objects for --mode bound: a P-256 manufacturer CA, device, root and server. */
int boundOnly(const Options& o) {
  Issuer mfr;
  mfr.key = p256();
  UniquePtr<X509_NAME> mname = deviceName("bench-manufacturer-ca");
  mfr.cert = makeCert(mname.get(), mfr.key.get(), nullptr, true, 30);
  Issuer root;
  root.key = p256();
  UniquePtr<X509_NAME> rname = deviceName("bench-root-ca");
  root.cert = makeCert(rname.get(), root.key.get(), nullptr, true, 30);
  UniquePtr<EVP_PKEY> server_key = p256();
  UniquePtr<X509_NAME> sname = deviceName("localhost");
  UniquePtr<X509> server = makeCert(sname.get(), server_key.get(), &root, false, 30);
  auto dev = makeDevice("bench-bound-1", mfr, true);
  if (!mfr.cert || !root.cert || !server || !dev) {
    std::fprintf(stderr, "cannot make synthetic objects: %s\n", drainErrors().c_str());
    return 1;
  }
  UniquePtr<X509_NAME> dname = deviceName("bench-bound-1");
  UniquePtr<X509> issued = makeCert(dname.get(), dev->csr_key.get(), &root, false, 365);
  BoundInputs in;
  in.bootstrap_cert = dev->bootstrap_cert.get();
  in.bootstrap_key = dev->bootstrap_key.get();
  in.bootstrap_issuer = mfr.cert.get();
  UniquePtr<X509_REQ> csr = parseCsr(dev->body);
  in.csr = csr.get();
  in.server_chain = {server.get(), root.cert.get()};
  in.issued = issued.get();
  in.issuing_public_key = X509_get0_pubkey(root.cert.get());
  in.cores = o.cores;
  in.seconds_per_op = o.op_seconds;
  BoundResult r = measureCryptoBound(in);
  std::printf("synthetic inputs: all keys P-256, server chain leaf+root, TLS groups %s\n",
              in.group.c_str());
  printBound(r, stdout);
  std::printf(
      "RESULT mode=bound cores=%d bound_fresh=%.1f bound_keepalive=%.1f "
      "client_us=%.1f server_us=%.1f\n",
      r.cores, r.fresh_per_second, r.keepalive_per_second, r.client_micros, r.server_micros);
  return r.error.empty() ? 0 : 1;
}

int run(Options o) {
  std::signal(SIGPIPE, SIG_IGN);
  if (o.cores <= 0) o.cores = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  if (o.mode == Mode::kBound) return boundOnly(o);
  const bool fresh = o.mode == Mode::kFresh;
  if (o.prefix.empty()) {
    unsigned char r[4];
    RAND_bytes(r, sizeof r);
    char hex[9];
    std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    o.prefix = std::string("bench-") + hex;
  }
  std::string path = o.path;
  if (path.empty())
    path = "/.well-known/est/" + (o.label.empty() ? std::string() : o.label + "/") + "simpleenroll";

  // Manufacturer CA and the server's address.
  Issuer mfr;
  {
    auto certs = readCerts(o.mfr_cert);
    UniquePtr<BIO> kb(BIO_new_file(o.mfr_key.c_str(), "r"));
    if (kb) mfr.key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (certs.empty() || !mfr.key || X509_check_private_key(certs[0].get(), mfr.key.get()) != 1) {
      std::fprintf(stderr, "cannot load the manufacturer CA %s / %s: %s\n", o.mfr_cert.c_str(),
                   o.mfr_key.c_str(), drainErrors().c_str());
      return 2;
    }
    mfr.cert = std::move(certs[0]);
  }
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(o.host.c_str(), std::to_string(o.port).c_str(), &hints, &res) != 0 || !res) {
      std::fprintf(stderr, "cannot resolve %s\n", o.host.c_str());
      return 2;
    }
    std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
    addr_len = res->ai_addrlen;
    freeaddrinfo(res);
  }

  // TLS client context, shared by every connection.
  UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  const int version = o.tls == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx.get(), version);
  SSL_CTX_set_max_proto_version(ctx.get(), version);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  if (SSL_CTX_set1_groups_list(ctx.get(), o.groups.c_str()) != 1) {
    std::fprintf(stderr, "bad --groups %s\n", o.groups.c_str());
    return 2;
  }
  if (!o.insecure) {
    if (SSL_CTX_load_verify_locations(ctx.get(), o.ca_file.c_str(), nullptr) != 1) {
      std::fprintf(stderr, "cannot load %s: %s\n", o.ca_file.c_str(), drainErrors().c_str());
      return 2;
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }

  // Devices, before timing starts. Fresh: one bootstrap certificate per device. Keepalive: one
  // per client connection (the station), and one CSR per device.
  long n = o.count;
  if (n <= 0) {
    // Only a duration: enough devices for 4,000 full-handshake or 10,000 kept-alive
    // enrollments/s (the run stops early, and says so, if they run out).
    n = static_cast<long>(o.duration * (fresh ? 4000 : 10000)) + 1000;
  }
  std::vector<Device> devices;
  std::vector<Device> stations;
  auto g0 = Clock::now();
  if (!makeDevices(devices, static_cast<size_t>(n), o.prefix, 1, mfr, fresh) ||
      (!fresh && !makeDevices(stations, static_cast<size_t>(o.concurrency), o.prefix + "-station",
                              1, mfr, true))) {
    std::fprintf(stderr, "cannot make devices: %s\n", drainErrors().c_str());
    return 2;
  }
  const double gen_s = std::chrono::duration<double>(Clock::now() - g0).count();
  std::fprintf(stderr, "made %ld devices (%s) in %.2f s\n", n,
               fresh ? "bootstrap certificate + CSR each" : "CSR each", gen_s);

  const std::string head_common =
      "POST " + path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) +
      "\r\nContent-Type: application/pkcs10\r\nAccept: */*\r\n" + basicHeader(o.basic) +
      (fresh ? "Connection: close\r\n" : "") + "Content-Length: ";

  Shared shared;
  std::atomic<long> next{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> exhausted{false};
  std::vector<ClientStats> stats(static_cast<size_t>(o.concurrency));

  auto openConnection = [&](Connection& c, const Device& who, ClientStats& st) -> std::string {
    c.fd = tcpConnect(addr, addr_len, o.timeout);
    if (c.fd < 0) return kConnect;
    c.ssl.reset(SSL_new(ctx.get()));
    SSL* ssl = c.ssl.get();
    SSL_set_fd(ssl, c.fd);
    SSL_use_certificate(ssl, who.bootstrap_cert.get());
    SSL_use_PrivateKey(ssl, who.bootstrap_key.get());
    if (!o.servername.empty()) {
      SSL_set_tlsext_host_name(ssl, o.servername.c_str());
      SSL_set1_host(ssl, o.servername.c_str());
    }
    if (SSL_connect(ssl) != 1) {
      const long verify = SSL_get_verify_result(ssl);
      shared.noteError(
          kTls, drainErrors() + (verify != X509_V_OK ? std::string("; server certificate: ") +
                                                           X509_verify_cert_error_string(verify)
                                                     : std::string()));
      return kTls;
    }
    ++st.connections;
    std::lock_guard<std::mutex> lock(shared.mu);
    if (shared.version.empty()) {
      shared.version = SSL_get_version(ssl);
      shared.cipher = SSL_get_cipher_name(ssl);
      int nid = SSL_get_negotiated_group(ssl);
      const char* g = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr;
      shared.group = g != nullptr ? g : "";
      if (STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl))
        for (int i = 0; i < sk_X509_num(chain); ++i)
          shared.server_chain.push_back(upRef(sk_X509_value(chain, i)));
      if (shared.server_chain.empty())
        if (X509* peer = SSL_get0_peer_certificate(ssl)) shared.server_chain.push_back(upRef(peer));
    }
    return {};
  };

  auto worker = [&](size_t w) {
    ClientStats& st = stats[w];
    st.latency_ms.reserve(static_cast<size_t>(n / o.concurrency + 16));
    Connection conn;
    long done = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const long i = next.fetch_add(1);
      if (i >= n) {
        exhausted = true;
        break;
      }
      const Device& dev = devices[static_cast<size_t>(i)];
      const auto t0 = Clock::now();
      std::string err;
      Response resp;
      // A kept-alive connection the server closed between two requests is reopened once, as
      // any HTTP client does; that is not an error.
      for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = conn.ssl != nullptr;
        err.clear();
        resp = Response{};
        if (!conn.ssl) err = openConnection(conn, fresh ? dev : stations[w], st);
        if (!err.empty()) break;
        std::string req = head_common + std::to_string(dev.body.size()) + "\r\n\r\n" + dev.body;
        if (SSL_write(conn.ssl.get(), req.data(), static_cast<int>(req.size())) !=
            static_cast<int>(req.size()))
          err = kWrite;
        else if (!readResponse(conn, resp))
          err = kRead;
        if (err.empty() || !reused || resp.status != 0) break;
        conn.close();
        ++st.stale;
      }
      if (err == kWrite || err == kRead) {
        std::string detail = drainErrors();
        shared.noteError(err, detail.empty() ? "connection closed by the server" : detail);
      } else if (err.empty() && resp.status != 200) {
        err = "http-" + std::to_string(resp.status);
        std::string b = resp.body;
        std::replace(b.begin(), b.end(), '\n', ' ');
        shared.noteError(err, b);
      }
      if (err.empty()) {
        const bool full = done % o.check_every == 0;
        err = checkBody(resp.body, dev, full, shared, static_cast<size_t>(i));
        st.checked += full ? 1 : 0;
      }
      const auto t1 = Clock::now();
      if (err == kConnect) shared.noteError(err, std::strerror(errno));
      if (err.empty()) {
        ++st.ok;
        st.latency_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      } else {
        ++st.errors[err];
      }
      ++done;
      if (fresh || !err.empty() || resp.closes) conn.close();
    }
  };

  // Timing starts here.
  const ProcSample before = sampleProc(o.server_pid);
  long peak_rss_kb = before.rss_kb;
  const double client_cpu0 = processCpuSeconds();
  const double machine0 = machineBusySeconds();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (size_t w = 0; w < static_cast<size_t>(o.concurrency); ++w) threads.emplace_back(worker, w);
  std::atomic<bool> finished{false};
  std::thread monitor([&] {
    const auto deadline = start + std::chrono::duration<double>(o.duration);
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (o.server_pid > 0) peak_rss_kb = std::max(peak_rss_kb, sampleProc(o.server_pid).rss_kb);
      if (o.duration > 0 && Clock::now() >= deadline) stop = true;
    }
  });
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double client_cpu = processCpuSeconds() - client_cpu0;
  const double machine = machineBusySeconds() - machine0;
  finished = true;
  monitor.join();
  const ProcSample after = sampleProc(o.server_pid);
  peak_rss_kb = std::max(peak_rss_kb, after.rss_kb);
  // Timing ends here.

  ClientStats all;
  for (auto& s : stats) {
    all.latency_ms.insert(all.latency_ms.end(), s.latency_ms.begin(), s.latency_ms.end());
    for (auto& [k, v] : s.errors) all.errors[k] += v;
    all.ok += s.ok;
    all.checked += s.checked;
    all.connections += s.connections;
    all.stale += s.stale;
  }
  std::sort(all.latency_ms.begin(), all.latency_ms.end());
  long failed = 0;
  std::string errors;
  for (auto& [k, v] : all.errors) {
    failed += v;
    errors += (errors.empty() ? "" : ",") + k + ":" + std::to_string(v);
  }
  const double rate = static_cast<double>(all.ok) / elapsed;
  const double p50 = percentile(all.latency_ms, 0.50);
  const double p99 = percentile(all.latency_ms, 0.99);
  double server_cpu_ms = -1;
  if (before.cpu_seconds >= 0 && after.cpu_seconds >= 0 && all.ok > 0)
    server_cpu_ms = (after.cpu_seconds - before.cpu_seconds) * 1e3 / static_cast<double>(all.ok);
  const double client_cpu_ms = all.ok > 0 ? client_cpu * 1e3 / static_cast<double>(all.ok) : -1;

  std::printf("est_load %s, %s, C=%d, %s%s\n", fresh ? "fresh" : "keepalive", path.c_str(),
              o.concurrency, o.tls == 13 ? "TLS 1.3" : "TLS 1.2",
              o.tag.empty() ? "" : (", " + o.tag).c_str());
  std::printf("  negotiated: %s %s group %s; server chain depth %zu\n", shared.version.c_str(),
              shared.cipher.c_str(), shared.group.c_str(), shared.server_chain.size());
  std::printf("  enrollments %ld ok, %ld failed in %.2f s: %.1f enrollments/s%s\n", all.ok, failed,
              elapsed, rate,
              exhausted && o.duration > 0 ? " (all devices used before the duration ended)" : "");
  std::printf(
      "  latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; TLS connections %ld; "
      "responses parsed as PKCS#7 %ld (all others: key bytes found)\n",
      p50, p99, all.latency_ms.empty() ? 0.0 : all.latency_ms.back(), all.connections, all.checked);
  if (!errors.empty()) std::printf("  errors: %s\n", errors.c_str());
  for (auto& [kind, detail] : shared.first_error)
    std::printf("  first %s: %s\n", kind.c_str(), detail.empty() ? "(no detail)" : detail.c_str());
  if (all.stale > 0)
    std::printf("  %ld kept-alive connections were found closed when reused, and reopened\n",
                all.stale);
  if (!fresh && all.connections > std::max(2L * o.concurrency, all.ok / 10))
    std::printf(
        "  note: %ld TLS connections for %ld enrollments: the server did not keep the "
        "connections alive\n",
        all.connections, all.ok);
  if (o.server_pid > 0)
    std::printf(
        "  server pid %d: %.3f ms CPU per enrollment; RSS peak %.1f MB sampled during "
        "the run, VmHWM %.1f MB (lifetime peak)\n",
        o.server_pid, server_cpu_ms, static_cast<double>(peak_rss_kb) / 1024.0,
        static_cast<double>(after.hwm_kb) / 1024.0);
  std::printf("  client (est_load): %.3f ms CPU per enrollment\n", client_cpu_ms);
  // Everything else the machine did meanwhile (other processes, the kernel's softirqs): when it
  // is not near zero, the row was disturbed.
  double other_cores = -1;
  if (machine0 >= 0 && machine >= 0 && o.server_pid > 0 && before.cpu_seconds >= 0 &&
      after.cpu_seconds >= 0)
    other_cores =
        std::max(0.0, machine - client_cpu - (after.cpu_seconds - before.cpu_seconds)) / elapsed;
  if (other_cores >= 0)
    std::printf("  machine: %.2f of %d cores busy on average, of which %.2f by other processes\n",
                machine / elapsed, o.cores, other_cores);
  else
    std::printf("  machine: %.2f of %d cores busy on average\n", machine / elapsed, o.cores);

  double bound = 0;
  if (o.bound) {
    BoundInputs in;
    if (!shared.group.empty()) in.group = shared.group;
    const Device& d0 = fresh ? devices[0] : stations[0];
    in.bootstrap_cert = d0.bootstrap_cert.get();
    in.bootstrap_key = d0.bootstrap_key.get();
    in.bootstrap_issuer = mfr.cert.get();
    UniquePtr<X509_REQ> csr = parseCsr(devices[shared.issued ? shared.issued_device : 0].body);
    in.csr = csr.get();
    for (auto& c : shared.server_chain) in.server_chain.push_back(c.get());
    in.issued = shared.issued.get();
    in.cores = o.cores;
    in.seconds_per_op = o.op_seconds;
    // The issuing CA: among the response's certificates, the CA file, --issuer-cert files and
    // the server's chain, the one that signed the operational certificate.
    std::vector<UniquePtr<X509>> candidates;
    for (auto& c : shared.response_certs) candidates.push_back(upRef(c.get()));
    if (!o.ca_file.empty())
      for (auto& c : readCerts(o.ca_file)) candidates.push_back(std::move(c));
    for (auto& f : o.issuer_files)
      for (auto& c : readCerts(f)) candidates.push_back(std::move(c));
    for (auto& c : shared.server_chain) candidates.push_back(upRef(c.get()));
    if (shared.issued)
      for (auto& c : candidates)
        if (X509_check_issued(c.get(), shared.issued.get()) == X509_V_OK) {
          in.issuing_public_key = X509_get0_pubkey(c.get());
          break;
        }
    BoundResult r = measureCryptoBound(in);
    printBound(r, stdout);
    bound = fresh ? r.fresh_per_second : r.keepalive_per_second;
    std::printf("  achieved/bound: %.1f / %.0f = %.0f%%\n", rate, bound,
                bound > 0 ? 100.0 * rate / bound : 0.0);
  }
  std::printf(
      "RESULT tag=%s mode=%s c=%d tls=%s ok=%ld failed=%ld seconds=%.2f rate=%.1f "
      "p50_ms=%.2f p99_ms=%.2f server_cpu_ms=%.3f client_cpu_ms=%.3f "
      "server_rss_peak_mb=%.1f server_hwm_mb=%.1f bound=%.1f ratio=%.3f connections=%ld "
      "exhausted=%d busy_cores=%.2f other_cores=%.2f errors=%s\n",
      o.tag.empty() ? "-" : o.tag.c_str(), fresh ? "fresh" : "keepalive", o.concurrency,
      o.tls == 13 ? "1.3" : "1.2", all.ok, failed, elapsed, rate, p50, p99, server_cpu_ms,
      client_cpu_ms, peak_rss_kb >= 0 ? static_cast<double>(peak_rss_kb) / 1024.0 : -1.0,
      after.hwm_kb >= 0 ? static_cast<double>(after.hwm_kb) / 1024.0 : -1.0, bound,
      bound > 0 ? rate / bound : 0.0, all.connections, exhausted && o.duration > 0 ? 1 : 0,
      machine / elapsed, other_cores, errors.empty() ? "none" : errors.c_str());
  return all.ok > 0 ? 0 : 1;
}

}  // namespace
}  // namespace enroll::bench

int main(int argc, char** argv) {
  enroll::bench::Options o;
  if (!enroll::bench::parseOptions(argc, argv, o)) {
    enroll::bench::usage();
    return 2;
  }
  return enroll::bench::run(std::move(o));
}
