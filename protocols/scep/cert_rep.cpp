#include "protocols/scep/cert_rep.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "protocols/scep/scep_oids.h"
#include "protocols/scep/signed_data.h"

namespace enroll::scep {
namespace {

using pki::Bytes;

constexpr size_t kNonceSize = 16;  // RFC 8894 3.2.1.5: a 16-byte random number.

Bytes textBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes numberBytes(int n) { return textBytes(std::to_string(n)); }

pki::Result<std::vector<SignedAttribute>> scepAttributes(const CertRep& rep) {
  const auto& oids = ScepOids::get();
  ENROLL_TRY(Bytes sender_nonce, pki::randomBytes(kNonceSize));
  std::vector<SignedAttribute> attrs = {
      {oids.message_type, V_ASN1_PRINTABLESTRING,
       numberBytes(static_cast<int>(MessageType::kCertRep))},
      {oids.transaction_id, V_ASN1_PRINTABLESTRING, textBytes(rep.transaction_id)},
      {oids.pki_status, V_ASN1_PRINTABLESTRING, numberBytes(static_cast<int>(rep.status))},
      {oids.sender_nonce, V_ASN1_OCTET_STRING, std::move(sender_nonce)},
      {oids.recipient_nonce, V_ASN1_OCTET_STRING, rep.recipient_nonce},
  };
  if (rep.status == PkiStatus::kFailure) {
    attrs.push_back(
        {oids.fail_info, V_ASN1_PRINTABLESTRING, numberBytes(static_cast<int>(rep.fail_info))});
  }
  return attrs;
}

/** SUCCESS content: EnvelopedData to the requester around a degenerate SignedData. */
pki::Result<Bytes> successContent(const CertRep& rep) {
  if (!rep.recipient) {
    return pki::makeError(pki::ErrorCode::kInternal, "CertRep SUCCESS without a recipient");
  }
  ENROLL_TRY(Bytes degenerate, makeDegenerate(rep.certificates, rep.crl_der));
  const int cipher = rep.cipher_nid ? rep.cipher_nid : NID_aes_128_cbc;
  return envelopeTo(degenerate, *rep.recipient, cipher);
}

}  // namespace

CertRep CertRep::answering(const PkiMessage& msg) {
  CertRep rep;
  rep.transaction_id = msg.transaction_id;
  rep.recipient_nonce = msg.sender_nonce;
  rep.recipient = msg.signer;
  rep.digest_nid = msg.digest_nid;
  rep.cipher_nid = msg.cipher_nid;
  return rep;
}

pki::Result<Bytes> encodeCertRep(const CertRep& rep, const RaIdentity& ra) {
  ENROLL_TRY(auto attributes, scepAttributes(rep));
  Bytes content;
  if (rep.status == PkiStatus::kSuccess) {
    ENROLL_TRY(content, successContent(rep));
  }
  const int digest = rep.digest_nid ? rep.digest_nid : NID_sha256;
  return signData(content, ra, digest, attributes);
}

}  // namespace enroll::scep
