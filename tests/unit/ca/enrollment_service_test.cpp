#include "server/ca/enrollment_service.h"

#include <gtest/gtest.h>

#include "pki/server_generated_key.h"
#include "provisioning/enrollment_token.h"
#include "provisioning/password_hash.h"

#include <atomic>
#include <thread>
#include "tests/support/core_fixture.h"

namespace enroll::testing {
namespace {

using enrollment::EnrollmentResult;
using enrollment::Operation;
using pki::ErrorCode;

class EnrollmentService : public CoreFixture {
 protected:
  /** HTTP Basic credentials "station-1" / "pass-word-1" that stand for device UNIT-5. */
  void putStationCredential() {
    store::BasicCredentialRecord c;
    c.username = "station-1";
    c.device_id = "UNIT-5";
    c.password_hash = *provisioning::hashPassword(pki::SecretString("pass-word-1"));
    ASSERT_TRUE(store_->putCredential(c));
  }
};

TEST_F(EnrollmentService, IssuesToABootstrapCertificateAndCommitsBeforeReturning) {
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto r = service_->enroll(bootstrapRequest(*boot_, key));
  ASSERT_TRUE(r) << r.error().toString();
  ASSERT_EQ(EnrollmentResult::Status::kIssued, r->status);
  const auto& cert = *r->certificate;
  EXPECT_EQ("CN=DEV-1", cert.subject());
  EXPECT_EQ(key.publicKeyDer(), cert.publicKeyDer());
  EXPECT_TRUE(cert.isSignedBy(issuing_->cert));
  EXPECT_EQ(kNow - 300, cert.notBefore());
  EXPECT_EQ(kNow + 365 * 86400L, cert.notAfter());

  auto rec = store_->findCertificate(cert.serialHex());
  ASSERT_TRUE(rec);
  EXPECT_EQ(cert.toDer(), rec->der);
  EXPECT_EQ("DEV-1", rec->device_id);
  EXPECT_EQ(boot_->cert.fingerprintSha256(), rec->bootstrap_fingerprint);
  auto dev = store_->findDevice("DEV-1");
  ASSERT_TRUE(dev);
  EXPECT_EQ(store::DeviceState::kEnrolled, dev->state);
  EXPECT_EQ(1, dev->enroll_count);
  auto events = store_->eventsOfDevice("DEV-1");
  ASSERT_TRUE(events);
  ASSERT_EQ(1u, events->size());
  EXPECT_EQ("issued", (*events)[0].outcome);
  EXPECT_EQ("bootstrap-certificate", (*events)[0].reason);
}

TEST_F(EnrollmentService, NeverIssuesPastTheIssuingCa) {
  editDefault([](ca::Label& l) { l.profile.lifetime_days = 36500; });
  auto cert = enrollOnce(*pki::PrivateKey::generate(pki::KeyType::kEcP256));
  EXPECT_EQ(issuing_->cert.notAfter(), cert.notAfter());
}

TEST_F(EnrollmentService, RefusesAnExpiredBootstrapCertificate) {
  clock_.advance(2 * 365 * 86400L);
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto r = service_->enroll(bootstrapRequest(*boot_, key));
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kUnauthenticated, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("expired"));
}

TEST_F(EnrollmentService, RefusesABootstrapCertificateFromAnUntrustedMaker) {
  KeyedCert other_maker = makeTestCa("Other Maker");
  KeyedCert rogue = makeTestLeaf("serialNumber=DEV-1,CN=DEV-1", other_maker);
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto r = service_->enroll(bootstrapRequest(rogue, key));
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kUnauthenticated, r.error().code);
}

TEST_F(EnrollmentService, KnownDevicesOnlyRefusesAnUnknownSerialThenAcceptsItOnceRegistered) {
  editDefault([](ca::Label& l) { l.policy.known_devices_only = true; });
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto r = service_->enroll(bootstrapRequest(*boot_, key));
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kPermissionDenied, r.error().code);
  store::DeviceRecord d;
  d.id = "DEV-1";
  d.model = "M7";
  ASSERT_TRUE(store_->putDevice(d));
  EXPECT_TRUE(service_->enroll(bootstrapRequest(*boot_, key)));
}

