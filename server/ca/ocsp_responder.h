#pragma once
/**
 * OcspResponder (RFC 6960): answers OCSP requests from the store as it is now (a revocation is
 * visible as soon as it commits), signed by a delegated responder certificate per issuing CA
 * (id-kp-OCSPSigning, id-pkix-ocsp-nocheck). Bytes in, bytes out: the transport only decodes the
 * HTTP GET or POST and sends the answer back as application/ocsp-response.
 */
#include <memory>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/clock.h"
#include "pki/private_key.h"
#include "server/ca/certificate_authority.h"
#include "server/store/store.h"

namespace enroll::ca {

/** A CA and the responder certificate that signs OCSP answers about its certificates. */
struct OcspSigner {
  std::shared_ptr<CertificateAuthority> ca;
  pki::Certificate certificate;
  pki::PrivateKey key;
};

struct OcspSettings {
  /** nextUpdate - thisUpdate in each SingleResponse (how long a client may cache it). */
  std::time_t next_update_seconds = 3600;
  /** Most certificates one request may ask about. */
  int max_certificates_per_request = 64;
};

/** One answer: always an OCSPResponse (errors are OCSP error statuses), and what to log. */
struct OcspAnswer {
  pki::Bytes der;
  /** "good", "revoked", "unknown" (or several, comma-separated), "malformedRequest",
   * "internalError", "tryLater". */
  std::string outcome;
  std::string serials;  ///< the serials asked about, comma-separated (for the log)
  std::string detail;   ///< why a request was malformed or failed (log only)
  bool successful = false;
};

class OcspResponder {
 public:
  /**
   * Checks each signer: the responder certificate is issued by its CA, carries
   * id-kp-OCSPSigning, and matches its key. The first signer answers requests about
   * certificates of no CA of ours.
   */
  static pki::Result<std::unique_ptr<OcspResponder>> create(std::vector<OcspSigner> signers,
                                                            store::RevocationStore& store,
                                                            const pki::Clock& clock,
                                                            OcspSettings settings = {});

  /** Answers a DER OCSPRequest. Never fails: bad input gets malformedRequest. */
  OcspAnswer respond(const pki::Bytes& request_der) const;
  /** The malformedRequest answer, for requests the transport could not even decode. */
  static OcspAnswer malformed(const std::string& detail);

 private:
  struct Signer {
    OcspSigner signer;
    /** The CA's CertIDs (serial 0) for the hash algorithms clients use, to match requests. */
    std::vector<pki::UniquePtr<OCSP_CERTID>> ids;
  };
  OcspResponder(std::vector<Signer> signers, store::RevocationStore& store, const pki::Clock& clock,
                OcspSettings settings)
      : signers_(std::move(signers)), store_(store), clock_(clock), settings_(settings) {}
  /** The signer whose CA issued the certificate a CertID names; -1 if none. */
  int signerOf(const OCSP_CERTID* id) const;

  std::vector<Signer> signers_;
  store::RevocationStore& store_;
  const pki::Clock& clock_;
  OcspSettings settings_;
};

}  // namespace enroll::ca
