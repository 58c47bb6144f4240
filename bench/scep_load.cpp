// scep_load: SCEP (RFC 8894) PKCSReq load generator and crypto bound for enrolld.
//
// An independent client written on OpenSSL's CMS API only (nothing from server/ or protocols/ is
// linked; from pki/ only direct_decode.cpp, which cuts the RA certificate out of each reply
// before OpenSSL reads it: see checkCertRep). Before timing it makes N devices: an RSA-2048 key
// taken from a pool (RSA key generation is slow: K keys, reused across devices with distinct CNs),
// a PKCS#10 with the challengePassword and CN=<prefix>-<n>, and a self-signed signer certificate.
// Then C threads each loop over their devices: build the PKCSReq pkiMessage (SignedData SHA-256
// over an EnvelopedData AES-128-CBC to the RA certificate; signed attributes messageType=19,
// transactionID, senderNonce), POST it on a kept-alive HTTP/1.1 connection, verify the CertRep's
// signature with the RA certificate, check messageType=3, pkiStatus=SUCCESS, transactionID and
// recipientNonce, decrypt the envelope with the device key and (first and every K-th answer of
// each client) check that the issued certificate holds the device's public key.
//
// The crypto bound, timed on this machine in the same run: the public-key and symmetric
// operations one SCEP exchange costs on both sides; bound = cores / (their CPU seconds).
//
//   g++ -O2 -std=c++20 bench/scep_load.cpp -lssl -lcrypto -lpthread -o scep_load
//   scep_load --port P --ra DIR/ca/scep-ra.pem --challenge-file DIR/demo/scep-challenge.txt
//             -c 16 -t 10 --server-pid PID
//   scep_load --bound-only --ra DIR/ca/scep-ra.pem
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pki/direct_decode.h"

namespace {

// ---- OpenSSL ownership --------------------------------------------------------------------
template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const noexcept { F(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Free<X509, X509_free>>;
using Req = std::unique_ptr<X509_REQ, Free<X509_REQ, X509_REQ_free>>;
using Bio = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using Cms = std::unique_ptr<CMS_ContentInfo, Free<CMS_ContentInfo, CMS_ContentInfo_free>>;
using P7 = std::unique_ptr<PKCS7, Free<PKCS7, PKCS7_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX, EVP_MD_CTX_free>>;
using PkCtx = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Free<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
void freeCertStack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using CertStack = std::unique_ptr<STACK_OF(X509), Free<STACK_OF(X509), freeCertStack>>;
using Bytes = std::vector<unsigned char>;

std::string sslErrors() {
  std::string out;
  unsigned long e = 0;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "scep_load: %s%s%s\n", what.c_str(), ERR_peek_error() ? ": " : "",
               sslErrors().c_str());
  std::exit(1);
}

double threadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
double processCpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec * 1e-6;
}

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

// ---- SCEP attribute OIDs (RFC 8894 3.2.1) --------------------------------------------------
struct Oids {
  int message_type, pki_status, fail_info, sender_nonce, recipient_nonce, transaction_id;
};
int oid(const char* txt, const char* sn, const char* ln) {
  int nid = OBJ_txt2nid(txt);
  return nid != NID_undef ? nid : OBJ_create(txt, sn, ln);
}
const Oids& oids() {
  static const Oids o = {
      oid("2.16.840.1.113733.1.9.2", "scepMessageType", "SCEP messageType"),
      oid("2.16.840.1.113733.1.9.3", "scepPkiStatus", "SCEP pkiStatus"),
      oid("2.16.840.1.113733.1.9.4", "scepFailInfo", "SCEP failInfo"),
      oid("2.16.840.1.113733.1.9.5", "scepSenderNonce", "SCEP senderNonce"),
      oid("2.16.840.1.113733.1.9.6", "scepRecipientNonce", "SCEP recipientNonce"),
      oid("2.16.840.1.113733.1.9.7", "scepTransactionID", "SCEP transactionID"),
  };
  return o;
}

// ---- options -----------------------------------------------------------------------------
struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/scep";
  std::string ra_file;
  std::string issuer_file;  // issuing CA certificate: the kind of key that signs (default P-256)
  std::string challenge;
  int clients = 16;
  double seconds = 10;
  long devices = 0;  // 0: derived from seconds
  int key_pool = 256;
  std::string key_cache;
  int check_every = 16;
  int server_pid = 0;
  int cores = 0;
  std::string prefix;
  std::string tag = "enrolld";
  double bound_seconds_per_op = 0.25;
  bool bound_only = false;
  bool no_bound = false;
};

void usage() {
  std::puts(
      "scep_load --port P --ra RA.pem (--challenge S | --challenge-file F) [options]\n"
      "  --host H            server address (127.0.0.1)\n"
      "  --path /scep        SCEP path (/scep or /scep/<label>)\n"
      "  -c C                concurrent clients, one kept-alive connection each (16)\n"
      "  -t SECONDS          timed duration (10)\n"
      "  -n N                devices to prepare (default: 300 per second of -t, at least 64*C)\n"
      "  --keys K            RSA-2048 key pool size (256); keys are reused across devices\n"
      "  --key-cache FILE    PEM file of pool keys: read if present, else written after keygen\n"
      "  --check-every K     compare the issued certificate's key on the 1st and every K-th (16)\n"
      "  --server-pid PID    server CPU per enrollment (/proc/PID/stat), RSS, VmHWM\n"
      "  --issuer-cert F     issuing CA certificate: its key kind is used in the bound (P-256)\n"
      "  --cores N           cores in the bound (default: online CPUs)\n"
      "  --prefix S          device CN prefix (scep-<pid>)\n"
      "  --tag S             name printed in the RESULT line\n"
      "  --bound-only        time the crypto bound only\n"
      "  --no-bound          skip the crypto bound");
}

