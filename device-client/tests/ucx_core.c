/* The part of the Unity-compatible runtime shared by the gtest adapter and the target runner. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "unity_compat.h"

static jmp_buf g_jmp;
static int g_in_test;

int ucx_invoke(ucx_test_fn fn) {
  int r;
  g_in_test = 1;
  r = setjmp(g_jmp);
  if (r == 0) fn();
  g_in_test = 0;
  return r;
}

void ucx_fail(const char *file, int line, const char *msg) {
  ucx_report(file, line, msg);
  if (g_in_test) longjmp(g_jmp, 1);
}

void ucx_ignore(const char *file, int line, const char *msg) {
  (void)file;
  (void)line;
  (void)msg;
  if (g_in_test) longjmp(g_jmp, 2);
}

void ucx_assert_int(long long expected, long long actual, int equal, const char *file, int line,
                    const char *expr) {
  char msg[200];
  if ((expected == actual) == (equal != 0)) return;
  snprintf(msg, sizeof(msg), "%s: expected %s%lld, was %lld", expr, equal ? "" : "not ", expected,
           actual);
  ucx_fail(file, line, msg);
}

void ucx_assert_range(long long lo, long long hi, long long actual, const char *file, int line,
                      const char *expr) {
  char msg[200];
  if (actual >= lo && actual <= hi) return;
  snprintf(msg, sizeof(msg), "%s: %lld is outside [%lld, %lld]", expr, actual, lo, hi);
  ucx_fail(file, line, msg);
}

void ucx_assert_memory(const void *expected, const void *actual, size_t len, const char *file,
                       int line, const char *expr) {
  char msg[200];
  size_t i;
  const unsigned char *e = (const unsigned char *)expected, *a = (const unsigned char *)actual;
  if (e == NULL || a == NULL) {
    ucx_fail(file, line, "memory compare with NULL");
    return;
  }
  for (i = 0; i < len; i++) {
    if (e[i] != a[i]) {
      snprintf(msg, sizeof(msg), "%s: byte %lu differs: expected 0x%02x, was 0x%02x", expr,
               (unsigned long)i, e[i], a[i]);
      ucx_fail(file, line, msg);
      return;
    }
  }
}

void ucx_assert_string(const char *expected, const char *actual, const char *file, int line,
                       const char *expr) {
  char msg[240];
  if (expected != NULL && actual != NULL && strcmp(expected, actual) == 0) return;
  snprintf(msg, sizeof(msg), "%s: expected \"%.80s\", was \"%.80s\"", expr,
           expected ? expected : "(null)", actual ? actual : "(null)");
  ucx_fail(file, line, msg);
}