TEST_F(EnrollmentService, RefusesABlockedDevice) {
  store::DeviceRecord d;
  d.id = "DEV-1";
  d.state = store::DeviceState::kBlocked;
  ASSERT_TRUE(store_->putDevice(d));
  auto r =
      service_->enroll(bootstrapRequest(*boot_, *pki::PrivateKey::generate(pki::KeyType::kEcP256)));
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find("blocked"));
}

TEST_F(EnrollmentService, RefusesABootstrapCertificateTheRegistryDoesNotExpect) {
  store::DeviceRecord d;
  d.id = "DEV-1";
  d.bootstrap_fingerprint = std::string(64, 'a');
  ASSERT_TRUE(store_->putDevice(d));
  auto r =
      service_->enroll(bootstrapRequest(*boot_, *pki::PrivateKey::generate(pki::KeyType::kEcP256)));
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kPermissionDenied, r.error().code);
}

TEST_F(EnrollmentService, LimitsEnrollmentsPerBootstrapCertificate) {
  editDefault([](ca::Label& l) { l.policy.max_enrollments_per_bootstrap = 1; });
  enrollOnce(*pki::PrivateKey::generate(pki::KeyType::kEcP256));
  auto r =
      service_->enroll(bootstrapRequest(*boot_, *pki::PrivateKey::generate(pki::KeyType::kEcP256)));
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find("max_enrollments_per_bootstrap"));
}

TEST_F(EnrollmentService, RenewsWithTheCurrentCertificateAndRefusesARevokedOne) {
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto cert = enrollOnce(key);
  enrollment::EnrollmentRequest renew{enrollment::Protocol::kEst,
                                      "",
                                      Operation::kReEnroll,
                                      makeTestCsr("CN=DEV-1", key),
                                      {},
                                      std::nullopt,
                                      {}};
  renew.credentials.tls_chain = {cert};
  auto r = service_->enroll(renew);
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ("DEV-1", r->device_id);
  ASSERT_TRUE(store_->setCertificateStatus(cert.serialHex(), store::CertStatus::kRevoked, 1, kNow));
  auto refused = service_->enroll(renew);
  ASSERT_FALSE(refused);
  EXPECT_EQ(ErrorCode::kPermissionDenied, refused.error().code);
}

TEST_F(EnrollmentService, RenewalHonoursTheGracePeriodAfterExpiry) {
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto cert = enrollOnce(key);
  enrollment::EnrollmentRequest renew{enrollment::Protocol::kEst,
                                      "",
                                      Operation::kReEnroll,
                                      makeTestCsr("CN=DEV-1", key),
                                      {},
                                      std::nullopt,
                                      {}};
  renew.credentials.tls_chain = {cert};
  clock_.set(cert.notAfter() + 3 * 86400L);
  EXPECT_FALSE(service_->enroll(renew));
  editDefault([](ca::Label& l) { l.policy.renewal_grace_days = 7; });
  EXPECT_TRUE(service_->enroll(renew));
}

TEST_F(EnrollmentService, ReEnrollmentMustKeepTheSubject) {
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto cert = enrollOnce(key);
  enrollment::EnrollmentRequest renew{enrollment::Protocol::kEst,
                                      "",
                                      Operation::kReEnroll,
                                      makeTestCsr("CN=OTHER", key),
                                      {},
                                      std::nullopt,
                                      {}};
  renew.credentials.tls_chain = {cert};
  auto r = service_->enroll(renew);
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kInvalidArgument, r.error().code);
}

