#pragma once
/**
 * The delegated OCSP responder of each issuing CA (RFC 6960 4.2.2.2): a P-256 key and a
 * certificate the CA issues with id-kp-OCSPSigning and id-pkix-ocsp-nocheck, kept in
 * cas.<name>.ocsp_certificate / ocsp_key. `init` makes them; `serve` makes them for an older data
 * folder that lacks them and renews one that expires within 30 days.
 */
#include <ostream>
#include <vector>

#include "server/app/config.h"
#include "server/ca/ocsp_responder.h"

namespace enroll::app {

/** Lifetime of a responder certificate made here (days; never past its CA). */
constexpr int kOcspResponderDays = 365;

/**
 * Loads the responder of every configured CA, making (or renewing) the files first where needed;
 * each file made is reported on log. Throws ConfigError.
 */
std::vector<ca::OcspSigner> ensureOcspSigners(const Config& config, const Loaded& loaded,
                                              std::ostream& log);

}  // namespace enroll::app