Options parse(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value for %s\n", argv[i]);
      std::exit(2);
    }
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--host")
      o.host = need(i);
    else if (a == "--port")
      o.port = std::atoi(need(i).c_str());
    else if (a == "--path")
      o.path = need(i);
    else if (a == "--ra")
      o.ra_file = need(i);
    else if (a == "--issuer-cert")
      o.issuer_file = need(i);
    else if (a == "--challenge")
      o.challenge = need(i);
    else if (a == "--challenge-file") {
      std::ifstream f(need(i));
      std::getline(f, o.challenge);
      while (!o.challenge.empty() && std::isspace(static_cast<unsigned char>(o.challenge.back())))
        o.challenge.pop_back();
    } else if (a == "-c")
      o.clients = std::atoi(need(i).c_str());
    else if (a == "-t")
      o.seconds = std::atof(need(i).c_str());
    else if (a == "-n")
      o.devices = std::atol(need(i).c_str());
    else if (a == "--keys")
      o.key_pool = std::atoi(need(i).c_str());
    else if (a == "--key-cache")
      o.key_cache = need(i);
    else if (a == "--check-every")
      o.check_every = std::max(1, std::atoi(need(i).c_str()));
    else if (a == "--server-pid")
      o.server_pid = std::atoi(need(i).c_str());
    else if (a == "--cores")
      o.cores = std::atoi(need(i).c_str());
    else if (a == "--prefix")
      o.prefix = need(i);
    else if (a == "--tag")
      o.tag = need(i);
    else if (a == "--bound-seconds")
      o.bound_seconds_per_op = std::atof(need(i).c_str());
    else if (a == "--bound-only")
      o.bound_only = true;
    else if (a == "--no-bound")
      o.no_bound = true;
    else if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      usage();
      std::exit(2);
    }
  }
  if (o.cores <= 0) o.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (o.prefix.empty()) o.prefix = "scep-" + std::to_string(getpid());
  if (o.clients < 1) o.clients = 1;
  return o;
}

// ---- key pool and devices ----------------------------------------------------------------
Pkey rsa2048() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})); }

std::vector<Pkey> keyPool(const Options& o, std::string& note) {
  std::vector<Pkey> keys;
  if (!o.key_cache.empty()) {
    Bio in(BIO_new_file(o.key_cache.c_str(), "r"));
    while (in && static_cast<int>(keys.size()) < o.key_pool) {
      Pkey k(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
      if (!k) break;
      if (EVP_PKEY_is_a(k.get(), "RSA") && EVP_PKEY_get_bits(k.get()) == 2048)
        keys.push_back(std::move(k));
    }
    ERR_clear_error();
  }
  const size_t cached = keys.size();
  const auto t0 = std::chrono::steady_clock::now();
  if (static_cast<int>(keys.size()) < o.key_pool) {
    const size_t missing = o.key_pool - keys.size();
    std::vector<Pkey> fresh(missing);
    std::atomic<size_t> next{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < o.cores; ++t)
      ts.emplace_back([&] {
        for (size_t i; (i = next++) < missing;) fresh[i] = rsa2048();
      });
    for (auto& t : ts) t.join();
    for (auto& k : fresh) {
      if (!k) die("RSA key generation failed");
      keys.push_back(std::move(k));
    }
    if (!o.key_cache.empty()) {
      Bio out(BIO_new_file(o.key_cache.c_str(), "w"));
      for (auto& k : keys)
        if (out)
          PEM_write_bio_PrivateKey(out.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr);
    }
  }
  const double gen = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char b[200];
  std::snprintf(b, sizeof b, "%zu RSA-2048 keys (%zu from cache, %zu generated in %.1f s)",
                keys.size(), cached, keys.size() - cached, gen);
  note = b;
  return keys;
}

struct Device {
  std::string cn;
  EVP_PKEY* key = nullptr;  // borrowed from the pool
  Cert signer;              // self-signed, subject CN
  Bytes csr_der;
  std::string transaction_id;
};

bool makeDevice(Device& d, const std::string& challenge) {
  EVP_PKEY* key = d.key;
  Req req(X509_REQ_new());
  X509_NAME* name = X509_NAME_new();
  bool ok = req && name &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>(d.cn.c_str()), -1, -1,
                                       0) == 1 &&
            X509_REQ_set_version(req.get(), 0) == 1 &&
            X509_REQ_set_subject_name(req.get(), name) == 1 &&
            X509_REQ_set_pubkey(req.get(), key) == 1 &&
            X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_ASC,
                                      reinterpret_cast<const unsigned char*>(challenge.c_str()),
                                      -1) == 1 &&
            X509_REQ_sign(req.get(), key, EVP_sha256()) > 0;
  if (ok) {
    unsigned char* der = nullptr;
    int n = i2d_X509_REQ(req.get(), &der);
    ok = n > 0;
    if (ok) d.csr_der.assign(der, der + n);
    OPENSSL_free(der);
  }
  Cert c(X509_new());
  unsigned char serial[8];
  ok = ok && c && RAND_bytes(serial, sizeof serial) == 1;
  if (ok) {
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get())) != nullptr;
    BN_free(bn);
  }
  ok = ok && X509_set_version(c.get(), 2) == 1 && X509_set_subject_name(c.get(), name) == 1 &&
       X509_set_issuer_name(c.get(), name) == 1 &&
       X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600) &&
       X509_gmtime_adj(X509_getm_notAfter(c.get()), 2 * 86400) &&
       X509_set_pubkey(c.get(), key) == 1 && X509_sign(c.get(), key, EVP_sha256()) > 0;
  X509_NAME_free(name);
  if (!ok) return false;
  d.signer = std::move(c);
  // transactionID: hex SHA-256 of the SubjectPublicKeyInfo and the CN, unique per device even
  // when devices share a pool key.
  unsigned char* spki = nullptr;
  int n = i2d_PUBKEY(key, &spki);
  if (n <= 0) return false;
  Bytes in(spki, spki + n);
  OPENSSL_free(spki);
  in.insert(in.end(), d.cn.begin(), d.cn.end());
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (EVP_Digest(in.data(), in.size(), md, &mdlen, EVP_sha256(), nullptr) != 1) return false;
  d.transaction_id = hex(md, mdlen);
  return true;
}

