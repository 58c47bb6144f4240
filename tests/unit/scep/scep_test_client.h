#pragma once
/**
 * A SCEP client for tests, written with OpenSSL's PKCS7 API (the server uses the CMS API), so
 * that the messages do not come from the codec under test.
 */
#include <optional>
#include <string>
#include <vector>

#include "pki/certificate.h"
#include "pki/private_key.h"

namespace enroll::scep::test {

/** What goes into one pkiMessage. */
struct ClientMessage {
  int message_type = 19;  ///< PKCSReq
  std::string transaction_id = "tx-1";
  pki::Bytes sender_nonce = pki::Bytes(16, 0x42);
  pki::Bytes message_data;  ///< CSR DER, IssuerAndSubject or IssuerAndSerialNumber.
  pki::Certificate signer;
  pki::PrivateKey signer_key;
  pki::Certificate recipient;  ///< The RA.
  const EVP_MD* digest = EVP_sha256();
  const EVP_CIPHER* cipher = EVP_aes_256_cbc();
  bool tamper_signature = false;
  bool omit_transaction_id = false;
};

/** DER of the pkiMessage. */
pki::Bytes buildPkiMessage(const ClientMessage& m);

/** A CertRep as the test client reads it. */
struct ClientCertRep {
  bool signature_ok = false;
  int signer_digest_nid = 0;
  std::string message_type;
  std::string transaction_id;
  std::string pki_status;  ///< "0", "2", "3"
  std::string fail_info;   ///< empty unless FAILURE
  pki::Bytes sender_nonce;
  pki::Bytes recipient_nonce;
  int cipher_nid = 0;                          ///< Of the envelope, when there is one.
  std::vector<pki::Certificate> certificates;  ///< Decrypted SUCCESS content.
  int crl_count = 0;
};

/** Verifies a CertRep with the RA certificate and decrypts its content with the requester's key. */
ClientCertRep readCertRep(const pki::Bytes& der, const pki::Certificate& ra,
                          const pki::Certificate& requester, const pki::PrivateKey& requester_key);

/** DER of an IssuerAndSerialNumber for cert (GetCert) or of any issuer/serial. */
pki::Bytes issuerAndSerial(const pki::Certificate& cert);
/** DER of an IssuerAndSubject (CertPoll). */
pki::Bytes issuerAndSubject(const pki::Certificate& issuer, const std::string& subject_cn);

/** NID of a SCEP attribute OID (registered by the test if nobody did). */
int scepNid(const char* oid);

}  // namespace enroll::scep::test