TEST_F(EnrollmentService, HoldsForApprovalAndIssuesOnceApproved) {
  editDefault([](ca::Label& l) {
    l.manual_approval = true;
    l.retry_after_seconds = 42;
  });
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto first = service_->enroll(bootstrapRequest(*boot_, key));
  ASSERT_TRUE(first);
  EXPECT_EQ(EnrollmentResult::Status::kPending, first->status);
  EXPECT_EQ(42, first->retry_after_seconds);
  auto pending = store_->listPending();
  ASSERT_EQ(1u, pending->size());
  ASSERT_TRUE(
      store_->decidePending((*pending)[0].id, store::PendingRecord::State::kApproved, kNow));
  auto issued = service_->enroll(bootstrapRequest(*boot_, key));
  ASSERT_TRUE(issued);
  ASSERT_EQ(EnrollmentResult::Status::kIssued, issued->status);
  auto again = service_->enroll(bootstrapRequest(*boot_, key));
  ASSERT_TRUE(again);
  EXPECT_EQ(issued->certificate->serialHex(), again->certificate->serialHex());
  EXPECT_EQ(1, store_->findDevice("DEV-1")->enroll_count);
}

TEST_F(EnrollmentService, ServerKeyGenReturnsAKeyThatMatchesTheCertificate) {
  auto throwaway = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto req = bootstrapRequest(*boot_, throwaway);
  req.operation = Operation::kServerKeyGen;
  auto r = service_->enroll(req);
  ASSERT_TRUE(r) << r.error().toString();
  ASSERT_TRUE(r->server_key);
  EXPECT_EQ(r->server_key->publicKeyDer(), r->certificate->publicKeyDer());
  EXPECT_NE(throwaway.publicKeyDer(), r->certificate->publicKeyDer());
}

constexpr const char* kAsymmDecryptKeyId = "1.2.840.113549.1.9.16.2.54";
constexpr const char* kDecryptKeyId = "1.2.840.113549.1.9.16.2.37";

/** A serverkeygen request over the bootstrap certificate whose CSR names key id with oid. */
enrollment::EnrollmentRequest skgRequest(const KeyedCert& boot, const char* oid,
                                         const pki::Bytes& id) {
  auto throwaway = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  enrollment::EnrollmentRequest r{enrollment::Protocol::kEst,
                                  "",
                                  Operation::kServerKeyGen,
                                  makeTestCsrWithKeyId("CN=DEV-1", throwaway, oid, id),
                                  {},
                                  std::nullopt,
                                  {}};
  r.credentials.tls_chain = {boot.cert};
  return r;
}

TEST_F(EnrollmentService, ServerKeyGenEncryptsTheKeyToTheCertificateTheCsrNames) {
  auto r =
      service_->enroll(skgRequest(*boot_, kAsymmDecryptKeyId, pki::keyIdentifier(boot_->cert)));
  ASSERT_TRUE(r) << r.error().toString();
  ASSERT_TRUE(r->encrypted_server_key);
  EXPECT_FALSE(r->server_key) << "no plain copy of the key leaves the core";
  auto opened = openServerGeneratedKey(*r->encrypted_server_key, *boot_, root_->cert, kNow);
  EXPECT_TRUE(opened.signature_ok) << "signed by the issuing CA";
  ASSERT_TRUE(opened.key);
  EXPECT_EQ(opened.key->publicKeyDer(), r->certificate->publicKeyDer());
}

TEST_F(EnrollmentService, ServerKeyGenRefusesAKeyIdOfAnotherKeyBeforeIssuingAnything) {
  KeyedCert other = makeTestLeaf("serialNumber=DEV-9,CN=DEV-9", *maker_, kNow - 3600, kNow + 86400);
  auto r = service_->enroll(skgRequest(*boot_, kAsymmDecryptKeyId, pki::keyIdentifier(other.cert)));
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kInvalidArgument, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("id-aa-asymmDecryptKeyID"))
      << r.error().message;
  auto symmetric = service_->enroll(skgRequest(*boot_, kDecryptKeyId, {1, 2, 3, 4}));
  ASSERT_FALSE(symmetric);
  EXPECT_EQ(ErrorCode::kInvalidArgument, symmetric.error().code);
  EXPECT_NE(std::string::npos, symmetric.error().message.find("not supported"));
  EXPECT_EQ(0u, store_->certificatesOfDevice("DEV-1")->size());
  EXPECT_EQ(0u, store_->eventsOfDevice("DEV-1")->size());
}

