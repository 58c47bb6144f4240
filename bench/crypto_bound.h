// The crypto bound: the public-key operations one EST enrollment costs on both sides, timed on
// this machine, and the enrollment rate they allow when client and server share the cores.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string>
#include <vector>

namespace enroll::bench {

/** The real objects of one enrollment, so every operation is timed with the kinds of keys and
 *  the chain lengths that the run actually used. Pointers are borrowed. */
struct BoundInputs {
  /** ECDHE group as OpenSSL names it ("prime256v1", "X25519"). */
  std::string group = "prime256v1";
  /** Bootstrap certificate (IDevID) of one device, its key, and the CA that signed it. */
  X509* bootstrap_cert = nullptr;
  EVP_PKEY* bootstrap_key = nullptr;
  X509* bootstrap_issuer = nullptr;
  /** One PKCS#10 request of the run. */
  X509_REQ* csr = nullptr;
  /** The server's chain as the client verified it, leaf first, trust anchor last. */
  std::vector<X509*> server_chain;
  /** One operational certificate the server issued, and its issuer's public key (a key of the
   *  same kind is made to time the signature). Null issuer key: assume P-256. */
  X509* issued = nullptr;
  EVP_PKEY* issuing_public_key = nullptr;
  /** Cores shared by client and server. */
  int cores = 2;
  /** CPU time spent timing each operation. */
  double seconds_per_op = 0.25;
};

/** One timed operation. */
struct OpTime {
  std::string side;           // "client" or "server"
  std::string name;           // what it stands for in the protocol
  std::string detail;         // key kinds, count
  double micros = 0;          // CPU microseconds per enrollment
  bool in_keepalive = false;  // also paid per enrollment on a kept-alive connection
};

/** The timed operations and the bounds they give. */
struct BoundResult {
  std::vector<OpTime> ops;
  double client_micros = 0;
  double server_micros = 0;
  double keepalive_micros = 0;
  int cores = 2;
  /** Enrollments/s when every core does only this crypto: full handshake per enrollment. */
  double fresh_per_second = 0;
  /** Same with a kept-alive connection: only the CSR check and the signature remain. */
  double keepalive_per_second = 0;
  std::string error;  // non-empty when an operation failed
};

/** Times every operation of BoundInputs on the calling thread (CPU time). */
[[nodiscard]] BoundResult measureCryptoBound(const BoundInputs& in);

/** Prints the per-operation table and the two bounds. */
void printBound(const BoundResult& r, std::FILE* out);

}  // namespace enroll::bench
