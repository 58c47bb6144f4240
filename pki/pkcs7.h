#pragma once
/**
 * CMS SignedData (RFC 5652 5): the certs-only "degenerate" form EST returns certificates in, and
 * reading a signed message together with the certificates it carries.
 */
#include <vector>

#include "pki/certificate.h"

namespace enroll::pki {

/** DER of a certs-only SignedData holding certs in the given order. */
Result<Bytes> makeCertsOnly(const std::vector<Certificate>& certs);
/** The certificates inside a certs-only (or any) PKCS#7 SignedData. */
Result<std::vector<Certificate>> parseCertsOnly(const Bytes& der);

/** A SignedData as received, and the certificates it carries in their order. */
struct SignedMessage {
  /** The ContentInfo. It may or may not hold the certificates: look them up in certificates. */
  UniquePtr<CMS_ContentInfo> cms;
  std::vector<Certificate> certificates;
};

/**
 * Reads a DER ContentInfo holding a SignedData (kMalformed for anything else). The certificates
 * are read apart from the rest where they can be, without OpenSSL 3.0's key decoder
 * (direct_decode.h): a SCEP request costs one decoder context less that way.
 */
Result<SignedMessage> readSignedData(const uint8_t* der, size_t len);

}  // namespace enroll::pki
