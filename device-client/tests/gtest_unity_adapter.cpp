// Runs Unity-style test files under GoogleTest: every RUN_TEST(fn) in the group function named
// by UCX_GROUP_FN becomes a gtest test (suite = the UCX_GROUP name), so CTest and IDEs see each
// test by name. Failures of the Unity macros become ADD_FAILURE_AT at the same file and line.
#include <gtest/gtest.h>

#include <string>

#include "unity_compat.h"

extern "C" void UCX_GROUP_FN(void);

namespace {

std::string g_group = "Unity";

class UnityTest : public testing::Test {
 public:
  explicit UnityTest(ucx_test_fn fn) : fn_(fn) {}
  void TestBody() override {
    if (ucx_invoke(fn_) == 2) GTEST_SKIP() << "ignored";
  }

 private:
  ucx_test_fn fn_;
};

}  // namespace

extern "C" void ucx_set_group(const char *name) { g_group = name; }

extern "C" void ucx_report(const char *file, int line, const char *msg) {
  ADD_FAILURE_AT(file, line) << msg;
}

extern "C" void ucx_run(const char *name, ucx_test_fn fn, const char *file, int line) {
  testing::RegisterTest(g_group.c_str(), name, nullptr, nullptr, file, line,
                        [fn]() -> testing::Test * { return new UnityTest(fn); });
}

int main(int argc, char **argv) {
  testing::InitGoogleTest(&argc, argv);
  UCX_GROUP_FN();
  return RUN_ALL_TESTS();
}
