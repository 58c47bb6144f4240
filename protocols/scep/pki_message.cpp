#include "protocols/scep/pki_message.h"

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/pkcs7.h>

#include <cctype>
#include <charconv>
#include <memory>

#include "pki/pkcs7.h"
#include "protocols/scep/scep_oids.h"
#include "protocols/scep/signed_data.h"

namespace enroll::scep {
namespace {

using pki::Bytes;
using pki::ErrorCode;
using pki::UniquePtr;

/** Tolerated clock difference when checking the signer's validity. */
constexpr std::time_t kClockSkewSeconds = 300;

std::string_view asView(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<size_t>(ASN1_STRING_length(s))};
}

/** The single value of a signed attribute of the given type, or nullptr. */
const ASN1_STRING* signedAttribute(CMS_SignerInfo* si, int nid, int type) {
  return static_cast<const ASN1_STRING*>(
      CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nid), -3, type));
}

pki::Result<MessageType> parseMessageType(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return pki::makeError(ErrorCode::kMalformed, "messageType is not a number");
  }
  switch (value) {
    case 3:
    case 17:
    case 19:
    case 20:
    case 21:
    case 22:
      return static_cast<MessageType>(value);
    default:
      return pki::makeError(ErrorCode::kMalformed, "unknown messageType " + std::string(text));
  }
}

/** Reads the SCEP attributes that any answer needs; without them there is no CertRep to send. */
pki::Result<PkiMessage> readAttributes(CMS_SignerInfo* si) {
  const auto& oids = ScepOids::get();
  const ASN1_STRING* type = signedAttribute(si, oids.message_type, V_ASN1_PRINTABLESTRING);
  const ASN1_STRING* tid = signedAttribute(si, oids.transaction_id, V_ASN1_PRINTABLESTRING);
  if (!type || !tid || ASN1_STRING_length(tid) == 0) {
    pki::drainOpensslErrors();
    return pki::makeError(ErrorCode::kMalformed, "pkiMessage lacks messageType or transactionID");
  }
  PkiMessage msg;
  ENROLL_TRY(msg.type, parseMessageType(asView(type)));
  msg.transaction_id = std::string(asView(tid));
  if (const ASN1_STRING* nonce = signedAttribute(si, oids.sender_nonce, V_ASN1_OCTET_STRING)) {
    auto bytes = asView(nonce);
    msg.sender_nonce.assign(bytes.begin(), bytes.end());
  }
  pki::drainOpensslErrors();
  return msg;
}

/** The certificate in the message that matches the signer info, if any. */
std::optional<pki::Certificate> findSigner(const pki::SignedMessage& message, CMS_SignerInfo* si) {
  for (const pki::Certificate& c : message.certificates) {
    if (CMS_SignerInfo_cert_cmp(si, c.native()) == 0) return c;
  }
  return std::nullopt;
}

/**
 * A throw-away signer (RFC 8894 2.3): a certificate that names itself as its issuer. Its own
 * signature is not checked: made with the key the message signature was just verified with, it
 * would prove nothing more. Such a signer carries no authority (the ScepService does not pass it
 * on as a credential), so a certificate wrongly taken for one only loses what it might have had.
 */
bool isSelfSigned(const pki::Certificate& cert) {
  return X509_NAME_cmp(X509_get_subject_name(cert.native()), X509_get_issuer_name(cert.native())) ==
         0;
}

int signerDigest(CMS_SignerInfo* si) {
  X509_ALGOR* digest = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, nullptr);
  return digest ? OBJ_obj2nid(digest->algorithm) : NID_undef;
}

/** Verifies the signature with the signer certificate found in the message; returns the content. */
pki::Result<Bytes> verifiedContent(CMS_ContentInfo* cms, const pki::Certificate& signer) {
  // Only the signature is checked here: who the signer is (self-signed, bootstrap certificate,
  // operational certificate of ours) is the Enroller's decision.
  pki::X509Stack signers(sk_X509_new_null());
  UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  if (!signers || !out || !sk_X509_push(signers.get(), pki::upRef(signer.native()).release())) {
    return pki::opensslError(ErrorCode::kInternal, "out of memory");
  }
  const unsigned flags = CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY;
  if (CMS_verify(cms, signers.get(), nullptr, nullptr, out.get(), flags) != 1) {
    return pki::opensslError(ErrorCode::kUnauthenticated, "signature does not verify");
  }
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(out.get(), &mem);
  return mem ? Bytes(mem->data, mem->data + mem->length) : Bytes{};
}

