#pragma once
/**
 * Reading requests, certificates and SignedData without OpenSSL 3.0's OSSL_DECODER.
 *
 * d2i_X509_REQ, d2i_X509 and d2i_CMS_ContentInfo build a decoder context for every public key
 * they meet: 100-150 us each, a tenth of an enrollment's server CPU, where OpenSSL's direct RSA
 * and EC decoders take a few microseconds. The functions here read the structure with an ASN.1
 * template that keeps the SubjectPublicKeyInfo as bytes, decode the key directly and rebuild the
 * object around it, and keep the result only if it encodes back to exactly the bytes received,
 * so that a signature covers what the object says. Anything else (Ed25519, explicit curve
 * parameters, BER, unique identifiers) gives nothing and leaves no OpenSSL error behind: the
 * caller then takes the general d2i, which decides what the bytes are.
 *
 * Used by CertificateRequest::fromDer, Certificate::fromDer and readSignedData (pkcs7.h) only.
 */
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "pki/encoding.h"
#include "pki/openssl_ptr.h"

namespace enroll::pki::direct {

/** A DER PKCS#10 request (exactly len bytes), or nullptr. */
UniquePtr<X509_REQ> decodeRequest(const uint8_t* der, size_t len);

/** A DER certificate (exactly len bytes), or nullptr. */
UniquePtr<X509> decodeCertificate(const uint8_t* der, size_t len);

/** A DER ContentInfo holding a SignedData, taken apart so its certificates can be read alone. */
struct SignedDataParts {
  /** The same ContentInfo without the SignedData's certificates field. */
  Bytes without_certificates;
  /** Each certificate's DER, as a span of the input, in order. */
  std::vector<std::pair<const uint8_t*, size_t>> certificates;
};

/**
 * The parts of a definite-length SignedData ContentInfo whose certificates are all X.509
 * certificates; nothing for anything else (other content types, BER, attribute certificates).
 */
std::optional<SignedDataParts> splitSignedData(const uint8_t* der, size_t len);

}  // namespace enroll::pki::direct
