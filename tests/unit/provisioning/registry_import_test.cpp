#include "provisioning/registry_import.h"

#include <gtest/gtest.h>

namespace enroll::provisioning {
namespace {

const std::string kFp(64, 'a');

TEST(RegistryCsv, ReadsQuotedFieldsLabelsAndStates) {
  auto f = parseRegistryCsv(
      "id,model,batch,labels,state,bootstrap_fingerprint\r\n"
      "D-1,\"Cam, outdoor\",B7,site=berlin;line=3,,\n"
      "D-2,Cam,B7,\"{\"\"site\"\":\"\"oslo\"\"}\",blocked," +
      kFp + "\n");
  ASSERT_TRUE(f.errors.empty()) << f.errors[0].reason;
  ASSERT_EQ(2u, f.devices.size());
  EXPECT_EQ("Cam, outdoor", f.devices[0].model);
  EXPECT_EQ("{\"line\":\"3\",\"site\":\"berlin\"}", f.devices[0].labels);
  EXPECT_EQ(store::DeviceState::kExpected, f.devices[0].state);
  EXPECT_EQ("{\"site\":\"oslo\"}", f.devices[1].labels);
  EXPECT_EQ(store::DeviceState::kBlocked, f.devices[1].state);
  EXPECT_EQ(kFp, f.devices[1].bootstrap_fingerprint);
}

TEST(RegistryCsv, ReportsEveryBadRowWithItsNumber) {
  auto f = parseRegistryCsv(
      "id,state,bootstrap_fingerprint\n"
      "D-1,,\n"
      ",,\n"
      "D-3,lost,\n"
      "D-4,,abc\n"
      "D-1,,\n"
      "D-6,\n");
  ASSERT_EQ(5u, f.errors.size());
  EXPECT_EQ(2u, f.errors[0].row);
  EXPECT_EQ("id is empty", f.errors[0].reason);
  EXPECT_EQ(3u, f.errors[1].row);
  EXPECT_NE(std::string::npos, f.errors[1].reason.find("'lost'"));
  EXPECT_NE(std::string::npos, f.errors[2].reason.find("64 hex digits"));
  EXPECT_NE(std::string::npos, f.errors[3].reason.find("more than once"));
  EXPECT_NE(std::string::npos, f.errors[4].reason.find("has 2 fields"));
}

TEST(RegistryCsv, RefusesUnknownColumnsAndAMissingIdColumn) {
  auto f = parseRegistryCsv("id,colour\nD-1,red\n");
  ASSERT_EQ(1u, f.errors.size());
  EXPECT_EQ("unknown column 'colour'", f.errors[0].reason);
  EXPECT_FALSE(parseRegistryCsv("model\nM\n").errors.empty());
  EXPECT_FALSE(parseRegistryCsv("").errors.empty());
  EXPECT_FALSE(parseRegistryCsv("id\n\"D-1\n").errors.empty());
}

TEST(RegistryJson, ReadsAnArrayOfObjects) {
  auto f = parseRegistryJson(
      R"([{"id": "J-1", "model": "M", "labels": {"site": "x"}}, {"id": "J-2", "state": "retired"}])");
  ASSERT_TRUE(f.errors.empty());
  ASSERT_EQ(2u, f.devices.size());
  EXPECT_EQ("{\"site\":\"x\"}", f.devices[0].labels);
  EXPECT_EQ(store::DeviceState::kRetired, f.devices[1].state);
}

TEST(RegistryJson, RefusesUnknownFieldsWrongTypesAndNonArrays) {
  auto f = parseRegistryJson(R"([{"id": "J-1", "colour": "red"}, {"id": 7}, "x"])");
  ASSERT_EQ(3u, f.errors.size());
  EXPECT_EQ(1u, f.errors[0].row);
  EXPECT_NE(std::string::npos, f.errors[1].reason.find("must be a string"));
  EXPECT_FALSE(parseRegistryJson(R"({"id": "J-1"})").errors.empty());
  EXPECT_FALSE(parseRegistryJson("[{").errors.empty());
}

}  // namespace
}  // namespace enroll::provisioning
