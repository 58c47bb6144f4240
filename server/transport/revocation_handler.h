#pragma once
/**
 * Plain-HTTP adapters for revocation (served by PlainHttpHandlerFactory): CRLs as DER
 * (application/pkix-crl) at /crl/<ca>.crl and /crl/<ca>-delta.crl, CA certificates
 * (application/pkix-cert) at /ca/<ca>.crt, and the OCSP responder at /ocsp (RFC 6960 A.1: POST
 * application/ocsp-request, or GET /ocsp/<url-encoded base64 request>). Decode, call, encode,
 * one log line per request.
 */
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>

#include "server/ca/crl_publisher.h"
#include "server/ca/ocsp_responder.h"

namespace enroll::transport {

/** What the HTTP listener publishes for revocation; either part may be null. */
struct RevocationEndpoints {
  const ca::CrlPublisher* crls = nullptr;
  const ca::OcspResponder* ocsp = nullptr;
};

/** A handler for a request to one of the revocation paths; null when the path is not one. */
Poco::Net::HTTPRequestHandler* makeRevocationHandler(const RevocationEndpoints& endpoints,
                                                     const Poco::Net::HTTPServerRequest& request);

}  // namespace enroll::transport
