#include "crypto_bound.h"

#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include <ctime>
#include <functional>

#include "ossl.h"

namespace enroll::bench {
namespace {

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/** CPU microseconds per call of `op`, run until `budget` CPU seconds are spent; -1 if it fails. */
double timeOp(const std::function<bool()>& op, double budget) {
  for (int i = 0; i < 3; ++i)
    if (!op()) return -1;
  long calls = 0;
  const double start = threadCpuSeconds();
  double now = start;
  while (now - start < budget || calls < 20) {
    for (int i = 0; i < 10; ++i)
      if (!op()) return -1;
    calls += 10;
    now = threadCpuSeconds();
  }
  return (now - start) * 1e6 / static_cast<double>(calls);
}

UniquePtr<EVP_PKEY> ecdheKey(const std::string& group) {
  if (group == "X25519" || group == "X448")
    return UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, group.c_str()));
  return UniquePtr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group.c_str()));
}

/** One side's ECDHE: make an ephemeral key, decode the peer's share from the wire, derive. */
bool ecdheOnce(const std::string& group, EVP_PKEY* params, const unsigned char* peer_share,
               size_t peer_len) {
  UniquePtr<EVP_PKEY> mine = ecdheKey(group);
  UniquePtr<EVP_PKEY> peer(EVP_PKEY_new());
  if (!mine || !peer || EVP_PKEY_copy_parameters(peer.get(), params) != 1 ||
      EVP_PKEY_set1_encoded_public_key(peer.get(), peer_share, peer_len) != 1)
    return false;
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, mine.get(), nullptr));
  unsigned char secret[128];
  size_t len = sizeof secret;
  return ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
         EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) == 1 &&
         EVP_PKEY_derive(ctx.get(), secret, &len) == 1;
}

bool signOnce(EVP_PKEY* key, const unsigned char* msg, size_t n, unsigned char* sig,
              size_t* sig_len) {
  UniquePtr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  return md && EVP_DigestSignInit(md.get(), nullptr, digestFor(key), nullptr, key) == 1 &&
         EVP_DigestSign(md.get(), sig, sig_len, msg, n) == 1;
}

bool verifyOnce(EVP_PKEY* key, const unsigned char* msg, size_t n, const unsigned char* sig,
                size_t sig_len) {
  UniquePtr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  return md && EVP_DigestVerifyInit(md.get(), nullptr, digestFor(key), nullptr, key) == 1 &&
         EVP_DigestVerify(md.get(), sig, sig_len, msg, n) == 1;
}

std::string chainDetail(const std::vector<X509*>& chain) {
  const size_t n = chain.empty() ? 0 : chain.size() - 1;
  std::string d = std::to_string(n) + " signature(s)";
  for (size_t i = 0; i < n; ++i)
    d += std::string(i == 0 ? ": leaf" : ", ca") + " by " +
         describeKey(X509_get0_pubkey(chain[i + 1]));
  return d;
}

}  // namespace

