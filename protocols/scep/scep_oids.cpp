#include "protocols/scep/scep_oids.h"

#include <openssl/objects.h>

#include <mutex>

namespace enroll::scep {
namespace {

/** The NID of oid, creating it when neither OpenSSL nor another library has registered it yet. */
int registerOid(const char* oid, const char* short_name, const char* long_name) {
  int nid = OBJ_txt2nid(oid);
  if (nid == NID_undef) nid = OBJ_create(oid, short_name, long_name);
  return nid;
}

}  // namespace

const ScepOids& ScepOids::get() {
  static ScepOids oids;
  static std::once_flag once;
  std::call_once(once, [] {
    oids.message_type =
        registerOid("2.16.840.1.113733.1.9.2", "scepMessageType", "SCEP messageType");
    oids.pki_status = registerOid("2.16.840.1.113733.1.9.3", "scepPkiStatus", "SCEP pkiStatus");
    oids.fail_info = registerOid("2.16.840.1.113733.1.9.4", "scepFailInfo", "SCEP failInfo");
    oids.sender_nonce =
        registerOid("2.16.840.1.113733.1.9.5", "scepSenderNonce", "SCEP senderNonce");
    oids.recipient_nonce =
        registerOid("2.16.840.1.113733.1.9.6", "scepRecipientNonce", "SCEP recipientNonce");
    oids.transaction_id =
        registerOid("2.16.840.1.113733.1.9.7", "scepTransactionID", "SCEP transactionID");
  });
  return oids;
}

}  // namespace enroll::scep
