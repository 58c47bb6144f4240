/* The Unity-style runner used on the target (and natively): runs every group, prints one line
 * per test and a final "PASS" or "FAIL" line, and returns the number of failures. The groups
 * are listed in UCX_GROUPS (a comma-separated list of function names) at compile time. */
#include "ucx_runner.h"

#include <stdio.h>

#include "unity_compat.h"

static const char *g_group = "";
static unsigned g_run, g_failed, g_ignored;
static const char *g_current;

void ucx_set_group(const char *name) { g_group = name; }

void ucx_report(const char *file, int line, const char *msg) {
  printf("%s:%d:%s.%s:FAIL: %s\n", file, line, g_group, g_current ? g_current : "?", msg);
}

void ucx_run(const char *name, ucx_test_fn fn, const char *file, int line) {
  int r;
  (void)file;
  (void)line;
  g_current = name;
  ucx_before_test();
  r = ucx_invoke(fn);
  ucx_after_test(g_group, name);
  g_run++;
  if (r == 1)
    g_failed++;
  else if (r == 2) {
    g_ignored++;
    printf("%s.%s:IGNORE\n", g_group, name);
  } else
    printf("%s.%s:PASS\n", g_group, name);
  g_current = NULL;
}

int ucx_finish(void) {
  printf("-----------------------\n%u Tests %u Failures %u Ignored\n", g_run, g_failed, g_ignored);
  printf("%s\n", g_failed == 0 && g_run > 0 ? "PASS" : "FAIL");
  return (int)g_failed;
}
