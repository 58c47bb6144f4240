/* hw-tests: the device client's Unity-style tests on emulated Cortex-M, with the stack and
 * heap peak of every test. Prints PASS as its last line and exits 0 only when all passed. */
#include <stdio.h>

#include "platform.h"
#include "ucx_runner.h"
#include "unity_compat.h"

void ucx_group_base64(void);
void ucx_group_pkcs7(void);
void ucx_group_csr(void);
void ucx_group_http(void);
void ucx_group_coap(void);
void ucx_group_sched(void);
void ucx_group_bundle(void);

static size_t g_max_stack, g_max_heap;

void ucx_before_test(void) {
  hw_stack_paint();
  hw_heap_reset_peak();
}

void ucx_after_test(const char *group, const char *name) {
  size_t s = hw_stack_peak(), h = hw_heap_peak();
  if (s > g_max_stack) g_max_stack = s;
  if (h > g_max_heap) g_max_heap = h;
  printf("  [mem] %s.%s stack=%u heap=%u\n", group, name, (unsigned)s, (unsigned)h);
}

int main(void) {
  int failures;
  hw_init();
  printf("edc hw-tests on %s (QEMU %s)\n", EDC_HW_CPU, EDC_HW_MACHINE);
  ucx_group_base64();
  ucx_group_pkcs7();
  ucx_group_csr();
  ucx_group_http();
  ucx_group_coap();
  ucx_group_sched();
  ucx_group_bundle();
  printf("max over tests: stack=%u heap=%u (leaked now: %u)\n", (unsigned)g_max_stack,
         (unsigned)g_max_heap, (unsigned)hw_heap_current());
  failures = ucx_finish();
  return failures == 0 ? 0 : 1;
}
