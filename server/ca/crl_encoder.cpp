#include "server/ca/crl_encoder.h"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstring>

#include "pki/error.h"
#include "pki/openssl_ptr.h"

namespace enroll::ca {

namespace {

using pki::Bytes;
using pki::ErrorCode;
using pki::makeError;

constexpr uint8_t kInteger = 0x02;
constexpr uint8_t kBitString = 0x03;
constexpr uint8_t kSequence = 0x30;
constexpr uint8_t kUtcTime = 0x17;
constexpr uint8_t kGeneralizedTime = 0x18;
constexpr uint8_t kExplicit0 = 0xa0;  // [0] EXPLICIT, constructed

/** Octets of the DER length field of a content of n octets. */
size_t lengthSize(size_t n) {
  size_t size = 1;
  if (n >= 0x80) {
    for (; n != 0; n >>= 8) ++size;
  }
  return size;
}

/** Octets of a whole TLV (one-octet tag) whose content has n octets. */
size_t tlvSize(size_t n) { return 1 + lengthSize(n) + n; }

/** Writes DER into a buffer sized beforehand. */
class Writer {
 public:
  explicit Writer(uint8_t* at) : p_(at) {}
  void header(uint8_t tag, size_t n) {
    *p_++ = tag;
    if (n < 0x80) {
      *p_++ = static_cast<uint8_t>(n);
      return;
    }
    size_t k = lengthSize(n) - 1;
    *p_++ = static_cast<uint8_t>(0x80 | k);
    for (size_t i = k; i-- > 0;) *p_++ = static_cast<uint8_t>(n >> (8 * i));
  }
  void byte(uint8_t b) { *p_++ = b; }
  void bytes(const uint8_t* b, size_t n) {
    if (n == 0) return;
    std::memcpy(p_, b, n);
    p_ += n;
  }
  void bytes(const Bytes& b) { bytes(b.data(), b.size()); }
  uint8_t* position() const { return p_; }

 private:
  uint8_t* p_;
};

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/**
 * A serial number given as hex, ready to write as a DER INTEGER (X.690 8.3): minimal octets (the
 * hex's leading zeros dropped), and a leading zero octet when the first octet's high bit is set,
 * since the number is positive.
 */
struct HexSerial {
  const char* digits = nullptr;  ///< significant digits (no leading zeros)
  size_t count = 0;              ///< 0: the number zero
  bool pad = false;              ///< a 0x00 octet goes first

  size_t contentSize() const { return count == 0 ? 1 : (count + 1) / 2 + (pad ? 1 : 0); }
};

/** False when hex is empty or has a character that is not a hex digit. */
bool parseSerial(const std::string& hex, HexSerial* out) {
  if (hex.empty()) return false;
  for (char c : hex) {
    if (hexValue(c) < 0) return false;
  }
  size_t skip = 0;
  while (skip < hex.size() && hex[skip] == '0') ++skip;
  out->digits = hex.data() + skip;
  out->count = hex.size() - skip;
  // With an odd count the first octet is one digit, below 0x10.
  out->pad = out->count != 0 && out->count % 2 == 0 && hexValue(out->digits[0]) >= 8;
  return true;
}

void writeSerial(Writer& w, const HexSerial& s) {
  w.header(kInteger, s.contentSize());
  if (s.count == 0 || s.pad) w.byte(0);
  size_t i = 0;
  if (s.count % 2 == 1) w.byte(static_cast<uint8_t>(hexValue(s.digits[i++])));
  for (; i < s.count; i += 2) {
    w.byte(static_cast<uint8_t>((hexValue(s.digits[i]) << 4) | hexValue(s.digits[i + 1])));
  }
}

/** A Time's whole DER (RFC 5280 4.1.2.5): UTCTime for 1950 to 2049, GeneralizedTime otherwise. */
struct EncodedTime {
  std::array<uint8_t, 17> der{};
  size_t size = 0;
};

/** False for a year GeneralizedTime cannot hold (before 0000 or after 9999). */
bool encodeTime(std::time_t t, EncodedTime* out) {
  // Days and seconds since the epoch, then the civil date (H. Hinnant's civil_from_days).
  int64_t secs = t;
  int64_t days = secs / 86400;
  int64_t rest = secs % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return false;
  bool utc = year >= 1950 && year <= 2049;
  size_t n = 0;
  auto two = [&](int64_t v) {
    out->der[n++] = static_cast<uint8_t>('0' + v / 10);
    out->der[n++] = static_cast<uint8_t>('0' + v % 10);
  };
  out->der[n++] = utc ? kUtcTime : kGeneralizedTime;
  out->der[n++] = utc ? 13 : 15;
  if (!utc) two(year / 100);
  two(year % 100);
  two(month);
  two(day);
  two(rest / 3600);
  two(rest / 60 % 60);
  two(rest % 60);
  out->der[n++] = 'Z';
  out->size = n;
  return true;
}

/**
 * The entry extensions for a reason code (RFC 5280 5.3.1): Extensions { Extension {
 * id-ce-cRLReasons, OCTET STRING { ENUMERATED reason } } }, 14 octets.
 */
constexpr size_t kReasonExtensionsSize = 14;
void writeReasonExtensions(Writer& w, int reason) {
  static constexpr std::array<uint8_t, 13> kPrefix = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
                                                      0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01};
  w.bytes(kPrefix.data(), kPrefix.size());
  w.byte(static_cast<uint8_t>(reason));
}

/** RFC 5280 5.3.1: 0 to 10, 7 not used. */
bool isCrlReason(int reason) { return reason >= 0 && reason <= 10 && reason != 7; }

/** The DER of one extension made by OpenSSL; takes ownership of ext (null: failure). */
pki::Result<Bytes> extensionDer(X509_EXTENSION* raw) {
  pki::UniquePtr<X509_EXTENSION> ext(raw);
  if (!ext) return pki::opensslError(ErrorCode::kInternal, "encoding a CRL extension failed");
  int n = i2d_X509_EXTENSION(ext.get(), nullptr);
  if (n <= 0) return pki::opensslError(ErrorCode::kInternal, "encoding a CRL extension failed");
  Bytes out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_X509_EXTENSION(ext.get(), &p);
  return out;
}

/** An INTEGER-valued CRL extension (CRL number, delta CRL indicator). */
pki::Result<Bytes> integerExtension(int nid, int64_t value, int critical) {
  pki::UniquePtr<ASN1_STRING> number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_int64(number.get(), value) != 1)
    return pki::opensslError(ErrorCode::kInternal, "out of memory");
  return extensionDer(X509V3_EXT_i2d(nid, critical, number.get()));
}

