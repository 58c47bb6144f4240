// AdminService without HTTP: routing, roles, JSON validation, and the audit entry of every call.
#include "server/admin/admin_service.h"

#include <gtest/gtest.h>

#include "pki/certificate_request.h"
#include "server/store/sqlite/sqlite_dialect.h"
#include "tests/support/enrolld_process.h"

namespace enroll::admin {
namespace {

class AdminServiceTest : public ::testing::Test {
 protected:
  static constexpr std::time_t kNow = 1893456000;
  void SetUp() override {
    auto s = store::openSqliteStore(dir_.path() + "/admin.db");
    ASSERT_TRUE(s) << s.error().toString();
    store_ = std::move(s).value();
    auto ca = createAdminCa("test", kNow);
    ASSERT_TRUE(ca);
    ca_.emplace(std::move(ca).value());
    service_ = std::make_unique<AdminService>(AdminContext{
        *store_, clock_, [](const std::string& l) { return l.empty() || l == "line"; }, &*ca_});
  }
  AdminResponse call(store::Role role, const std::string& method, const std::string& path,
                     const std::string& body = {},
                     std::vector<std::pair<std::string, std::string>> query = {}) {
    AdminRequest r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.query = std::move(query);
    r.principal = {"tester", role, "ff"};
    return service_->handle(r);
  }
  std::vector<store::AuditEntry> audit() { return *store_->auditEntries(0, 1000); }