void noteLegacy(PkiMessage& msg, int nid) {
  if (!msg.legacy_algorithms.empty()) msg.legacy_algorithms += ", ";
  msg.legacy_algorithms += algorithmName(nid);
}

/** Who signed, with which digest, and whether the signature holds; fills the signed content. */
std::optional<Refusal> checkSignature(const pki::SignedMessage& message, CMS_SignerInfo* si,
                                      const AlgorithmPolicy& policy, std::time_t now,
                                      PkiMessage& msg, Bytes& content) {
  msg.signer = findSigner(message, si);
  if (!msg.signer) {
    return Refusal{FailInfo::kBadMessageCheck, "the signer certificate is not in the message"};
  }
  msg.signer_self_signed = isSelfSigned(*msg.signer);

  // RFC 8894 3.5.2: the client must use algorithms the CA offers.
  msg.digest_nid = signerDigest(si);
  if (!policy.allowsDigest(msg.digest_nid)) {
    return Refusal{FailInfo::kBadAlg, "digest " + algorithmName(msg.digest_nid) + " not allowed"};
  }
  if (AlgorithmPolicy::isLegacyDigest(msg.digest_nid)) noteLegacy(msg, msg.digest_nid);

  auto verified = verifiedContent(message.cms.get(), *msg.signer);
  if (!verified) return Refusal{FailInfo::kBadMessageCheck, verified.error().toString()};
  content = std::move(*verified);

  // A certificate that carries authority (not a throw-away self-signed one) must be valid now.
  if (!msg.signer_self_signed &&
      (now + kClockSkewSeconds < msg.signer->notBefore() || now > msg.signer->notAfter())) {
    return Refusal{FailInfo::kBadTime, "signer certificate not valid now"};
  }
  return std::nullopt;
}

/** Checks the envelope's cipher against the policy, then decrypts it with the RA key. */
std::optional<Refusal> openContent(const Bytes& content, const RaIdentity& ra,
                                   const AlgorithmPolicy& policy, PkiMessage& msg) {
  auto cipher = envelopeCipher(content);
  if (!cipher) return Refusal{FailInfo::kBadRequest, cipher.error().toString()};
  msg.cipher_nid = *cipher;
  if (!policy.allowsCipher(msg.cipher_nid)) {
    return Refusal{FailInfo::kBadAlg,
                   "content cipher " + algorithmName(msg.cipher_nid) + " not allowed"};
  }
  if (AlgorithmPolicy::isLegacyCipher(msg.cipher_nid)) noteLegacy(msg, msg.cipher_nid);

  auto data = openEnvelope(content, ra);
  if (!data) return Refusal{FailInfo::kBadMessageCheck, data.error().toString()};
  msg.message_data = std::move(*data);
  return std::nullopt;
}

/** Signature, then envelope: the first problem becomes the Refusal. */
std::optional<Refusal> checkAndOpen(const pki::SignedMessage& message, CMS_SignerInfo* si,
                                    const RaIdentity& ra, const AlgorithmPolicy& policy,
                                    std::time_t now, PkiMessage& msg) {
  if (msg.type == MessageType::kCertRep) {
    return Refusal{FailInfo::kBadRequest, "a CertRep is not a request"};
  }
  Bytes content;
  if (auto refusal = checkSignature(message, si, policy, now, msg, content)) return refusal;
  return openContent(content, ra, policy, msg);
}

std::string serialToHex(const ASN1_INTEGER* serial) {
  UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex ? hex : "");
  OPENSSL_free(hex);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

}  // namespace

