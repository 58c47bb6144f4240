// The one codec for certificate selectors: flags, JSON and query parameters read alike.
#include "server/admin/selector_codec.h"

#include <gtest/gtest.h>

namespace enroll::admin {
namespace {

TEST(SelectorCodec, ReadsTimesAsDatesTimestampsOrSeconds) {
  EXPECT_EQ(1893456000, *parseTimeText("2030-01-01"));
  EXPECT_EQ(1893456000 + 3661, *parseTimeText("2030-01-01T01:01:01Z"));
  EXPECT_EQ(42, *parseTimeText("42"));
  EXPECT_FALSE(parseTimeText("yesterday"));
  EXPECT_FALSE(parseTimeText("2030-01-01 junk"));
}

TEST(SelectorCodec, AppliesFlagsAndLeavesOthers) {
  store::CertificateSelector sel;
  std::vector<std::string> values = {"B1", "site=north", "AA:BB", "2030-01-01", "hold"};
  size_t i = 0;
  auto next = [&] { return values.at(i++); };
  EXPECT_TRUE(applySelectorFlag("--batch", next, &sel));
  EXPECT_TRUE(applySelectorFlag("--device-label", next, &sel));
  EXPECT_TRUE(applySelectorFlag("--bootstrap-ca", next, &sel));
  EXPECT_TRUE(applySelectorFlag("--issued-from", next, &sel));
  EXPECT_TRUE(applySelectorFlag("--status", next, &sel));
  EXPECT_FALSE(applySelectorFlag("--reason", next, &sel));
  EXPECT_EQ("B1", sel.batch);
  EXPECT_EQ("north", sel.device_labels["site"]);
  EXPECT_EQ("aabb", sel.bootstrap_ca);
  EXPECT_EQ(1893456000, sel.issued_from);
  EXPECT_EQ(store::CertStatus::kHold, *sel.status);
  auto bad = [] { return std::string("lost"); };
  EXPECT_THROW(applySelectorFlag("--status", bad, &sel), std::invalid_argument);
  EXPECT_THROW(applySelectorFlag("--device-label", bad, &sel), std::invalid_argument);
}

TEST(SelectorCodec, RoundTripsThroughJson) {
  store::CertificateSelector sel;
  sel.serials = {"ab", "cd"};
  sel.device_ids = {"D1"};
  sel.model = "M";
  sel.device_labels["tier"] = "gold";
  sel.expiring_before = 1893456000;
  sel.status = store::CertStatus::kRevoked;
  auto back = selectorFromJson(selectorToJson(sel));
  ASSERT_TRUE(back) << back.error().toString();
  EXPECT_EQ(sel.serials, back->serials);
  EXPECT_EQ(sel.device_ids, back->device_ids);
  EXPECT_EQ("M", back->model);
  EXPECT_EQ("gold", back->device_labels["tier"]);
  EXPECT_EQ(1893456000, back->expiring_before);
  EXPECT_EQ(store::CertStatus::kRevoked, *back->status);
}

TEST(SelectorCodec, RefusesUnknownFieldsAndWrongTypes) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("bacth", "B1");
  EXPECT_NE(std::string::npos, selectorFromJson(o).error().message.find("unknown selector field"));
  Poco::JSON::Object::Ptr t = new Poco::JSON::Object;
  t->set("serials", "not-a-list");
  EXPECT_FALSE(selectorFromJson(t));
  EXPECT_FALSE(selectorFromQuery({{"colour", "red"}}, {}));
  auto q = selectorFromQuery({{"serial", "a"}, {"serial", "b"}, {"limit", "5"}}, {"limit"});
  ASSERT_TRUE(q);
  EXPECT_EQ(2U, q->serials.size());
}

}  // namespace
}  // namespace enroll::admin
