/**
 * @file unity_compat.h
 * A Unity-compatible assertion API (the subset our tests use), written for this project since
 * Unity is not packaged in Debian. The same test files run
 *  - on the host under GoogleTest (gtest_unity_adapter.cpp registers each RUN_TEST as a gtest
 *    test, suite = UCX_GROUP name), and
 *  - on Cortex-M under QEMU (ucx_runner.c runs them and prints a final PASS or FAIL line).
 * A failed assertion reports and leaves the test with longjmp, as Unity does.
 */
#ifndef UNITY_COMPAT_H
#define UNITY_COMPAT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*ucx_test_fn)(void);

/** Set the group (gtest suite) name for the following RUN_TEST calls. */
void ucx_set_group(const char *name);
/** Run (target runner) or register (gtest adapter) one test. */
void ucx_run(const char *name, ucx_test_fn fn, const char *file, int line);
/** Report a failure and leave the current test. */
void ucx_fail(const char *file, int line, const char *msg);
/** Leave the current test as ignored. */
void ucx_ignore(const char *file, int line, const char *msg);
void ucx_assert_int(long long expected, long long actual, int equal, const char *file, int line,
                    const char *expr);
void ucx_assert_range(long long lo, long long hi, long long actual, const char *file, int line,
                      const char *expr);
void ucx_assert_memory(const void *expected, const void *actual, size_t len, const char *file,
                       int line, const char *expr);
void ucx_assert_string(const char *expected, const char *actual, const char *file, int line,
                       const char *expr);

/* ---- the shared runner core (ucx_core.c) ---- */
/** Run @p fn under setjmp; returns 0 passed, 1 failed, 2 ignored. */
int ucx_invoke(ucx_test_fn fn);
/** Where failures go: printed by the target runner, ADD_FAILURE_AT under gtest. */
void ucx_report(const char *file, int line, const char *msg);

#define UCX_GROUP(name) ucx_set_group(name)
#define RUN_TEST(fn) ucx_run(#fn, fn, __FILE__, __LINE__)

#define TEST_FAIL_MESSAGE(msg) ucx_fail(__FILE__, __LINE__, (msg))
#define TEST_FAIL() ucx_fail(__FILE__, __LINE__, "failed")
#define TEST_IGNORE_MESSAGE(msg) ucx_ignore(__FILE__, __LINE__, (msg))
#define TEST_ASSERT_TRUE(c)                                       \
  do {                                                            \
    if (!(c)) ucx_fail(__FILE__, __LINE__, "expected TRUE: " #c); \
  } while (0)
#define TEST_ASSERT_FALSE(c)                                    \
  do {                                                          \
    if (c) ucx_fail(__FILE__, __LINE__, "expected FALSE: " #c); \
  } while (0)
#define TEST_ASSERT(c) TEST_ASSERT_TRUE(c)
#define TEST_ASSERT_TRUE_MESSAGE(c, m)           \
  do {                                           \
    if (!(c)) ucx_fail(__FILE__, __LINE__, (m)); \
  } while (0)
#define TEST_ASSERT_NULL(p)                                              \
  do {                                                                   \
    if ((p) != NULL) ucx_fail(__FILE__, __LINE__, "expected NULL: " #p); \
  } while (0)
#define TEST_ASSERT_NOT_NULL(p)                                              \
  do {                                                                       \
    if ((p) == NULL) ucx_fail(__FILE__, __LINE__, "expected non-NULL: " #p); \
  } while (0)
#define TEST_ASSERT_EQUAL_INT(e, a) \
  ucx_assert_int((long long)(e), (long long)(a), 1, __FILE__, __LINE__, #a)
#define TEST_ASSERT_EQUAL(e, a) TEST_ASSERT_EQUAL_INT(e, a)
#define TEST_ASSERT_EQUAL_UINT(e, a) TEST_ASSERT_EQUAL_INT(e, a)
#define TEST_ASSERT_EQUAL_UINT32(e, a) TEST_ASSERT_EQUAL_INT(e, a)
#define TEST_ASSERT_EQUAL_INT64(e, a) TEST_ASSERT_EQUAL_INT(e, a)
#define TEST_ASSERT_EQUAL_size_t(e, a) TEST_ASSERT_EQUAL_INT(e, a)
#define TEST_ASSERT_NOT_EQUAL(e, a) \
  ucx_assert_int((long long)(e), (long long)(a), 0, __FILE__, __LINE__, #a)
#define TEST_ASSERT_GREATER_OR_EQUAL(t, a) \
  ucx_assert_range((long long)(t), 0x7fffffffffffffffLL, (long long)(a), __FILE__, __LINE__, #a)
#define TEST_ASSERT_LESS_OR_EQUAL(t, a) \
  ucx_assert_range(-0x7fffffffffffffffLL, (long long)(t), (long long)(a), __FILE__, __LINE__, #a)
#define TEST_ASSERT_INT_WITHIN(d, e, a)                                              \
  ucx_assert_range((long long)(e) - (long long)(d), (long long)(e) + (long long)(d), \
                   (long long)(a), __FILE__, __LINE__, #a)
#define TEST_ASSERT_EQUAL_MEMORY(e, a, len) \
  ucx_assert_memory((e), (a), (len), __FILE__, __LINE__, #a)
#define TEST_ASSERT_EQUAL_STRING(e, a) ucx_assert_string((e), (a), __FILE__, __LINE__, #a)

#ifdef __cplusplus
}
#endif
#endif /* UNITY_COMPAT_H */