// ---- CMS: request and reply --------------------------------------------------------------
Bytes cmsDer(CMS_ContentInfo* cms) {
  unsigned char* der = nullptr;
  int n = i2d_CMS_ContentInfo(cms, &der);
  Bytes out;
  if (n > 0) out.assign(der, der + n);
  OPENSSL_free(der);
  return out;
}

/** PKCSReq pkiMessage: SignedData(SHA-256, signer = device's self-signed certificate) over
 *  EnvelopedData(AES-128-CBC, key transport to the RA) of the CSR. */
bool buildPkcsReq(const Device& d, X509* ra, const unsigned char nonce[16], Bytes& out) {
  CertStack recipients(sk_X509_new_null());
  if (!recipients) return false;
  X509_up_ref(ra);
  sk_X509_push(recipients.get(), ra);
  Bio csr(BIO_new_mem_buf(d.csr_der.data(), static_cast<int>(d.csr_der.size())));
  Cms env(CMS_encrypt(recipients.get(), csr.get(), EVP_aes_128_cbc(), CMS_BINARY));
  if (!env) return false;
  Bytes env_der = cmsDer(env.get());
  if (env_der.empty()) return false;

  const unsigned flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP;
  Cms sd(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  if (!sd) return false;
  CMS_SignerInfo* si = CMS_add1_signer(sd.get(), d.signer.get(), d.key, EVP_sha256(), flags);
  if (si == nullptr) return false;
  const Oids& o = oids();
  static const char kPkcsReq[] = "19";
  if (CMS_signed_add1_attr_by_NID(si, o.message_type, V_ASN1_PRINTABLESTRING, kPkcsReq, 2) != 1 ||
      CMS_signed_add1_attr_by_NID(si, o.transaction_id, V_ASN1_PRINTABLESTRING,
                                  d.transaction_id.data(),
                                  static_cast<int>(d.transaction_id.size())) != 1 ||
      CMS_signed_add1_attr_by_NID(si, o.sender_nonce, V_ASN1_OCTET_STRING, nonce, 16) != 1)
    return false;
  Bio content(BIO_new_mem_buf(env_der.data(), static_cast<int>(env_der.size())));
  if (CMS_final(sd.get(), content.get(), nullptr, CMS_BINARY) != 1) return false;
  out = cmsDer(sd.get());
  return !out.empty();
}

const ASN1_STRING* attr(CMS_SignerInfo* si, int nid, int type) {
  return static_cast<const ASN1_STRING*>(
      CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nid), -3, type));
}
std::string attrText(CMS_SignerInfo* si, int nid) {
  const ASN1_STRING* s = attr(si, nid, V_ASN1_PRINTABLESTRING);
  if (s == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

/** Checks a CertRep; "" when it is a verified SUCCESS for this request, else the error class. */
std::string checkCertRep(const Bytes& der, const Device& d, X509* ra, const unsigned char nonce[16],
                         bool compare_key) {
  // The reply carries the RA certificate, which this client does not use: it verifies with the
  // RA certificate it was given (CMS_NOINTERN below). It is cut out before d2i_CMS_ContentInfo,
  // which would build an OpenSSL 3.0 key decoder context for it: 0.1 ms, a sixth of this
  // client's CPU per enrollment, on the cores enrolld is measured on.
  auto parts = enroll::pki::direct::splitSignedData(der.data(), der.size());
  const Bytes& message = parts ? parts->without_certificates : der;
  const unsigned char* p = message.data();
  Cms cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(message.size())));
  if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return "bad-cms";
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(infos) != 1) return "bad-cms";
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
  const Oids& o = oids();
  if (attrText(si, o.message_type) != "3") return "not-certrep";
  const std::string status = attrText(si, o.pki_status);
  if (status == "2") return "FAILURE-" + attrText(si, o.fail_info);
  if (status == "3") return "PENDING";
  if (status != "0") return "bad-status";
  if (attrText(si, o.transaction_id) != d.transaction_id) return "tid-mismatch";
  const ASN1_STRING* rn = attr(si, o.recipient_nonce, V_ASN1_OCTET_STRING);
  if (rn == nullptr || ASN1_STRING_length(rn) != 16 ||
      std::memcmp(ASN1_STRING_get0_data(rn), nonce, 16) != 0)
    return "nonce-mismatch";
  // Signature by the RA certificate we were given (and only by it: CMS_NOINTERN).
  CertStack signers(sk_X509_new_null());
  X509_up_ref(ra);
  sk_X509_push(signers.get(), ra);
  Bio content(BIO_new(BIO_s_mem()));
  if (CMS_verify(cms.get(), signers.get(), nullptr, nullptr, content.get(),
                 CMS_NO_SIGNER_CERT_VERIFY | CMS_NOINTERN | CMS_BINARY) != 1) {
    ERR_clear_error();
    return "bad-signature";
  }
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(content.get(), &mem);
  if (mem == nullptr || mem->length == 0) return "no-content";
  const unsigned char* q = reinterpret_cast<const unsigned char*>(mem->data);
  Cms env(d2i_CMS_ContentInfo(nullptr, &q, static_cast<long>(mem->length)));
  Bio plain(BIO_new(BIO_s_mem()));
  if (!env ||
      CMS_decrypt(env.get(), d.key, d.signer.get(), nullptr, plain.get(), CMS_BINARY) != 1) {
    ERR_clear_error();
    return "decrypt";
  }
  if (!compare_key) return "";
  BIO_get_mem_ptr(plain.get(), &mem);
  q = reinterpret_cast<const unsigned char*>(mem->data);
  P7 p7(d2i_PKCS7(nullptr, &q, static_cast<long>(mem->length)));
  if (!p7 || !PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr ||
      sk_X509_num(p7->d.sign->cert) < 1)
    return "bad-pkcs7";
  for (int i = 0; i < sk_X509_num(p7->d.sign->cert); ++i) {
    X509* c = sk_X509_value(p7->d.sign->cert, i);
    if (EVP_PKEY_eq(X509_get0_pubkey(c), d.key) == 1) return "";
  }
  return "key-mismatch";
}