TEST_F(EnrollmentService, ServerKeyGenEncryptsOnlyToACertificateThatAuthenticated) {
  ASSERT_NO_FATAL_FAILURE(putStationCredential());
  auto req = skgRequest(*boot_, kAsymmDecryptKeyId, pki::keyIdentifier(boot_->cert));
  req.credentials.tls_chain.clear();
  req.credentials.basic_user = "station-1";
  req.credentials.basic_password = pki::SecretString("pass-word-1");
  auto r = service_->enroll(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kInvalidArgument, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("basic")) << r.error().message;
  EXPECT_EQ(0u, store_->certificatesOfDevice("UNIT-5")->size());
}

TEST_F(EnrollmentService, ServerKeyGenEncryptsToTheOperationalCertificateOnRenewal) {
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  KeyedCert op{enrollOnce(key), key};
  auto r = service_->enroll(skgRequest(op, kAsymmDecryptKeyId, pki::keyIdentifier(op.cert)));
  ASSERT_TRUE(r) << r.error().toString();
  ASSERT_TRUE(r->encrypted_server_key);
  auto opened = openServerGeneratedKey(*r->encrypted_server_key, op, root_->cert, kNow);
  EXPECT_TRUE(opened.signature_ok);
  ASSERT_TRUE(opened.key);
  EXPECT_EQ(opened.key->publicKeyDer(), r->certificate->publicKeyDer());
}

TEST_F(EnrollmentService, AHeldServerKeyGenIsNotAnsweredAgainWithoutItsKey) {
  editDefault([](ca::Label& l) { l.manual_approval = true; });
  auto throwaway = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto req = bootstrapRequest(*boot_, throwaway);
  req.operation = Operation::kServerKeyGen;
  auto held = service_->enroll(req);
  ASSERT_TRUE(held) << held.error().toString();
  ASSERT_EQ(EnrollmentResult::Status::kPending, held->status);
  auto pending = store_->listPending();
  ASSERT_EQ(1u, pending->size());
  ASSERT_TRUE(
      store_->decidePending(pending->front().id, store::PendingRecord::State::kApproved, kNow));
  auto issued = service_->enroll(req);
  ASSERT_TRUE(issued) << issued.error().toString();
  ASSERT_TRUE(issued->server_key);
  auto again = service_->enroll(req);
  ASSERT_FALSE(again) << "the key was never kept, so the certificate alone must not come back";
  EXPECT_EQ(ErrorCode::kAlreadyExists, again.error().code);
}

