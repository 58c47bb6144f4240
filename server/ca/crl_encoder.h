#pragma once
/**
 * The CRL encoder (RFC 5280 5): writes a CertificateList's DER straight into one byte buffer
 * sized exactly beforehand, signs the TBSCertList bytes with EVP_DigestSign and wraps them. No
 * X509_CRL and no per-entry heap object is made, so a CRL of a million entries costs its own size
 * in memory and a fraction of a second (OpenSSL's X509_CRL holds one X509_REVOKED per entry, sorts
 * them and encodes them through its generic ASN.1 templates).
 *
 * OpenSSL still encodes the parts it does well: the issuer Name, the CRL extensions and the
 * signature AlgorithmIdentifier of the CA's key (ECDSA with SHA-256/384/512, RSA PKCS#1 v1.5,
 * Ed25519).
 */
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "pki/encoding.h"
#include "pki/result.h"

namespace enroll::ca {

/** One revoked certificate as a CRL lists it. */
struct CrlEntry {
  std::string serial_hex;  ///< the serial number as hex (either case, leading zeros allowed)
  std::time_t revoked_at = 0;
  int reason = 0;  ///< RFC 5280 5.3.1 CRLReason; 0 (unspecified) is written as no extension
};

/** What a full or delta CRL says (RFC 5280 5). */
struct CrlContent {
  /** Entries, in the order given; reason 8 (removeFromCRL) only in a delta CRL. */
  std::vector<CrlEntry> revoked;
  std::time_t this_update = 0;
  std::time_t next_update = 0;  ///< absolute time
  int64_t crl_number = 0;
  /** Non-zero: a delta CRL against the full CRL with this number (DeltaCRLIndicator). */
  int64_t delta_base = 0;
  /** For a full CRL: where its delta CRLs are published (Freshest CRL, RFC 5280 5.2.6). */
  std::string freshest_crl_url;
};

/**
 * Encodes and signs content as a v2 CRL issued by issuer (its subject becomes the CRL's issuer,
 * its subject key identifier the authority key identifier) with key, the issuer's private key.
 * InvalidArgument for an entry whose serial is not hex or whose reason is not a CRLReason, for a
 * time GeneralizedTime cannot hold, or for a bad Freshest CRL URL; Internal when OpenSSL fails.
 */
pki::Result<pki::Bytes> encodeCrl(const CrlContent& content, X509* issuer, EVP_PKEY* key,
                                  const EVP_MD* digest);

}  // namespace enroll::ca
