#pragma once
/**
 * Encrypted server-generated keys (RFC 7030 4.4.1.2 and 4.4.2, RFC 9148 content format 280):
 * what a CSR asks for, and the CMS structure that carries the key back.
 *
 * The structure, outermost first, as RFC 7030 4.4.2 nests it ("the private key is placed inside
 * of a CMS SignedData ... further protected by placing it inside of a CMS EnvelopedData"):
 *
 *   ContentInfo EnvelopedData                      to the device's key (ktri RSA, kari ECDH)
 *     encrypted content, type id-signedData
 *       SignedData                                 signed by whoever made the key
 *         eContentType id-ct-KP-aKeyPackage (2.16.840.1.101.2.1.2.78.5)
 *         eContent AsymmetricKeyPackage (RFC 5958) = SEQUENCE OF OneAsymmetricKey (PKCS#8)
 */
#include <optional>
#include <vector>

#include "pki/certificate.h"
#include "pki/certificate_request.h"
#include "pki/private_key.h"

namespace enroll::pki {

/** How a CSR asks for its server-generated key to be protected (RFC 7030 4.4.1.1, 4.4.1.2). */
struct KeyProtectionRequest {
  /** id-aa-asymmDecryptKeyID: encrypt to the asymmetric key this identifier names. */
  std::optional<Bytes> asymmetric_key_id;
  /** id-aa-decryptKeyID (RFC 4108): encrypt with the pre-shared symmetric key it names. */
  std::optional<Bytes> symmetric_key_id;
  /** smimeCapabilities (RFC 8551 2.5.2): the capability OIDs as NIDs, in the client's order. */
  std::vector<int> capabilities;

  /** True when the CSR names a key to encrypt to: smimeCapabilities alone asks for nothing. */
  bool wantsEncryption() const { return asymmetric_key_id || symmetric_key_id; }
};

/**
 * Reads the key-protection attributes of a CSR. Malformed for an attribute whose value is not
 * what its RFC says (an OCTET STRING for the identifiers, a SEQUENCE for the capabilities).
 */
Result<KeyProtectionRequest> readKeyProtectionRequest(const CertificateRequest& csr);

/**
 * The content-encryption algorithm for a key package: the first of AES-256/192/128-CBC that the
 * client's smimeCapabilities list, AES-256-CBC when they list no content cipher at all.
 * InvalidArgument when they list content ciphers but none of those.
 */
Result<int> chooseContentCipher(const KeyProtectionRequest& request);

/**
 * The key identifier of a certificate's public key: its subjectKeyIdentifier extension, or,
 * without one, the SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 4.2.1.2, method 1).
 */
Bytes keyIdentifier(const Certificate& cert);

/** Who signs a key package: a certificate and the key that goes with it (any EVP_PKEY, also one
 * held by a provider such as an HSM). */
struct CmsSigner {
  const Certificate& certificate;
  EVP_PKEY* key = nullptr;
  /** The signature's digest; nullptr: the key type's default (SHA-256 for RSA and EC). */
  const EVP_MD* digest = nullptr;
  /** The signingTime attribute (the caller's clock); 0: OpenSSL takes the system time. */
  std::time_t signing_time = 0;
};

/**
 * DER ContentInfo of the RFC 7030 4.4.2 structure above for key: signed by signer (with its
 * certificate included), then encrypted with cipher_nid to recipient's public key: RSA key
 * transport (PKCS#1 v1.5, recipient named by issuer and serial) or ECDH key agreement
 * (dhSinglePass-stdDH with a SHA-256 KDF, AES key wrap). InvalidArgument when the recipient's
 * key can neither transport nor agree a key (Ed25519).
 */
Result<Bytes> makeServerGeneratedKey(const PrivateKey& key, const Certificate& recipient,
                                     const CmsSigner& signer, int cipher_nid);

/** True when key can receive an EnvelopedData (RSA or EC). */
bool canReceiveEnvelope(const EVP_PKEY* key);

}  // namespace enroll::pki