// ---- HTTP/1.1 keep-alive client ------------------------------------------------------------
struct Http {
  int fd = -1;
  std::string buf;  // bytes read past the last response
  long connects = 0;
  ~Http() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    buf.clear();
  }
  bool connect(const Options& o) {
    close();
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(o.port));
    inet_pton(AF_INET, o.host.c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close();
      return false;
    }
    ++connects;
    return true;
  }
  bool writeAll(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  bool fill() {
    char tmp[16384];
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }
  /** Reads one response; status 0 when the connection broke before a response head arrived. */
  bool readResponse(int& status, std::string& body, bool& server_closes) {
    size_t he;
    while ((he = buf.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return false;
    std::string head = buf.substr(0, he);
    buf.erase(0, he + 4);
    status = 0;
    if (head.size() > 12) status = std::atoi(head.c_str() + 9);
    long length = -1;
    bool chunked = false;
    server_closes = false;
    std::istringstream hs(head);
    std::string line;
    std::getline(hs, line);
    while (std::getline(hs, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string k = line.substr(0, colon), v = line.substr(colon + 1);
      for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (k == "content-length") length = std::atol(v.c_str());
      if (k == "transfer-encoding" && v.find("chunked") != std::string::npos) chunked = true;
      if (k == "connection" && v.find("close") != std::string::npos) server_closes = true;
    }
    body.clear();
    if (chunked) {
      for (;;) {
        size_t le;
        while ((le = buf.find("\r\n")) == std::string::npos)
          if (!fill()) return false;
        long n = std::strtol(buf.c_str(), nullptr, 16);
        buf.erase(0, le + 2);
        while (buf.size() < static_cast<size_t>(n) + 2)
          if (!fill()) return false;
        body.append(buf, 0, static_cast<size_t>(n));
        buf.erase(0, static_cast<size_t>(n) + 2);
        if (n == 0) break;  // (trailers not expected)
      }
    } else if (length >= 0) {
      while (buf.size() < static_cast<size_t>(length))
        if (!fill()) return false;
      body = buf.substr(0, static_cast<size_t>(length));
      buf.erase(0, static_cast<size_t>(length));
    } else {
      while (fill()) {
      }
      body.swap(buf);
      server_closes = true;
    }
    return true;
  }
};

// ---- /proc sampling ----------------------------------------------------------------------
double procCpuSeconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream in(s.substr(rp + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && (in >> field); ++i) {
    if (i == 14) ut = std::stoull(field);
    if (i == 15) st = std::stoull(field);
  }
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}
void procMem(int pid, long& rss_kb, long& hwm_kb) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss_kb = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) hwm_kb = std::atol(line.c_str() + 6);
  }
}
double machineBusySeconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  unsigned long long v[10] = {};
  f >> cpu;
  for (auto& x : v) f >> x;
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// ---- crypto bound ------------------------------------------------------------------------
double timeOp(const std::function<bool()>& op, double budget) {
  for (int i = 0; i < 3; ++i)
    if (!op()) return -1;
  long calls = 0;
  const double start = threadCpu();
  double now = start;
  while (now - start < budget || calls < 20) {
    for (int i = 0; i < 5; ++i)
      if (!op()) return -1;
    calls += 5;
    now = threadCpu();
  }
  return (now - start) * 1e6 / static_cast<double>(calls);
}

