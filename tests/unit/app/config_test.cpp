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

}  // namespace
}  // namespace enroll::app