/** An extension in OpenSSL's configuration syntax ("keyid:always", "URI:http://..."). */
X509_EXTENSION* confExtension(X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, nullptr, nullptr, nullptr, 0);
  return X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
}

/**
 * The crlExtensions' Extension encodings, concatenated, in the order CRLs of enrolld have always
 * had: CRL number, delta CRL indicator, authority key identifier, Freshest CRL.
 */
pki::Result<Bytes> crlExtensions(const CrlContent& content, X509* issuer) {
  Bytes out;
  auto append = [&out](const Bytes& ext) { out.insert(out.end(), ext.begin(), ext.end()); };
  ENROLL_TRY(Bytes number, integerExtension(NID_crl_number, content.crl_number, 0));
  append(number);
  if (content.delta_base > 0) {
    // RFC 5280 5.2.4: the delta CRL indicator is critical and names the base CRL number.
    ENROLL_TRY(Bytes base, integerExtension(NID_delta_crl, content.delta_base, 1));
    append(base);
  }
  // RFC 5280 5.2.1: the authority key identifier; a CA without a subject key identifier has none.
  if (X509_EXTENSION* akid = confExtension(issuer, NID_authority_key_identifier, "keyid:always")) {
    ENROLL_TRY(Bytes der, extensionDer(akid));
    append(der);
  } else {
    pki::drainOpensslErrors();
  }
  if (content.delta_base == 0 && !content.freshest_crl_url.empty()) {
    X509_EXTENSION* freshest =
        confExtension(issuer, NID_freshest_crl, "URI:" + content.freshest_crl_url);
    if (!freshest) return pki::opensslError(ErrorCode::kInvalidArgument, "bad Freshest CRL URL");
    ENROLL_TRY(Bytes der, extensionDer(freshest));
    append(der);
  }
  return out;
}

/** The AlgorithmIdentifier the signature context will sign with (its provider encodes it). */
pki::Result<Bytes> signatureAlgorithm(EVP_PKEY_CTX* pctx) {
  std::array<uint8_t, 256> buf{};
  std::array<OSSL_PARAM, 2> params = {
      OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, buf.data(), buf.size()),
      OSSL_PARAM_construct_end()};
  if (EVP_PKEY_CTX_get_params(pctx, params.data()) != 1 || params[0].return_size == 0 ||
      params[0].return_size > buf.size()) {
    return pki::opensslError(ErrorCode::kInternal,
                             "the CA key's signature algorithm has no identifier");
  }
  return Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(params[0].return_size));
}

pki::Result<Bytes> nameDer(const X509_NAME* name) {
  int n = i2d_X509_NAME(name, nullptr);
  if (n <= 0) return pki::opensslError(ErrorCode::kInternal, "encoding the CRL issuer failed");
  Bytes out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_X509_NAME(name, &p);
  return out;
}

}  // namespace

