#include "scep_test_client.h"

#include <openssl/pkcs7.h>

#include <memory>
#include <stdexcept>

namespace enroll::scep::test {
namespace {

using pki::Bytes;
using pki::UniquePtr;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + pki::drainOpensslErrors());
}

Bytes p7ToDer(PKCS7* p7) {
  unsigned char* der = nullptr;
  int n = i2d_PKCS7(p7, &der);
  check(n > 0, "i2d_PKCS7");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

UniquePtr<PKCS7> p7FromDer(const Bytes& der) {
  const unsigned char* p = der.data();
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  check(p7 != nullptr, "d2i_PKCS7");
  return p7;
}

Bytes envelope(const ClientMessage& m) {
  STACK_OF(X509)* rc = sk_X509_new_null();
  sk_X509_push(rc, m.recipient.native());
  UniquePtr<BIO> in(
      BIO_new_mem_buf(m.message_data.data(), static_cast<int>(m.message_data.size())));
  UniquePtr<PKCS7> env(PKCS7_encrypt(rc, in.get(), m.cipher, PKCS7_BINARY));
  sk_X509_free(rc);
  check(env != nullptr, "PKCS7_encrypt");
  return p7ToDer(env.get());
}

void addString(PKCS7_SIGNER_INFO* si, int nid, int type, const Bytes& value) {
  ASN1_STRING* s = ASN1_STRING_type_new(type);
  ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
  check(PKCS7_add_signed_attribute(si, nid, type, s) == 1, "signed attribute");
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string attrText(PKCS7_SIGNER_INFO* si, const char* oid) {
  ASN1_TYPE* t = PKCS7_get_signed_attribute(si, scepNid(oid));
  if (!t || (t->type != V_ASN1_PRINTABLESTRING && t->type != V_ASN1_OCTET_STRING)) return {};
  const ASN1_STRING* s = t->value.asn1_string;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     ASN1_STRING_length(s));
}

Bytes attrBytes(PKCS7_SIGNER_INFO* si, const char* oid) {
  auto s = attrText(si, oid);
  return Bytes(s.begin(), s.end());
}

Bytes nameDer(X509_NAME* name) {
  unsigned char* der = nullptr;
  int n = i2d_X509_NAME(name, &der);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

/** Reads the degenerate SignedData inside the decrypted envelope. */
void readDegenerate(const Bytes& der, ClientCertRep& rep) {
  auto p7 = p7FromDer(der);
  check(PKCS7_type_is_signed(p7.get()), "degenerate is SignedData");
  STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; i < sk_X509_num(certs); ++i) {
    rep.certificates.push_back(pki::Certificate::share(sk_X509_value(certs, i)));
  }
  rep.crl_count = sk_X509_CRL_num(p7->d.sign->crl);
}

}  // namespace

int scepNid(const char* oid) {
  int nid = OBJ_txt2nid(oid);
  if (nid == NID_undef) nid = OBJ_create(oid, nullptr, nullptr);
  return nid;
}

Bytes buildPkiMessage(const ClientMessage& m) {
  Bytes inner = envelope(m);
  UniquePtr<PKCS7> p7(PKCS7_new());
  check(p7 && PKCS7_set_type(p7.get(), NID_pkcs7_signed) == 1, "PKCS7_set_type");
  PKCS7_SIGNER_INFO* si =
      PKCS7_add_signature(p7.get(), m.signer.native(), m.signer_key.native(), m.digest);
  check(si != nullptr, "PKCS7_add_signature");
  check(PKCS7_add_certificate(p7.get(), m.signer.native()) == 1, "add cert");
  PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data));
  addString(si, scepNid("2.16.840.1.113733.1.9.2"), V_ASN1_PRINTABLESTRING,
            text(std::to_string(m.message_type)));
  if (!m.omit_transaction_id) {
    addString(si, scepNid("2.16.840.1.113733.1.9.7"), V_ASN1_PRINTABLESTRING,
              text(m.transaction_id));
  }
  addString(si, scepNid("2.16.840.1.113733.1.9.5"), V_ASN1_OCTET_STRING, m.sender_nonce);
  check(PKCS7_content_new(p7.get(), NID_pkcs7_data) == 1, "content");
  BIO* bio = PKCS7_dataInit(p7.get(), nullptr);
  check(bio != nullptr, "dataInit");
  BIO_write(bio, inner.data(), static_cast<int>(inner.size()));
  BIO_flush(bio);
  check(PKCS7_dataFinal(p7.get(), bio) == 1, "dataFinal");
  BIO_free_all(bio);
  if (m.tamper_signature) {
    ASN1_OCTET_STRING* sig = si->enc_digest;
    ASN1_STRING_get0_data(sig);
    sig->data[sig->length / 2] ^= 0x01;
  }
  return p7ToDer(p7.get());
}