bool sign(EVP_PKEY* k, const Bytes& m, Bytes& sig) {
  MdCtx c(EVP_MD_CTX_new());
  size_t n = 0;
  if (!c || EVP_DigestSignInit(c.get(), nullptr, EVP_sha256(), nullptr, k) != 1 ||
      EVP_DigestSign(c.get(), nullptr, &n, m.data(), m.size()) != 1)
    return false;
  sig.resize(n);
  if (EVP_DigestSign(c.get(), sig.data(), &n, m.data(), m.size()) != 1) return false;
  sig.resize(n);
  return true;
}
bool verify(EVP_PKEY* k, const Bytes& m, const Bytes& sig) {
  MdCtx c(EVP_MD_CTX_new());
  return c && EVP_DigestVerifyInit(c.get(), nullptr, EVP_sha256(), nullptr, k) == 1 &&
         EVP_DigestVerify(c.get(), sig.data(), sig.size(), m.data(), m.size()) == 1;
}
bool rsaEncrypt(EVP_PKEY* k, const Bytes& in, Bytes& out) {  // PKCS#1 v1.5, as CMS uses
  PkCtx c(EVP_PKEY_CTX_new_from_pkey(nullptr, k, nullptr));
  size_t n = 0;
  if (!c || EVP_PKEY_encrypt_init(c.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(c.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_encrypt(c.get(), nullptr, &n, in.data(), in.size()) != 1)
    return false;
  out.resize(n);
  if (EVP_PKEY_encrypt(c.get(), out.data(), &n, in.data(), in.size()) != 1) return false;
  out.resize(n);
  return true;
}
bool rsaDecrypt(EVP_PKEY* k, const Bytes& in, Bytes& out) {
  PkCtx c(EVP_PKEY_CTX_new_from_pkey(nullptr, k, nullptr));
  size_t n = 0;
  if (!c || EVP_PKEY_decrypt_init(c.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(c.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_decrypt(c.get(), nullptr, &n, in.data(), in.size()) != 1)
    return false;
  out.resize(n);
  if (EVP_PKEY_decrypt(c.get(), out.data(), &n, in.data(), in.size()) != 1) return false;
  out.resize(n);
  return true;
}
bool aes(bool enc, const Bytes& key, const Bytes& in, Bytes& out) {
  CipherCtx c(EVP_CIPHER_CTX_new());
  unsigned char iv[16] = {};
  int n1 = 0, n2 = 0;
  out.resize(in.size() + 16);
  return c &&
         EVP_CipherInit_ex(c.get(), EVP_aes_128_cbc(), nullptr, key.data(), iv, enc ? 1 : 0) == 1 &&
         EVP_CipherUpdate(c.get(), out.data(), &n1, in.data(), static_cast<int>(in.size())) == 1 &&
         EVP_CipherFinal_ex(c.get(), out.data() + n1, &n2) == 1 &&
         (out.resize(static_cast<size_t>(n1 + n2)), true);
}

struct Op {
  const char* side;
  std::string name;
  double micros;
};

/** Times the crypto of one SCEP PKCSReq/CertRep exchange with keys of the run's kinds. */
double cryptoBound(const Options& o, EVP_PKEY* client_key, X509_REQ* csr, X509* ra,
                   EVP_PKEY* issuer_kind, std::vector<Op>& ops, double& client_us,
                   double& server_us) {
  EVP_PKEY* ra_pub = X509_get0_pubkey(ra);
  if (ra_pub == nullptr || !EVP_PKEY_is_a(ra_pub, "RSA"))
    die("the RA certificate's key is not RSA");
  // The RA's private key is not ours: a fresh key of the same size signs and decrypts.
  Pkey ra_like(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(EVP_PKEY_get_bits(ra_pub))));
  Pkey ca_like;
  if (issuer_kind != nullptr && EVP_PKEY_is_a(issuer_kind, "EC")) {
    char g[64] = {};
    size_t len = 0;
    EVP_PKEY_get_group_name(issuer_kind, g, sizeof g, &len);
    ca_like.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", g));
  } else if (issuer_kind != nullptr && EVP_PKEY_is_a(issuer_kind, "RSA")) {
    ca_like.reset(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(EVP_PKEY_get_bits(issuer_kind))));
  } else {
    ca_like.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  }
  if (!ra_like || !ca_like) die("cannot make keys for the bound");

  Bytes attrs(200, 0x31), tbs(500, 0x30), sig_c, sig_ra, sig_ca, cek(16, 7), wrapped_ra, wrapped_c,
      plain, csr_plain(720, 0x30), rep_plain(1200, 0x30), ct_req, ct_rep, tmp;
  RAND_bytes(cek.data(), 16);
  sign(client_key, attrs, sig_c);
  sign(ra_like.get(), attrs, sig_ra);
  rsaEncrypt(ra_like.get(), cek, wrapped_ra);
  rsaEncrypt(client_key, cek, wrapped_c);
  aes(true, cek, csr_plain, ct_req);
  aes(true, cek, rep_plain, ct_rep);
  const double b = o.bound_seconds_per_op;
  ops.clear();
  auto add = [&](const char* side, const std::string& name, const std::function<bool()>& f) {
    double us = timeOp(f, b);
    if (us < 0) die("bound: " + name + " failed");
    ops.push_back({side, name, us});
  };
  // client builds the PKCSReq
  add("client", "SignedData signature (RSA-2048 sign, SHA-256)",
      [&] { return sign(client_key, attrs, tmp); });
  add("client", "key transport to the RA (RSA-2048 public encrypt)",
      [&] { return rsaEncrypt(ra_pub, cek, tmp); });
  add("client", "AES-128-CBC encrypt of the CSR (720 B)",
      [&] { return aes(true, cek, csr_plain, tmp); });
  // server
  add("server", "verify the request's signature (RSA-2048 public)",
      [&] { return verify(client_key, attrs, sig_c); });
  add("server", "open the envelope (RA RSA-2048 private decrypt)",
      [&] { return rsaDecrypt(ra_like.get(), wrapped_ra, tmp); });
  add("server", "AES-128-CBC decrypt of the CSR", [&] { return aes(false, cek, ct_req, tmp); });
  add("server", "verify the CSR signature (X509_REQ_verify, RSA-2048)",
      [&] { return X509_REQ_verify(csr, X509_REQ_get0_pubkey(csr)) == 1; });
  {
    char kind[80];
    if (EVP_PKEY_is_a(ca_like.get(), "EC")) {
      char g[64] = {};
      size_t len = 0;
      EVP_PKEY_get_group_name(ca_like.get(), g, sizeof g, &len);
      std::snprintf(kind, sizeof kind, "sign the certificate (issuing CA, EC %s)", g);
    } else {
      std::snprintf(kind, sizeof kind, "sign the certificate (issuing CA, RSA-%d)",
                    EVP_PKEY_get_bits(ca_like.get()));
    }
    add("server", kind, [&] { return sign(ca_like.get(), tbs, tmp); });
  }
  add("server", "CertRep signature (RA RSA-2048 sign)",
      [&] { return sign(ra_like.get(), attrs, tmp); });
  add("server", "key transport to the client (RSA-2048 public encrypt)",
      [&] { return rsaEncrypt(client_key, cek, tmp); });
  add("server", "AES-128-CBC encrypt of the reply (1200 B)",
      [&] { return aes(true, cek, rep_plain, tmp); });
  // client reads the CertRep
  add("client", "verify the CertRep signature (RSA-2048 public)",
      [&] { return verify(ra_like.get(), attrs, sig_ra); });
  add("client", "open the reply (RSA-2048 private decrypt)",
      [&] { return rsaDecrypt(client_key, wrapped_c, tmp); });
  add("client", "AES-128-CBC decrypt of the reply", [&] { return aes(false, cek, ct_rep, tmp); });
  client_us = server_us = 0;
  for (auto& op : ops) (std::strcmp(op.side, "client") == 0 ? client_us : server_us) += op.micros;
  return o.cores / ((client_us + server_us) * 1e-6);
}

Cert readCert(const std::string& file) {
  Bio in(BIO_new_file(file.c_str(), "r"));
  if (!in) die("cannot read " + file);
  Cert c(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  if (!c) die("no PEM certificate in " + file);
  return c;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(p * v.size())) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  if (o.ra_file.empty()) die("--ra RA.pem is required");
  Cert ra = readCert(o.ra_file);
  Cert issuer;
  if (!o.issuer_file.empty()) issuer = readCert(o.issuer_file);
  oids();
  if (!o.bound_only && (o.port <= 0 || o.challenge.empty()))
    die("--port and --challenge/--challenge-file are required");

  // -- key pool, then the crypto bound (same run, before the load), then the devices --
  Options ko = o;
  if (o.bound_only) ko.key_pool = std::min(o.key_pool, 1);
  std::string key_note;
  std::vector<Pkey> pool = keyPool(ko, key_note);
  const std::string challenge = o.challenge.empty() ? "x" : o.challenge;
  std::vector<Op> ops;
  double bound = 0, client_us = 0, server_us = 0;
  if (!o.no_bound) {
    Device probe;
    probe.cn = o.prefix + "-bound";
    probe.key = pool[0].get();
    if (!makeDevice(probe, challenge)) die("cannot make a device");
    const unsigned char* p = probe.csr_der.data();
    Req csr(d2i_X509_REQ(nullptr, &p, static_cast<long>(probe.csr_der.size())));
    bound =
        cryptoBound(o, probe.key, csr.get(), ra.get(),
                    issuer ? X509_get0_pubkey(issuer.get()) : nullptr, ops, client_us, server_us);
  }
  auto printBound = [&] {
    if (o.no_bound) return;
    std::printf("  crypto bound (CPU time per operation, one thread, this machine):\n");
    for (auto& op : ops)
      std::printf("    %-6s %-62s %9.1f us\n", op.side, op.name.c_str(), op.micros);
    std::printf(
        "    client %.1f us + server %.1f us = %.1f us per enrollment -> bound = %d cores / "
        "%.3f ms = %.0f enrollments/s\n",
        client_us, server_us, client_us + server_us, o.cores, (client_us + server_us) / 1000,
        bound);
  };
  if (o.bound_only) {
    std::printf("scep_load: crypto bound only, RA %s\n", o.ra_file.c_str());
    printBound();
    std::printf("RESULT tag=bound bound=%.1f client_us=%.1f server_us=%.1f\n", bound, client_us,
                server_us);
    return 0;
  }
  // Enough devices to run at 75% of the bound for the whole -t (a row that runs out says so).
  long n_dev = o.devices;
  if (n_dev <= 0)
    n_dev = std::max<long>(static_cast<long>((bound > 0 ? 0.75 * bound : 1000) * o.seconds),
                           64L * o.clients);
  const auto t_prep = std::chrono::steady_clock::now();
  std::vector<Device> devs(static_cast<size_t>(n_dev));
  {
    std::atomic<long> next{0};
    std::atomic<bool> bad{false};
    std::vector<std::thread> ts;
    for (int t = 0; t < o.cores; ++t)
      ts.emplace_back([&] {
        for (long i; (i = next++) < n_dev;) {
          Device& d = devs[static_cast<size_t>(i)];
          d.cn = o.prefix + "-" + std::to_string(i);
          d.key = pool[static_cast<size_t>(i) % pool.size()].get();
          if (!makeDevice(d, challenge)) bad = true;
        }
      });
    for (auto& t : ts) t.join();
    if (bad) die("cannot make a device");
  }
  const double prep =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_prep).count();
  std::printf("scep_load %s: %s%s, C=%d, %.0f s, RA %s\n", o.tag.c_str(), o.host.c_str(),
              o.path.c_str(), o.clients, o.seconds, o.ra_file.c_str());
  std::printf(
      "  devices: %ld prepared in %.1f s (CSR with challenge + self-signed signer each); "
      "keys: %s%s\n",
      n_dev, prep, key_note.c_str(),
      static_cast<long>(pool.size()) < n_dev
          ? ", reused across devices with distinct CNs and transactionIDs"
          : "");

  // -- load --
  struct Thread {
    std::vector<double> lat_ms;
    std::map<std::string, long> errors;
    long ok = 0, checked = 0, connects = 0;
    bool exhausted = false;
  };
  std::vector<Thread> th(static_cast<size_t>(o.clients));
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int> ready{0};
  const std::string head_start =
      "POST " + o.path + "?operation=PKIOperation HTTP/1.1\r\nHost: " + o.host + ":" +
      std::to_string(o.port) + "\r\nContent-Type: application/x-pki-message\r\nContent-Length: ";
  std::vector<std::thread> workers;
  for (int t = 0; t < o.clients; ++t)
    workers.emplace_back([&, t] {
      Thread& me = th[static_cast<size_t>(t)];
      Http http;
      me.lat_ms.reserve(static_cast<size_t>(n_dev / o.clients + 1));
      ++ready;
      while (!go) std::this_thread::yield();
      long sent = 0;
      // Client t takes devices t, t+C, t+2C...: with a pool size that is a multiple of C, no two
      // clients ever use the same key object at once.
      for (long i = t; !stop; i += o.clients, ++sent) {
        if (i >= n_dev) {
          me.exhausted = true;
          break;
        }
        const Device& d = devs[static_cast<size_t>(i)];
        unsigned char nonce[16];
        RAND_bytes(nonce, sizeof nonce);
        Bytes msg;
        if (!buildPkcsReq(d, ra.get(), nonce, msg)) {
          ERR_clear_error();
          ++me.errors["build"];
          continue;
        }
        std::string req = head_start + std::to_string(msg.size()) + "\r\n\r\n";
        req.append(reinterpret_cast<const char*>(msg.data()), msg.size());
        const auto t0 = std::chrono::steady_clock::now();
        int status = 0;
        std::string body;
        bool closes = false, got = false;
        for (int attempt = 0; attempt < 2 && !got; ++attempt) {  // one retry on a stale keep-alive
          // A failure on a connection kept alive from an earlier request may only mean that the
          // server closed it meanwhile: retried once on a new connection, counted only then.
          const bool reused = http.fd >= 0;
          if (!reused && !http.connect(o)) {
            ++me.errors["connect"];
            break;
          }
          const bool count = !reused || attempt > 0;
          if (!http.writeAll(req)) {
            http.close();
            if (!count) continue;
            ++me.errors["write"];
            break;
          }
          if (!http.readResponse(status, body, closes)) {
            http.close();
            if (!count) continue;
            ++me.errors["read"];
            break;
          }
          got = true;
        }
        if (!got) continue;
        if (closes) http.close();
        if (status != 200) {
          ++me.errors["http-" + std::to_string(status)];
          continue;
        }
        const bool compare = (sent % o.check_every) == 0;
        Bytes der(body.begin(), body.end());
        std::string err = checkCertRep(der, d, ra.get(), nonce, compare);
        if (!err.empty()) {
          ++me.errors[err];
          continue;
        }
        me.lat_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        ++me.ok;
        if (compare) ++me.checked;
      }
      me.connects = http.connects;
    });
  while (ready < o.clients) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  long rss_peak = 0, rss = 0, hwm = 0;
  const double srv0 = o.server_pid ? procCpuSeconds(o.server_pid) : 0;
  const double cli0 = processCpu(), mach0 = machineBusySeconds();
  const auto start = std::chrono::steady_clock::now();
  go = true;
  const auto deadline = start + std::chrono::duration<double>(o.seconds);
  std::atomic<int> done{0};
  std::thread monitor([&] {
    while (!stop || done < o.clients) {
      if (o.server_pid) {
        procMem(o.server_pid, rss, hwm);
        rss_peak = std::max(rss_peak, rss);
      }
      if (std::chrono::steady_clock::now() >= deadline) stop = true;
      if (done >= o.clients) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  for (auto& w : workers) {
    w.join();
    ++done;
  }
  stop = true;
  monitor.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double srv = o.server_pid ? procCpuSeconds(o.server_pid) - srv0 : -1;
  const double cli = processCpu() - cli0, mach = machineBusySeconds() - mach0;
  if (o.server_pid) {
    procMem(o.server_pid, rss, hwm);
    rss_peak = std::max(rss_peak, rss);
  }

  std::vector<double> lat;
  std::map<std::string, long> errors;
  long ok = 0, checked = 0, connects = 0;
  bool exhausted = false;
  long min_ok = -1, max_ok = 0, idle_clients = 0;
  for (auto& t : th) {
    min_ok = min_ok < 0 ? t.ok : std::min(min_ok, t.ok);
    max_ok = std::max(max_ok, t.ok);
    if (t.ok == 0) ++idle_clients;
    lat.insert(lat.end(), t.lat_ms.begin(), t.lat_ms.end());
    for (auto& [k, v] : t.errors) errors[k] += v;
    ok += t.ok;
    checked += t.checked;
    connects += t.connects;
    exhausted = exhausted || t.exhausted;
  }
  std::sort(lat.begin(), lat.end());
  const double rate = ok / elapsed, p50 = percentile(lat, 0.50), p99 = percentile(lat, 0.99);
  std::string err_s;
  long n_err = 0;
  for (auto& [k, v] : errors) {
    err_s += (err_s.empty() ? "" : ",") + k + ":" + std::to_string(v);
    n_err += v;
  }
  std::printf("  enrollments: %ld ok in %.2f s = %.1f/s; errors: %s%s\n", ok, elapsed, rate,
              err_s.empty() ? "none" : err_s.c_str(), exhausted ? " (devices ran out)" : "");
  std::printf(
      "  latency (write request -> verified, decrypted CertRep): p50 %.2f ms, p99 %.2f ms; "
      "connections %ld; issued key compared on %ld answers\n",
      p50, p99, connects, checked);
  std::printf(
      "  per client: %ld to %ld enrollments; %ld of %d clients got none (a server that "
      "serves fewer connections than C at once starves the rest)\n",
      min_ok, max_ok, idle_clients, o.clients);
  const double srv_ms = (o.server_pid && ok > 0) ? srv * 1000 / ok : -1;
  const double cli_ms = ok > 0 ? cli * 1000 / ok : -1;
  const double other = o.server_pid ? (mach - srv - cli) / elapsed : -1;
  if (o.server_pid)
    std::printf(
        "  server pid %d: %.3f ms CPU per enrollment (%.2f cores), peak VmRSS %.1f MB, "
        "VmHWM %.1f MB\n",
        o.server_pid, srv_ms, srv / elapsed, rss_peak / 1024.0, hwm / 1024.0);
  std::printf("  client (scep_load): %.3f ms CPU per enrollment (%.2f cores)\n", cli_ms,
              cli / elapsed);
  if (other >= 0)
    std::printf("  machine: %.2f of %d cores busy; other processes %.2f cores\n", mach / elapsed,
                o.cores, other);
  printBound();
  if (!o.no_bound)
    std::printf(
        "  achieved/bound: %.1f / %.0f = %.1f%%; server CPU vs its crypto: %.3f ms vs "
        "%.3f ms (%.1fx); client %.3f ms vs %.3f ms\n",
        rate, bound, 100 * rate / bound, srv_ms, server_us / 1000, srv_ms / (server_us / 1000),
        cli_ms, client_us / 1000);
  std::printf(
      "RESULT tag=%s c=%d ok=%ld n_errors=%ld rate=%.2f p50_ms=%.3f p99_ms=%.3f "
      "server_cpu_ms=%.3f server_rss_peak_mb=%.1f server_hwm_mb=%.1f client_cpu_ms=%.3f "
      "bound=%.1f ratio=%.4f server_crypto_ms=%.3f client_crypto_ms=%.3f other_cores=%.2f "
      "connections=%ld idle_clients=%ld exhausted=%d errors=%s\n",
      o.tag.c_str(), o.clients, ok, n_err, rate, p50, p99, srv_ms, rss_peak / 1024.0, hwm / 1024.0,
      cli_ms, bound, bound > 0 ? rate / bound : 0, server_us / 1000, client_us / 1000, other,
      connects, idle_clients, exhausted ? 1 : 0, err_s.empty() ? "none" : err_s.c_str());
  return ok > 0 ? 0 : 1;
}