TEST_F(EnrollmentService, BasicCredentialsStandForTheirDevice) {
  ASSERT_NO_FATAL_FAILURE(putStationCredential());
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  enrollment::EnrollmentRequest r{enrollment::Protocol::kEst,
                                  "",
                                  Operation::kEnroll,
                                  makeTestCsr("CN=x", key),
                                  {},
                                  std::nullopt,
                                  {}};
  r.credentials.basic_user = "station-1";
  r.credentials.basic_password = pki::SecretString("pass-word-1");
  auto ok = service_->enroll(r);
  ASSERT_TRUE(ok) << ok.error().toString();
  EXPECT_EQ("CN=UNIT-5", ok->certificate->subject());
  r.credentials.basic_password = pki::SecretString("wrong");
  auto bad = service_->enroll(r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(ErrorCode::kUnauthenticated, bad.error().code);
}

TEST_F(EnrollmentService, ChannelBindingMustMatchTheConnection) {
  editDefault([](ca::Label& l) { l.policy.require_channel_binding = true; });
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  pki::Bytes binding = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  auto req = bootstrapRequest(*boot_, key);
  req.credentials.channel_binding = binding;
  req.credentials.channel_binding_type = "tls-unique";
  EXPECT_FALSE(service_->enroll(req));  // no challengePassword
  req.csr = makeTestCsr("CN=DEV-1", key, pki::base64Encode(binding));
  EXPECT_TRUE(service_->enroll(req));
  req.csr = makeTestCsr("CN=DEV-1", key, pki::base64Encode(pki::Bytes{9, 9, 9}));
  EXPECT_FALSE(service_->enroll(req));
}

TEST_F(EnrollmentService, UnknownLabelIsNotFound) {
  auto req = bootstrapRequest(*boot_, *pki::PrivateKey::generate(pki::KeyType::kEcP256));
  req.label = "nope";
  auto r = service_->enroll(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::kNotFound, r.error().code);
  EXPECT_FALSE(service_->label("nope"));
}

TEST_F(EnrollmentService, ScepChallengeAuthenticatesTheCsrsDevice) {
  editDefault([](ca::Label& l) { l.policy.scep_challenge = pki::SecretString("line-secret"); });
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  enrollment::EnrollmentRequest r{enrollment::Protocol::kScep,
                                  "",
                                  Operation::kEnroll,
                                  makeTestCsr("CN=CAM-77", key, "line-secret"),
                                  {},
                                  std::nullopt,
                                  {}};
  auto ok = service_->enroll(r);
  ASSERT_TRUE(ok) << ok.error().toString();
  EXPECT_EQ("CAM-77", ok->device_id);
  r.csr = makeTestCsr("CN=CAM-77", key, "guess");
  EXPECT_FALSE(service_->enroll(r));
}

/** A SCEP PKCSReq as ScepService hands it to the core: challenge, transactionID, senderNonce. */
enrollment::EnrollmentRequest scepRequest(const pki::PrivateKey& key, const std::string& tx,
                                          const pki::Bytes& nonce) {
  enrollment::EnrollmentRequest r{enrollment::Protocol::kScep,
                                  "",
                                  Operation::kEnroll,
                                  makeTestCsr("CN=CAM-50", key, "line-secret"),
                                  {},
                                  std::nullopt,
                                  {tx, nonce, true}};
  return r;
}

TEST_F(EnrollmentService, CommitsTheReplayGuardWithTheCertificate) {
  editDefault([](ca::Label& l) { l.policy.scep_challenge = pki::SecretString("line-secret"); });
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  const pki::Bytes nonce = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  auto req = scepRequest(key, "tx-core", nonce);
  auto first = service_->enroll(req);
  ASSERT_TRUE(first) << first.error().toString();
  auto state = store_->scepTransactionState("", "tx-core", pki::hexEncode(nonce));
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->nonce_seen);
  EXPECT_EQ(first->certificate->publicKeyFingerprint(), state->public_key_sha256);

  // The same message again reaches the core (as a concurrent copy would): refused, nothing new.
  auto replay = service_->enroll(req);
  ASSERT_FALSE(replay);
  EXPECT_EQ(ErrorCode::kInvalidArgument, replay.error().code);
  EXPECT_EQ(1, store_->findDevice("CAM-50")->enroll_count);

  // Another key under the same transactionID, with a fresh nonce: refused too.
  auto other = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto stolen = service_->enroll(scepRequest(other, "tx-core", pki::Bytes(16, 7)));
  ASSERT_FALSE(stolen);
  EXPECT_EQ(ErrorCode::kInvalidArgument, stolen.error().code);
  EXPECT_EQ(1, store_->findDevice("CAM-50")->enroll_count);
}

