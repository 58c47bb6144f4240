#pragma once
/** The registration authority's certificate and key for one label. */
#include "pki/certificate.h"
#include "pki/private_key.h"

namespace enroll::scep {

/**
 * The RA (or the CA itself, when no separate RA is configured): clients encrypt their requests
 * to its certificate, and it signs every CertRep. The key must be RSA: SCEP clients encrypt to it
 * with RSA key transport, and most can do nothing else.
 */
struct RaIdentity {
  pki::Certificate certificate;
  pki::PrivateKey key;
};

}  // namespace enroll::scep
