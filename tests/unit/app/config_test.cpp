#include "server/app/config.h"

#include <gtest/gtest.h>

namespace enroll::app {
namespace {

const char* kMinimal = R"({
  "cas": {"issuing": {"certificate": "ca.pem", "key": "ca.key"}},
  "profiles": {"device": {}},
  "labels": {"default": {}}
})";

std::string errorOf(const std::string& json) {
  try {
    parseConfig(json, "/data");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ReadsAMinimalFileWithDefaults) {
  Config c = parseConfig(kMinimal, "/data");
  EXPECT_EQ("0.0.0.0:8443", c.listen.at("est"));
  EXPECT_EQ("/data/enrolld.db", c.path(c.database_path));
  EXPECT_EQ("/abs/x", c.path("/abs/x"));
  EXPECT_EQ(365, c.profiles.at("device").lifetime_days);
  EXPECT_EQ("issuing", c.labels.at("default").ca);
}

TEST(Config, RefusesAnUnknownKeyWithItsPath) {
  std::string json =
      R"({"cas": {"issuing": {"certificate": "a", "key": "b"}}, "profiles": {"device": {"lifetme_days": 3}}, "labels": {"default": {}}})";
  EXPECT_EQ("profiles.device.lifetme_days: unknown key", errorOf(json));
  EXPECT_EQ("colour: unknown key", errorOf(R"({"colour": 1, "cas": {}, "labels": {}})"));
}

TEST(Config, RefusesAWrongTypeWithItsPath) {
  std::string json =
      R"({"cas": {"issuing": {"certificate": "a", "key": "b"}}, "profiles": {"device": {}}, "labels": {"default": {"allow_basic": "yes"}}})";
  EXPECT_EQ("labels.default.allow_basic: must be true or false", errorOf(json));
  EXPECT_EQ("http.max_threads: must be an integer",
            errorOf(R"({"http": {"max_threads": "many"}, "cas": {}, "labels": {}})"));
}

TEST(Config, RefusesOutOfRangeNumbers) {
  EXPECT_EQ("http.max_threads: must be between 1 and 1024",
            errorOf(R"({"http": {"max_threads": 0}})"));
  EXPECT_EQ("coap.enrollment_threads: must be between 0 and 256",
            errorOf(R"({"coap": {"enrollment_threads": 257}})"));
}

TEST(Config, ReadsTheCoapEnrollmentThreads) {
  EXPECT_EQ(8, parseConfig(kMinimal, "/data").coap_enrollment_threads);
  std::string json = kMinimal;
  json.insert(1, R"("coap": {"enrollment_threads": 0},)");
  EXPECT_EQ(0, parseConfig(json, "/data").coap_enrollment_threads);
}

TEST(Config, RefusesBrokenReferences) {
  std::string json =
      R"({"cas": {"issuing": {"certificate": "a", "key": "b"}}, "profiles": {"device": {}}, "labels": {"default": {"profile": "nope"}}})";
  EXPECT_EQ("labels.default.profile: no profile named 'nope'", errorOf(json));
  json =
      R"({"cas": {"issuing": {"certificate": "a", "key": "b"}}, "profiles": {"device": {}}, "labels": {"default": {"bootstrap_trust": ["x"]}}})";
  EXPECT_EQ("labels.default.bootstrap_trust: no trust anchor set 'x'", errorOf(json));
}

TEST(Config, RefusesUnknownTemplateVariables) {
  std::string json =
      R"({"cas": {"issuing": {"certificate": "a", "key": "b"}}, "profiles": {"device": {"subject": "CN={device.colour}"}}, "labels": {"default": {}}})";
  EXPECT_EQ("profiles.device: unknown template variable {device.colour}", errorOf(json));
}

TEST(Config, RefusesBadListenAddressesAndNonJson) {
  EXPECT_NE(std::string::npos, errorOf(R"({"listen": {"est": "nohostport"}})").find("listen.est"));
  EXPECT_NE(std::string::npos, errorOf("{not json").find("not valid JSON"));
}

TEST(Config, RequiresADefaultLabel) {
  std::string json =
      R"({"cas": {"issuing": {"certificate": "a", "key": "b"}}, "profiles": {"device": {}}, "labels": {"x": {}}})";
  EXPECT_EQ("labels: a label named \"default\" is required", errorOf(json));
}

TEST(Config, ReadsPublishSettingsAndDefaultsTheOcspResponderFiles) {
  Config c = parseConfig(R"({
    "cas": {"issuing": {"certificate": "ca.pem", "key": "ca.key"}},
    "publish": {"base_url": "http://pki.example:8080/", "crl_next_update_seconds": 3600},
    "profiles": {"device": {}},
    "labels": {"default": {}}
  })",
                         "/data");
  EXPECT_EQ("http://pki.example:8080", c.publish.base_url);  // trailing slash dropped
  EXPECT_EQ(3600, c.publish.crl_next_update_seconds);
  EXPECT_EQ(3600, c.publish.delta_crl_next_update_seconds);
  EXPECT_EQ("ca/issuing-ocsp.pem", c.cas.at("issuing").ocsp_certificate);
  EXPECT_EQ("ca/issuing-ocsp.key", c.cas.at("issuing").ocsp_key);
  EXPECT_TRUE(parseConfig(kMinimal, "/data").publish.base_url.empty());
}

TEST(Config, RefusesAPublishUrlThatIsNotHttp) {
  EXPECT_EQ("publish.base_url: must start with http:// (RFC 5280 4.2.1.13)",
            errorOf(R"({"publish": {"base_url": "ldap://x"}})"));
  EXPECT_EQ("publish.delta_crl_base_seconds: must be between 60 and 31622400",
            errorOf(R"({"publish": {"delta_crl_base_seconds": 1}})"));
}

}  // namespace
}  // namespace enroll::app
