#pragma once
/** Certs-only PKCS#7 / CMS SignedData (RFC 5652 "degenerate" form), as EST returns certificates. */
#include <vector>

#include "pki/certificate.h"

namespace enroll::pki {

/** DER of a certs-only SignedData holding certs in the given order. */
Result<Bytes> makeCertsOnly(const std::vector<Certificate>& certs);
/** The certificates inside a certs-only (or any) PKCS#7 SignedData. */
Result<std::vector<Certificate>> parseCertsOnly(const Bytes& der);

}  // namespace enroll::pki