pki::Result<Bytes> encodeCrl(const CrlContent& content, X509* issuer, EVP_PKEY* key,
                             const EVP_MD* digest) {
  // The signing context first: its AlgorithmIdentifier is part of the signed bytes.
  pki::UniquePtr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  if (!md || EVP_DigestSignInit(md.get(), &pctx, digest, nullptr, key) != 1)
    return pki::opensslError(ErrorCode::kInternal, "the CA key cannot sign a CRL");
  ENROLL_TRY(Bytes algorithm, signatureAlgorithm(pctx));
  ENROLL_TRY(Bytes issuer_name, nameDer(X509_get_subject_name(issuer)));
  EncodedTime this_update;
  EncodedTime next_update;
  if (!encodeTime(content.this_update, &this_update) ||
      !encodeTime(content.next_update, &next_update)) {
    return makeError(ErrorCode::kInvalidArgument, "a CRL time is out of range");
  }
  ENROLL_TRY(Bytes extensions, crlExtensions(content, issuer));

  // First pass: check every entry and add up the sizes, so the buffer is allocated once, exactly.
  // Entries of a bulk revocation share their revocation date, so the last one is kept encoded.
  EncodedTime when;
  std::time_t when_for = 0;
  bool have_when = false;
  auto revocationDate = [&](std::time_t t) {
    if (have_when && t == when_for) return true;
    have_when = encodeTime(t, &when);
    when_for = t;
    return have_when;
  };
  size_t entries_size = 0;
  for (size_t i = 0; i < content.revoked.size(); ++i) {
    const CrlEntry& e = content.revoked[i];
    HexSerial serial;
    if (!parseSerial(e.serial_hex, &serial)) {
      return makeError(ErrorCode::kInvalidArgument, "a CRL entry's serial number is not hex",
                       "entry " + std::to_string(i) + ": serial '" + e.serial_hex + "'");
    }
    if (!isCrlReason(e.reason)) {
      return makeError(ErrorCode::kInvalidArgument, "a CRL entry's reason is not a CRLReason",
                       "entry " + std::to_string(i) + " (serial " + e.serial_hex + "): reason " +
                           std::to_string(e.reason));
    }
    if (!revocationDate(e.revoked_at)) {
      return makeError(ErrorCode::kInvalidArgument, "a CRL entry's revocation date is out of range",
                       "entry " + std::to_string(i) + " (serial " + e.serial_hex + ")");
    }
    size_t entry =
        tlvSize(serial.contentSize()) + when.size + (e.reason > 0 ? kReasonExtensionsSize : 0);
    entries_size += tlvSize(entry);
  }

  // TBSCertList (RFC 5280 5.1.2), v2.
  static constexpr std::array<uint8_t, 3> kVersion2 = {kInteger, 0x01, 0x01};
  size_t tbs_content = kVersion2.size() + algorithm.size() + issuer_name.size() + this_update.size +
                       next_update.size;
  // RFC 5280 5.1.2.6: with no revoked certificates the list is absent, not empty.
  if (!content.revoked.empty()) tbs_content += tlvSize(entries_size);
  tbs_content += tlvSize(tlvSize(extensions.size()));
  size_t tbs_size = tlvSize(tbs_content);
  auto max_signature = static_cast<size_t>(EVP_PKEY_get_size(key));
  size_t max_content = tbs_size + algorithm.size() + tlvSize(max_signature + 1);
  size_t head = 1 + lengthSize(max_content);
  Bytes out(head + max_content);

  uint8_t* tbs = out.data() + head;
  Writer w(tbs);
  w.header(kSequence, tbs_content);
  w.bytes(kVersion2.data(), kVersion2.size());
  w.bytes(algorithm);
  w.bytes(issuer_name);
  w.bytes(this_update.der.data(), this_update.size);
  w.bytes(next_update.der.data(), next_update.size);
  if (!content.revoked.empty()) {
    w.header(kSequence, entries_size);
    have_when = false;
    for (const CrlEntry& e : content.revoked) {
      HexSerial serial;
      parseSerial(e.serial_hex, &serial);  // checked in the first pass
      revocationDate(e.revoked_at);
      w.header(kSequence, tlvSize(serial.contentSize()) + when.size +
                              (e.reason > 0 ? kReasonExtensionsSize : 0));
      writeSerial(w, serial);
      w.bytes(when.der.data(), when.size);
      // RFC 5280 5.3.1: the reason code is absent rather than "unspecified".
      if (e.reason > 0) writeReasonExtensions(w, e.reason);
    }
  }
  w.header(kExplicit0, tlvSize(extensions.size()));
  w.header(kSequence, extensions.size());
  w.bytes(extensions);
  if (w.position() != tbs + tbs_size) {
    return makeError(ErrorCode::kInternal, "encoding the CRL failed",
                     "TBSCertList size " + std::to_string(w.position() - tbs) + ", expected " +
                         std::to_string(tbs_size));
  }

  Bytes signature(max_signature);
  size_t signature_size = signature.size();
  if (EVP_DigestSign(md.get(), signature.data(), &signature_size, tbs, tbs_size) != 1)
    return pki::opensslError(ErrorCode::kInternal, "signing the CRL failed");
  // CertificateList: TBSCertList, signatureAlgorithm, signatureValue (BIT STRING, no unused bits).
  w.bytes(algorithm);
  w.header(kBitString, signature_size + 1);
  w.byte(0);
  w.bytes(signature.data(), signature_size);
  size_t content_size = tbs_size + algorithm.size() + tlvSize(signature_size + 1);
  size_t start = head - (1 + lengthSize(content_size));  // non-zero only for a shorter length
  Writer(out.data() + start).header(kSequence, content_size);
  out.resize(head + content_size);
  if (start > 0) out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(start));
  return out;
}

}  // namespace enroll::ca
