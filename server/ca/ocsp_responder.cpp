#include "server/ca/ocsp_responder.h"

#include <algorithm>

#include "server/ca/certificate_builder.h"

namespace enroll::ca {

using pki::ErrorCode;
using pki::makeError;

namespace {

pki::Bytes encodeResponse(OCSP_RESPONSE* response) {
  int len = i2d_OCSP_RESPONSE(response, nullptr);
  if (len <= 0) return {};
  pki::Bytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  i2d_OCSP_RESPONSE(response, &p);
  return out;
}

/** An OCSPResponse with an error status and no body (RFC 6960 4.2.1). */
OcspAnswer errorAnswer(int status, const std::string& outcome, const std::string& detail) {
  OcspAnswer answer;
  pki::UniquePtr<OCSP_RESPONSE> response(OCSP_response_create(status, nullptr));
  if (response) answer.der = encodeResponse(response.get());
  answer.outcome = outcome;
  answer.detail = detail;
  pki::drainOpensslErrors();
  return answer;
}

/** The serial of a CertID as lower-case hex without leading zeros; empty if negative or bad. */
std::string serialHex(const ASN1_INTEGER* serial) {
  pki::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn || BN_is_negative(bn.get())) return {};
  char* hex = BN_bn2hex(bn.get());
  if (!hex) return {};
  std::string out(hex);
  OPENSSL_free(hex);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out.erase(0, std::min(out.find_first_not_of('0'), out.size() - 1));
  return out;
}

}  // namespace

