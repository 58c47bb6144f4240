#pragma once
/**
 * The CMS building blocks that SCEP messages are made of (RFC 8894 3.1): SignedData with signed
 * attributes, EnvelopedData, and the degenerate certs-only SignedData. Used by the CertRep
 * encoder and by GetNextCACert; every builder lives here once.
 */
#include <optional>
#include <vector>

#include "pki/certificate.h"
#include "protocols/scep/ra_identity.h"

namespace enroll::scep {

/** One signed attribute: its NID, an ASN.1 string type and the raw string bytes. */
struct SignedAttribute {
  int nid = 0;
  int asn1_type = 0;  ///< V_ASN1_PRINTABLESTRING or V_ASN1_OCTET_STRING
  pki::Bytes value;
};

/**
 * DER of a CMS SignedData whose encapsulated content (type id-data) is content, signed by the RA
 * with digest_nid, carrying the RA certificate and the given signed attributes (OpenSSL adds
 * contentType, messageDigest and signingTime).
 */
pki::Result<pki::Bytes> signData(const pki::Bytes& content, const RaIdentity& signer,
                                 int digest_nid, const std::vector<SignedAttribute>& attributes);

/** DER of a degenerate SignedData (no signers) holding certificates and, optionally, one CRL. */
pki::Result<pki::Bytes> makeDegenerate(const std::vector<pki::Certificate>& certificates,
                                       const std::optional<pki::Bytes>& crl_der);

/** DER of a CMS EnvelopedData: content encrypted with cipher_nid, key transported to recipient. */
pki::Result<pki::Bytes> envelopeTo(const pki::Bytes& content, const pki::Certificate& recipient,
                                   int cipher_nid);

/** The content-encryption algorithm of a DER EnvelopedData (NID), without decrypting it. */
pki::Result<int> envelopeCipher(const pki::Bytes& enveloped_der);

/** Decrypts a DER EnvelopedData addressed to the RA; an error if it is for someone else. */
pki::Result<pki::Bytes> openEnvelope(const pki::Bytes& enveloped_der, const RaIdentity& recipient);

}  // namespace enroll::scep