BoundResult measureCryptoBound(const BoundInputs& in) {
  BoundResult r;
  r.cores = in.cores;
  const double budget = in.seconds_per_op;
  auto add = [&](const char* side, const char* name, std::string detail, double us, bool ka) {
    if (us < 0 && r.error.empty()) r.error = std::string(name) + ": " + drainErrors();
    r.ops.push_back(OpTime{side, name, std::move(detail), us, ka});
  };

  // ECDHE, the same on both sides: a peer share to decode, and the group's parameters.
  UniquePtr<EVP_PKEY> peer = ecdheKey(in.group);
  unsigned char* share = nullptr;
  size_t share_len = peer ? EVP_PKEY_get1_encoded_public_key(peer.get(), &share) : 0;
  double ecdhe = -1;
  if (share_len > 0)
    ecdhe = timeOp([&] { return ecdheOnce(in.group, peer.get(), share, share_len); }, budget);
  OPENSSL_free(share);

  // A handshake transcript hash stands in for what TLS signs.
  unsigned char transcript[48];
  RAND_bytes(transcript, sizeof transcript);

  // Client.
  add("client", "ECDHE keygen+derive", in.group, ecdhe, false);
  unsigned char cv_sig[1024];
  size_t cv_len = sizeof cv_sig;
  double cv_sign = -1;
  if (signOnce(in.bootstrap_key, transcript, sizeof transcript, cv_sig, &cv_len)) {
    cv_sign = timeOp(
        [&] {
          unsigned char s[1024];
          size_t l = sizeof s;
          return signOnce(in.bootstrap_key, transcript, sizeof transcript, s, &l);
        },
        budget);
  }
  add("client", "sign CertificateVerify", describeKey(in.bootstrap_key), cv_sign, false);
  double chain_verify = -1;
  if (in.server_chain.size() >= 2) {
    chain_verify = timeOp(
        [&] {
          for (size_t i = 0; i + 1 < in.server_chain.size(); ++i)
            if (X509_verify(in.server_chain[i], X509_get0_pubkey(in.server_chain[i + 1])) != 1)
              return false;
          return true;
        },
        budget);
  } else if (in.server_chain.size() == 1) {
    chain_verify = 0;  // the server's certificate is itself the trust anchor
  }
  add("client", "verify server chain", chainDetail(in.server_chain), chain_verify, false);
  // The server's handshake signature, made with a key of the server's kind.
  EVP_PKEY* server_pub = in.server_chain.empty() ? nullptr : X509_get0_pubkey(in.server_chain[0]);
  UniquePtr<EVP_PKEY> server_key = server_pub != nullptr ? keyLike(server_pub) : nullptr;
  unsigned char ske_sig[1024];
  size_t ske_len = sizeof ske_sig;
  double ske_verify = -1;
  if (server_key && signOnce(server_key.get(), transcript, sizeof transcript, ske_sig, &ske_len))
    ske_verify = timeOp(
        [&] {
          return verifyOnce(server_key.get(), transcript, sizeof transcript, ske_sig, ske_len);
        },
        budget);
  add("client", "verify ServerKeyExchange", describeKey(server_key.get()), ske_verify, false);

  // Server.
  add("server", "ECDHE keygen+derive", in.group, ecdhe, false);
  double ske = -1;
  if (server_key)
    ske = timeOp(
        [&] {
          unsigned char s[1024];
          size_t l = sizeof s;
          return signOnce(server_key.get(), transcript, sizeof transcript, s, &l);
        },
        budget);
  add("server", "sign ServerKeyExchange", describeKey(server_key.get()), ske, false);
  double client_chain = -1;
  if (in.bootstrap_cert != nullptr && in.bootstrap_issuer != nullptr)
    client_chain = timeOp(
        [&] { return X509_verify(in.bootstrap_cert, X509_get0_pubkey(in.bootstrap_issuer)) == 1; },
        budget);
  add("server", "verify client chain",
      "1 signature: bootstrap by " +
          describeKey(in.bootstrap_issuer ? X509_get0_pubkey(in.bootstrap_issuer) : nullptr),
      client_chain, false);
  EVP_PKEY* boot_pub = in.bootstrap_cert ? X509_get0_pubkey(in.bootstrap_cert) : nullptr;
  double cv_verify = -1;
  if (boot_pub != nullptr)
    cv_verify =
        timeOp([&] { return verifyOnce(boot_pub, transcript, sizeof transcript, cv_sig, cv_len); },
               budget);
  add("server", "verify CertificateVerify", describeKey(boot_pub), cv_verify, false);
  double csr_verify = -1;
  if (in.csr != nullptr)
    csr_verify =
        timeOp([&] { return X509_REQ_verify(in.csr, X509_REQ_get0_pubkey(in.csr)) == 1; }, budget);
  add("server", "verify CSR signature",
      describeKey(in.csr ? X509_REQ_get0_pubkey(in.csr) : nullptr), csr_verify, true);

  UniquePtr<EVP_PKEY> issuing_key;
  if (in.issuing_public_key != nullptr)
    issuing_key = keyLike(in.issuing_public_key);
  else
    issuing_key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  UniquePtr<X509> to_sign(in.issued ? X509_dup(in.issued) : nullptr);
  const EVP_MD* md = issuing_key ? digestFor(issuing_key.get()) : nullptr;
  if (in.issued != nullptr && issuing_key) {
    int md_nid = 0;
    int pk_nid = 0;
    if (OBJ_find_sigid_algs(X509_get_signature_nid(in.issued), &md_nid, &pk_nid) == 1 &&
        md_nid != NID_undef)
      md = EVP_get_digestbynid(md_nid);
  }
  double issue = -1;
  if (to_sign && issuing_key)
    issue = timeOp([&] { return X509_sign(to_sign.get(), issuing_key.get(), md) > 0; }, budget);
  add("server", "sign issued certificate",
      describeKey(issuing_key.get()) + (in.issuing_public_key ? "" : " (assumed)"), issue, true);

  for (const OpTime& op : r.ops) {
    double us = op.micros < 0 ? 0 : op.micros;
    (op.side == "client" ? r.client_micros : r.server_micros) += us;
    if (op.in_keepalive) r.keepalive_micros += us;
  }
  const double total = r.client_micros + r.server_micros;
  r.fresh_per_second = total > 0 ? in.cores * 1e6 / total : 0;
  r.keepalive_per_second = r.keepalive_micros > 0 ? in.cores * 1e6 / r.keepalive_micros : 0;
  return r;
}

void printBound(const BoundResult& r, std::FILE* out) {
  std::fprintf(out, "crypto bound (CPU time per enrollment, measured on this machine)\n");
  for (const OpTime& op : r.ops) {
    if (op.micros < 0)
      std::fprintf(out, "  %-6s %-26s %10s   %s\n", op.side.c_str(), op.name.c_str(), "FAILED",
                   op.detail.c_str());
    else
      std::fprintf(out, "  %-6s %-26s %8.1f us  %s%s\n", op.side.c_str(), op.name.c_str(),
                   op.micros, op.detail.c_str(), op.in_keepalive ? "  [keepalive too]" : "");
  }
  std::fprintf(out, "  client %.1f us + server %.1f us = %.1f us per full-handshake enrollment\n",
               r.client_micros, r.server_micros, r.client_micros + r.server_micros);
  std::fprintf(out,
               "  bound on %d cores: %.0f enrollments/s (fresh), %.0f enrollments/s "
               "(keepalive: CSR check + signature only)\n",
               r.cores, r.fresh_per_second, r.keepalive_per_second);
  if (!r.error.empty()) std::fprintf(out, "  error: %s\n", r.error.c_str());
}

}  // namespace enroll::bench