ClientCertRep readCertRep(const Bytes& der, const pki::Certificate& ra,
                          const pki::Certificate& requester, const pki::PrivateKey& requester_key) {
  ClientCertRep rep;
  auto p7 = p7FromDer(der);
  check(PKCS7_type_is_signed(p7.get()), "CertRep is SignedData");
  STACK_OF(X509)* signers = sk_X509_new_null();
  sk_X509_push(signers, ra.native());
  UniquePtr<X509_STORE> store(X509_STORE_new());
  UniquePtr<BIO> content(BIO_new(BIO_s_mem()));
  rep.signature_ok = PKCS7_verify(p7.get(), signers, store.get(), nullptr, content.get(),
                                  PKCS7_NOVERIFY | PKCS7_NOINTERN | PKCS7_BINARY) == 1;
  sk_X509_free(signers);
  pki::drainOpensslErrors();

  PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7.get()), 0);
  rep.signer_digest_nid = OBJ_obj2nid(si->digest_alg->algorithm);
  rep.message_type = attrText(si, "2.16.840.1.113733.1.9.2");
  rep.pki_status = attrText(si, "2.16.840.1.113733.1.9.3");
  rep.fail_info = attrText(si, "2.16.840.1.113733.1.9.4");
  rep.sender_nonce = attrBytes(si, "2.16.840.1.113733.1.9.5");
  rep.recipient_nonce = attrBytes(si, "2.16.840.1.113733.1.9.6");
  rep.transaction_id = attrText(si, "2.16.840.1.113733.1.9.7");

  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(content.get(), &mem);
  if (rep.pki_status != "0" || !mem || mem->length == 0) return rep;
  auto env = p7FromDer(Bytes(mem->data, mem->data + mem->length));
  check(PKCS7_type_is_enveloped(env.get()), "SUCCESS content is EnvelopedData");
  rep.cipher_nid = OBJ_obj2nid(env->d.enveloped->enc_data->algorithm->algorithm);
  UniquePtr<BIO> plain(BIO_new(BIO_s_mem()));
  check(PKCS7_decrypt(env.get(), requester_key.native(), requester.native(), plain.get(),
                      PKCS7_BINARY) == 1,
        "PKCS7_decrypt");
  BIO_get_mem_ptr(plain.get(), &mem);
  readDegenerate(Bytes(mem->data, mem->data + mem->length), rep);
  return rep;
}

Bytes issuerAndSerial(const pki::Certificate& cert) {
  struct Free {
    void operator()(PKCS7_ISSUER_AND_SERIAL* x) const { PKCS7_ISSUER_AND_SERIAL_free(x); }
  };
  std::unique_ptr<PKCS7_ISSUER_AND_SERIAL, Free> ias(PKCS7_ISSUER_AND_SERIAL_new());
  X509_NAME_set(&ias->issuer, X509_get_issuer_name(cert.native()));
  ASN1_INTEGER_free(ias->serial);
  ias->serial = ASN1_INTEGER_dup(X509_get0_serialNumber(cert.native()));
  unsigned char* der = nullptr;
  int n = i2d_PKCS7_ISSUER_AND_SERIAL(ias.get(), &der);
  check(n > 0, "i2d IssuerAndSerial");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Bytes issuerAndSubject(const pki::Certificate& issuer, const std::string& subject_cn) {
  UniquePtr<X509_NAME> subject(X509_NAME_new());
  X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(subject_cn.c_str()), -1, -1, 0);
  Bytes body = nameDer(X509_get_subject_name(issuer.native()));
  Bytes subject_der = nameDer(subject.get());
  body.insert(body.end(), subject_der.begin(), subject_der.end());
  // SEQUENCE header by hand: the body is short, but use the long form to be general.
  Bytes out = {0x30};
  if (body.size() < 128) {
    out.push_back(static_cast<uint8_t>(body.size()));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(body.size() >> 8));
    out.push_back(static_cast<uint8_t>(body.size() & 0xff));
  }
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace enroll::scep::test