std::string_view messageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kCertRep:
      return "CertRep";
    case MessageType::kRenewalReq:
      return "RenewalReq";
    case MessageType::kPKCSReq:
      return "PKCSReq";
    case MessageType::kCertPoll:
      return "CertPoll";
    case MessageType::kGetCert:
      return "GetCert";
    case MessageType::kGetCRL:
      return "GetCRL";
  }
  return "unknown";
}

std::string_view pkiStatusName(PkiStatus status) {
  switch (status) {
    case PkiStatus::kSuccess:
      return "SUCCESS";
    case PkiStatus::kFailure:
      return "FAILURE";
    case PkiStatus::kPending:
      return "PENDING";
  }
  return "unknown";
}

std::string_view failInfoName(FailInfo info) {
  switch (info) {
    case FailInfo::kBadAlg:
      return "badAlg";
    case FailInfo::kBadMessageCheck:
      return "badMessageCheck";
    case FailInfo::kBadRequest:
      return "badRequest";
    case FailInfo::kBadTime:
      return "badTime";
    case FailInfo::kBadCertId:
      return "badCertId";
  }
  return "unknown";
}

pki::Result<PkiMessage> decodePkiMessage(const Bytes& der, const RaIdentity& ra,
                                         const AlgorithmPolicy& policy, std::time_t now) {
  ENROLL_TRY(pki::SignedMessage message, pki::readSignedData(der.data(), der.size()));
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(message.cms.get());
  if (sk_CMS_SignerInfo_num(infos) != 1) {
    return pki::makeError(ErrorCode::kMalformed, "pkiMessage must have exactly one signer");
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
  ENROLL_TRY(PkiMessage msg, readAttributes(si));
  msg.refusal = checkAndOpen(message, si, ra, policy, now, msg);
  // RFC 8894 3.2.1.5: senderNonce is required; without it a replay cannot be told apart.
  if (!msg.refusal && msg.sender_nonce.empty()) {
    msg.refusal = Refusal{FailInfo::kBadRequest, "senderNonce missing"};
  }
  if (msg.refusal) msg.message_data.clear();
  pki::drainOpensslErrors();
  return msg;
}

pki::Result<IssuerAndSerial> parseIssuerAndSerial(const Bytes& der) {
  const unsigned char* p = der.data();
  struct Free {
    void operator()(PKCS7_ISSUER_AND_SERIAL* x) const { PKCS7_ISSUER_AND_SERIAL_free(x); }
  };
  std::unique_ptr<PKCS7_ISSUER_AND_SERIAL, Free> ias(
      d2i_PKCS7_ISSUER_AND_SERIAL(nullptr, &p, static_cast<long>(der.size())));
  if (!ias || !ias->issuer || !ias->serial) {
    return pki::opensslError(ErrorCode::kMalformed, "not an IssuerAndSerialNumber");
  }
  return IssuerAndSerial{pki::nameToString(ias->issuer), serialToHex(ias->serial)};
}

pki::Result<IssuerAndSubject> parseIssuerAndSubject(const Bytes& der) {
  // IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name }: step into the SEQUENCE and read
  // two Names.
  const unsigned char* p = der.data();
  long length = 0;
  int tag = 0, xclass = 0;
  int rc = ASN1_get_object(&p, &length, &tag, &xclass, static_cast<long>(der.size()));
  if ((rc & 0x80) || tag != V_ASN1_SEQUENCE || !(rc & V_ASN1_CONSTRUCTED)) {
    pki::drainOpensslErrors();
    return pki::makeError(ErrorCode::kMalformed, "not an IssuerAndSubject");
  }
  const unsigned char* end = p + length;
  UniquePtr<X509_NAME> issuer(d2i_X509_NAME(nullptr, &p, end - p));
  UniquePtr<X509_NAME> subject(issuer ? d2i_X509_NAME(nullptr, &p, end - p) : nullptr);
  if (!issuer || !subject)
    return pki::opensslError(ErrorCode::kMalformed, "not an IssuerAndSubject");
  return IssuerAndSubject{pki::nameToString(issuer.get()), pki::nameToString(subject.get())};
}

}  // namespace enroll::scep