TEST_F(EnrollmentService, TwoConcurrentCopiesOfAScepMessageIssueOnce) {
  editDefault([](ca::Label& l) { l.policy.scep_challenge = pki::SecretString("line-secret"); });
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto req = scepRequest(key, "tx-race", pki::Bytes(16, 42));
  std::atomic<int> ready{0};
  std::atomic<int> issued{0}, replays{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < 2) std::this_thread::yield();
      auto r = service_->enroll(req);
      if (r) {
        issued.fetch_add(1);
      } else if (r.error().code == ErrorCode::kInvalidArgument) {
        replays.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(1, issued.load());
  EXPECT_EQ(1, replays.load());
  EXPECT_EQ(1, store_->findDevice("CAM-50")->enroll_count);
}

TEST_F(EnrollmentService, AHeldScepRequestCarriesItsTransactionBinding) {
  editDefault([](ca::Label& l) {
    l.policy.scep_challenge = pki::SecretString("line-secret");
    l.manual_approval = true;
  });
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto held = service_->enroll(scepRequest(key, "tx-held", pki::Bytes(16, 1)));
  ASSERT_TRUE(held) << held.error().toString();
  EXPECT_EQ(enrollment::EnrollmentResult::Status::kPending, held->status);
  auto req = scepRequest(key, "tx-held", pki::Bytes(16, 1));
  const std::string key_sha256 = pki::hexEncode(pki::sha256(req.csr.publicKeyDer()));
  // The binding and the nonce were committed with the held request: CertPoll finds it by them.
  EXPECT_EQ(key_sha256, store_->scepTransactionKey("", "tx-held").value());
  EXPECT_TRUE(store_->findPending("default/" + key_sha256));
  EXPECT_TRUE(
      store_->scepTransactionState("", "tx-held", pki::hexEncode(pki::Bytes(16, 1)))->nonce_seen);
  // Asked again under a new transactionID: still pending, and that one is bound too.
  auto again = service_->enroll(scepRequest(key, "tx-held-2", pki::Bytes(16, 2)));
  ASSERT_TRUE(again) << again.error().toString();
  EXPECT_EQ(enrollment::EnrollmentResult::Status::kPending, again->status);
  EXPECT_EQ(key_sha256, store_->scepTransactionKey("", "tx-held-2").value());
  // Another key under the held transactionID is refused and holds nothing.
  auto other = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto stolen = service_->enroll(scepRequest(other, "tx-held", pki::Bytes(16, 3)));
  ASSERT_FALSE(stolen);
  EXPECT_EQ(ErrorCode::kInvalidArgument, stolen.error().code);
  EXPECT_EQ(1u, store_->listPending()->size());
}

TEST_F(EnrollmentService, IssuedKeysKeepTheCsrsSubjectPublicKeyInfoAndAnInMemoryKey) {
  // RSA keys take a faster encoding path than the others (CertificateBuilder::publicKey): both
  // must give the CSR's exact SubjectPublicKeyInfo and a usable X509_get0_pubkey.
  editDefault([](ca::Label& l) {
    l.policy.scep_challenge = pki::SecretString("line-secret");
    l.profile.allowed_keys = {pki::KeyType::kRsa2048, pki::KeyType::kEcP256};
  });
  for (auto type : {pki::KeyType::kRsa2048, pki::KeyType::kEcP256}) {
    auto key = *pki::PrivateKey::generate(type);
    auto req = scepRequest(key, "tx-key-" + pki::describeKey(key.native()), pki::Bytes(16, 9));
    auto r = service_->enroll(req);
    ASSERT_TRUE(r) << r.error().toString();
    const pki::Certificate& cert = *r->certificate;
    EXPECT_EQ(req.csr.publicKeyDer(), cert.publicKeyDer());
    EVP_PKEY* in_memory = X509_get0_pubkey(cert.native());
    ASSERT_NE(nullptr, in_memory);
    EXPECT_EQ(1, EVP_PKEY_eq(in_memory, key.native()));
    auto reread = pki::Certificate::fromDer(cert.toDer());
    ASSERT_TRUE(reread);
    EXPECT_EQ(req.csr.publicKeyDer(), reread->publicKeyDer());
    EXPECT_TRUE(reread->isSignedBy(ca_->certificate()));
  }
}

class EnrollmentTokens : public CoreFixture {
 protected:
  std::string makeToken(const std::string& label, const std::string& device, std::time_t expires) {
    auto text = *provisioning::generateEnrollmentToken();
    store::TokenRecord t{provisioning::enrollmentTokenHash(text.reveal()),
                         label,
                         device,
                         "B1",
                         kNow,
                         expires,
                         0,
                         0,
                         ""};
    EXPECT_TRUE(store_->insertTokens({t}));
    return text.reveal();
  }
  enrollment::EnrollmentRequest withToken(const std::string& token,
                                          const std::string& user = "station") {
    auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
    enrollment::EnrollmentRequest r{enrollment::Protocol::kEst,
                                    "",
                                    Operation::kEnroll,
                                    makeTestCsr("CN=x", key),
                                    {},
                                    std::nullopt,
                                    {}};
    r.credentials.basic_user = user;
    r.credentials.basic_password = pki::SecretString(token);
    return r;
  }
};

TEST_F(EnrollmentTokens, AreSingleUse) {
  std::string token = makeToken("", "UNIT-1", kNow + 3600);
  auto first = service_->enroll(withToken(token));
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_EQ("UNIT-1", first->device_id);
  auto record = store_->findToken(provisioning::enrollmentTokenHash(token));
  EXPECT_EQ(kNow, record->used_at);
  EXPECT_EQ(first->certificate->serialHex(), record->serial);
  auto second = service_->enroll(withToken(token));
  ASSERT_FALSE(second);
  EXPECT_EQ(ErrorCode::kPermissionDenied, second.error().code);
  EXPECT_NE(std::string::npos, second.error().message.find("already been used"));
}

TEST_F(EnrollmentTokens, BatchTokensTakeTheDeviceFromTheUserName) {
  std::string token = makeToken("", "", kNow + 3600);
  auto r = service_->enroll(withToken(token, "SERIAL-42"));
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ("CN=SERIAL-42", r->certificate->subject());
}

TEST_F(EnrollmentTokens, RefusesExpiredRevokedUnknownAndOtherLabelTokens) {
  std::string expired = makeToken("", "U", kNow - 1);
  EXPECT_NE(std::string::npos,
            service_->enroll(withToken(expired)).error().message.find("expired"));
  std::string revoked = makeToken("", "U", kNow + 3600);
  ASSERT_TRUE(store_->revokeToken(provisioning::enrollmentTokenHash(revoked), kNow));
  EXPECT_NE(std::string::npos,
            service_->enroll(withToken(revoked)).error().message.find("revoked"));
  std::string other = makeToken("line-9", "U", kNow + 3600);
  EXPECT_NE(std::string::npos,
            service_->enroll(withToken(other)).error().message.find("not valid on this label"));
  auto unknown = service_->enroll(withToken("edt_00000000000000000000000000000000"));
  EXPECT_EQ(ErrorCode::kUnauthenticated, unknown.error().code);
}

TEST_F(EnrollmentTokens, ConcurrentUsesIssueExactlyOnce) {
  std::string token = makeToken("", "UNIT-C", kNow + 3600);
  std::vector<std::thread> threads;
  std::atomic<int> issued{0}, refused{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = service_->enroll(withToken(token));
      (r ? issued : refused)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(1, issued.load());
  EXPECT_EQ(7, refused.load());
  EXPECT_EQ(1u, store_->certificatesOfDevice("UNIT-C")->size());
}

TEST_F(EnrollmentTokens, WorkAsAScepChallenge) {
  std::string token = makeToken("", "", kNow + 3600);
  auto key = *pki::PrivateKey::generate(pki::KeyType::kEcP256);
  enrollment::EnrollmentRequest r{enrollment::Protocol::kScep,
                                  "",
                                  Operation::kEnroll,
                                  makeTestCsr("CN=CAM-9", key, token),
                                  {},
                                  std::nullopt,
                                  {}};
  auto ok = service_->enroll(r);
  ASSERT_TRUE(ok) << ok.error().toString();
  EXPECT_EQ("CAM-9", ok->device_id);
  EXPECT_FALSE(service_->enroll(r));
}

}  // namespace
}  // namespace enroll::testing