  enroll::testing::TempDir dir_;
  pki::FixedClock clock_{kNow};
  std::unique_ptr<store::Store> store_;
  std::optional<AdminCa> ca_;
  std::unique_ptr<AdminService> service_;
};

TEST_F(AdminServiceTest, AnswersWhoIsCalling) {
  auto r = call(store::Role::kOperator, "GET", "/api/v1/whoami");
  EXPECT_EQ(200, r.status);
  EXPECT_NE(std::string::npos, r.body.find(R"("role":"operator")"));
}

TEST_F(AdminServiceTest, RefusesARoleBelowTheRoutesAndAuditsTheRefusal) {
  auto r = call(store::Role::kViewer, "POST", "/api/v1/tokens", R"({"count":1})");
  EXPECT_EQ(403, r.status);
  EXPECT_NE(std::string::npos, r.body.find("needs operator"));
  EXPECT_EQ(0U, store_->listTokens("")->size());
  auto entries = audit();
  ASSERT_EQ(1U, entries.size());
  EXPECT_EQ("operator:tester", entries[0].actor);
  EXPECT_EQ("admin.tokens.create", entries[0].action);
  EXPECT_EQ("permission_denied", entries[0].outcome);
}

TEST_F(AdminServiceTest, TellsUnknownPathsFromWrongMethods) {
  EXPECT_EQ(404, call(store::Role::kAdmin, "GET", "/api/v1/nothing").status);
  EXPECT_EQ(405, call(store::Role::kAdmin, "PUT", "/api/v1/tokens").status);
  EXPECT_EQ(404, call(store::Role::kAdmin, "GET", "/api/v1/devices/").status);
  EXPECT_EQ(3U, audit().size());
}

TEST_F(AdminServiceTest, RefusesBadJsonAndUnknownFieldsWithAReason) {
  auto bad = call(store::Role::kAdmin, "POST", "/api/v1/tokens", "{not json");
  EXPECT_EQ(400, bad.status);
  EXPECT_NE(std::string::npos, bad.body.find("not valid JSON"));
  auto typo = call(store::Role::kAdmin, "POST", "/api/v1/tokens", R"({"cuont":3})");
  EXPECT_EQ(400, typo.status);
  EXPECT_NE(std::string::npos, typo.body.find("unknown field 'cuont'"));
  auto type = call(store::Role::kAdmin, "POST", "/api/v1/tokens", R"({"count":"3"})");
  EXPECT_EQ(400, type.status);
  auto array = call(store::Role::kAdmin, "POST", "/api/v1/tokens", "[1,2]");
  EXPECT_EQ(400, array.status);
  EXPECT_EQ(0U, store_->listTokens("")->size());
}

TEST_F(AdminServiceTest, MakesTokensOnlyForKnownLabels) {
  auto r = call(store::Role::kOperator, "POST", "/api/v1/tokens",
                R"({"label":"line","count":3,"batch":"B1","expires_days":7})");
  EXPECT_EQ(201, r.status);
  EXPECT_EQ(3U, store_->listTokens("line")->size());
  EXPECT_NE(std::string::npos, r.body.find("edt_"));
  EXPECT_EQ(kNow + 7 * 86400, store_->listTokens("line")->front().expires_at);
  EXPECT_EQ(404,
            call(store::Role::kOperator, "POST", "/api/v1/tokens", R"({"label":"nope","count":1})")
                .status);
  EXPECT_EQ(400,
            call(store::Role::kOperator, "POST", "/api/v1/tokens", R"({"count":2,"devices":["A"]})")
                .status);
}

TEST_F(AdminServiceTest, ImportsTheRegistryOrReportsEveryBadRow) {
  auto ok = call(store::Role::kOperator, "POST", "/api/v1/registry/import",
                 "id,model\nA1,M\nA2,M\n", {{"format", "csv"}});
  EXPECT_EQ(200, ok.status);
  EXPECT_NE(std::string::npos, ok.body.find(R"("new":2)"));
  auto bad = call(store::Role::kOperator, "POST", "/api/v1/registry/import",
                  "id,model\nB1,M\nB1,M\n", {{"format", "csv"}});
  EXPECT_EQ(422, bad.status);
  EXPECT_NE(std::string::npos, bad.body.find(R"("row":2)"));
  EXPECT_EQ(pki::ErrorCode::kNotFound, store_->findDevice("B1").error().code);
}

TEST_F(AdminServiceTest, SignsAnOperatorCsrAndPinsItWithItsRole) {
  auto key = pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto csr = pki::CertificateRequest::create(*key, "carol");
  std::string pem = csr->toPem();
  std::string escaped;
  for (char c : pem) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  auto r = call(store::Role::kAdmin, "POST", "/api/v1/operators",
                R"({"name":"carol","role":"viewer","csr":")" + escaped + R"("})");
  ASSERT_EQ(201, r.status) << r.body;
  auto ops = *store_->listOperators();
  ASSERT_EQ(1U, ops.size());
  EXPECT_EQ(store::Role::kViewer, ops[0].role);
  EXPECT_EQ(403, call(store::Role::kOperator, "POST", "/api/v1/operators", "{}").status);
  EXPECT_EQ(400, call(store::Role::kAdmin, "POST", "/api/v1/operators",
                      R"({"name":"bad name,O=x","role":"viewer","csr":"x"})")
                     .status);
  EXPECT_EQ(400, call(store::Role::kAdmin, "DELETE", "/api/v1/operators/tester").status);
}

TEST_F(AdminServiceTest, AuthenticatesOnlyPinnedCertificatesOfTheAdminCa) {
  OperatorAuthenticator auth(ca_->certificate, *store_);
  auto key = pki::PrivateKey::generate(pki::KeyType::kEcP256);
  auto cert = issueOperatorCertificate(*ca_, "dave", store::Role::kOperator, key->native(), kNow);
  ASSERT_TRUE(cert);
  EXPECT_EQ(pki::ErrorCode::kUnauthenticated, auth.authenticate({}, kNow).error().code);
  EXPECT_EQ(pki::ErrorCode::kPermissionDenied, auth.authenticate({*cert}, kNow).error().code);
  ASSERT_TRUE(
      store_->addOperator({"dave", cert->fingerprintSha256(), store::Role::kOperator, kNow}));
  auto p = auth.authenticate({*cert}, kNow);
  ASSERT_TRUE(p) << p.error().toString();
  EXPECT_EQ("dave", p->name);
  EXPECT_EQ(store::Role::kOperator, p->role);
  // Another admin CA's certificate, even with the same name, is not an operator.
  auto other = createAdminCa("other", kNow);
  auto forged = issueOperatorCertificate(*other, "dave", store::Role::kAdmin, key->native(), kNow);
  EXPECT_EQ(pki::ErrorCode::kUnauthenticated, auth.authenticate({*forged}, kNow).error().code);
  // Expired: two years later.
  EXPECT_EQ(pki::ErrorCode::kUnauthenticated,
            auth.authenticate({*cert}, kNow + 800 * 86400).error().code);
}

}  // namespace
}  // namespace enroll::admin