pki::Result<std::unique_ptr<OcspResponder>> OcspResponder::create(std::vector<OcspSigner> signers,
                                                                  store::RevocationStore& store,
                                                                  const pki::Clock& clock,
                                                                  OcspSettings settings) {
  if (signers.empty()) return makeError(ErrorCode::kInvalidArgument, "no OCSP signer");
  std::vector<Signer> checked;
  for (auto& s : signers) {
    const std::string& name = s.ca->name();
    if (!s.certificate.isSignedBy(s.ca->certificate())) {
      return makeError(ErrorCode::kInvalidArgument,
                       "the OCSP responder certificate of CA '" + name + "' is not issued by it");
    }
    // RFC 6960 4.2.2.2: the extension must be there and name id-kp-OCSPSigning (OpenSSL
    // reports "any usage" when a certificate has no extended key usage at all).
    if ((X509_get_extension_flags(s.certificate.native()) & EXFLAG_XKUSAGE) == 0 ||
        (X509_get_extended_key_usage(s.certificate.native()) & XKU_OCSP_SIGN) == 0) {
      return makeError(ErrorCode::kInvalidArgument, "the OCSP responder certificate of CA '" +
                                                        name + "' lacks id-kp-OCSPSigning");
    }
    if (X509_check_private_key(s.certificate.native(), s.key.native()) != 1) {
      return pki::opensslError(
          ErrorCode::kInvalidArgument,
          "the OCSP responder key of CA '" + name + "' does not match its certificate");
    }
    Signer signer{std::move(s), {}};
    for (const EVP_MD* md : {EVP_sha1(), EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
      pki::UniquePtr<OCSP_CERTID> id(
          OCSP_cert_to_id(md, nullptr, signer.signer.ca->certificate().native()));
      if (!id) return pki::opensslError(ErrorCode::kInternal, "cannot hash the CA for OCSP");
      signer.ids.push_back(std::move(id));
    }
    checked.push_back(std::move(signer));
  }
  return std::unique_ptr<OcspResponder>(
      new OcspResponder(std::move(checked), store, clock, settings));
}

int OcspResponder::signerOf(const OCSP_CERTID* id) const {
  for (size_t i = 0; i < signers_.size(); ++i) {
    for (const auto& ours : signers_[i].ids) {
      // Compares the hash algorithm, issuer name hash and issuer key hash (not the serial).
      if (OCSP_id_issuer_cmp(ours.get(), id) == 0) return static_cast<int>(i);
    }
  }
  return -1;
}

OcspAnswer OcspResponder::malformed(const std::string& detail) {
  return errorAnswer(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, "malformedRequest", detail);
}

OcspAnswer OcspResponder::respond(const pki::Bytes& request_der) const {
  const unsigned char* p = request_der.data();
  pki::UniquePtr<OCSP_REQUEST> request(
      d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request_der.size())));
  if (!request) return malformed("not a DER OCSPRequest: " + pki::drainOpensslErrors());
  if (p != request_der.data() + request_der.size())
    return malformed("trailing bytes after the OCSPRequest");
  int count = OCSP_request_onereq_count(request.get());
  if (count <= 0) return malformed("the request names no certificate");
  if (count > settings_.max_certificates_per_request)
    return malformed("the request names " + std::to_string(count) + " certificates");

  // One responder signs the whole answer: the one of the first certificate's CA that is ours.
  std::vector<int> owner(static_cast<size_t>(count));
  int chosen = -1;
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i));
    owner[static_cast<size_t>(i)] = signerOf(id);
    if (chosen < 0) chosen = owner[static_cast<size_t>(i)];
  }
  if (chosen < 0) chosen = 0;  // about no CA of ours: every answer is unknown
  const OcspSigner& signer = signers_[static_cast<size_t>(chosen)].signer;

  std::time_t now = clock_.now();
  pki::UniquePtr<ASN1_STRING> this_update(ASN1_TIME_set(nullptr, now));
  pki::UniquePtr<ASN1_STRING> next_update(
      ASN1_TIME_set(nullptr, now + settings_.next_update_seconds));
  pki::UniquePtr<OCSP_BASICRESP> basic(OCSP_BASICRESP_new());
  if (!basic || !this_update || !next_update)
    return errorAnswer(OCSP_RESPONSE_STATUS_INTERNALERROR, "internalError", "out of memory");
  OcspAnswer answer;
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i));
    ASN1_INTEGER* serial_number = nullptr;
    OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial_number, id);
    std::string serial = serialHex(serial_number);
    int status = V_OCSP_CERTSTATUS_UNKNOWN;
    int reason = OCSP_REVOKED_STATUS_NOSTATUS;
    pki::UniquePtr<ASN1_STRING> revoked_at;
    if (owner[static_cast<size_t>(i)] == chosen && !serial.empty()) {
      auto record = store_.certificateStatus(serial);
      if (!record) {
        if (record.error().code != ErrorCode::kNotFound) {
          // RFC 6960 4.2.1: tryLater when the responder cannot answer for now.
          return errorAnswer(OCSP_RESPONSE_STATUS_TRYLATER, "tryLater", record.error().toString());
        }
      } else if (record->issuer == signer.ca->name()) {
        if (record->status == store::CertStatus::kGood) {
          status = V_OCSP_CERTSTATUS_GOOD;
        } else {
          // RFC 6960 2.2: a held certificate is "revoked" with reason certificateHold.
          status = V_OCSP_CERTSTATUS_REVOKED;
          int why = record->status == store::CertStatus::kHold ? 6 : record->reason;
          reason = why > 0 ? why : OCSP_REVOKED_STATUS_NOSTATUS;
          revoked_at.reset(ASN1_TIME_set(nullptr, record->revoked_at));
        }
      }
    }
    if (!OCSP_basic_add1_status(basic.get(), id, status, reason, revoked_at.get(),
                                this_update.get(), next_update.get())) {
      return errorAnswer(OCSP_RESPONSE_STATUS_INTERNALERROR, "internalError",
                         "adding a status failed: " + pki::drainOpensslErrors());
    }
    const char* name = status == V_OCSP_CERTSTATUS_GOOD      ? "good"
                       : status == V_OCSP_CERTSTATUS_REVOKED ? "revoked"
                                                             : "unknown";
    answer.outcome += (i ? "," : "") + std::string(name);
    answer.serials += (i ? "," : "") + (serial.empty() ? std::string("-") : serial);
  }
  // RFC 6960 4.4.1 (RFC 8954): the nonce comes back as it was sent.
  if (OCSP_copy_nonce(basic.get(), request.get()) == 0) {
    return errorAnswer(OCSP_RESPONSE_STATUS_INTERNALERROR, "internalError",
                       "copying the nonce failed: " + pki::drainOpensslErrors());
  }
  // ResponderID byKey (RFC 6960 4.2.2.3); the responder certificate travels in the answer.
  if (OCSP_basic_sign(basic.get(), signer.certificate.native(), signer.key.native(),
                      signingDigest(signer.key.native()), nullptr, OCSP_RESPID_KEY) != 1) {
    return errorAnswer(OCSP_RESPONSE_STATUS_INTERNALERROR, "internalError",
                       "signing failed: " + pki::drainOpensslErrors());
  }
  pki::UniquePtr<OCSP_RESPONSE> response(
      OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  if (!response)
    return errorAnswer(OCSP_RESPONSE_STATUS_INTERNALERROR, "internalError", "encoding failed");
  answer.der = encodeResponse(response.get());
  answer.successful = true;
  return answer;
}

}  // namespace enroll::ca
