#pragma once
/** The object identifiers of the SCEP signed attributes, registered with OpenSSL once. */

namespace enroll::scep {

/**
 * NIDs of the SCEP signed attributes (RFC 8894 3.2.1: the arc 2.16.840.1.113733.1.9, numbers 2
 * to 7). OpenSSL does not know them; get() registers them on first use.
 */
struct ScepOids {
  int message_type = 0;     ///< .2 messageType (PrintableString with a decimal number)
  int pki_status = 0;       ///< .3 pkiStatus (PrintableString)
  int fail_info = 0;        ///< .4 failInfo (PrintableString)
  int sender_nonce = 0;     ///< .5 senderNonce (OCTET STRING, 16 bytes)
  int recipient_nonce = 0;  ///< .6 recipientNonce (OCTET STRING)
  int transaction_id = 0;   ///< .7 transactionID (PrintableString)

  /** The NIDs, registered with OBJ_create on the first call (thread-safe: std::call_once). */
  static const ScepOids& get();
};

}  // namespace enroll::scep
